"""The check-ins' rules on their own, with no server: who may act on a case, what a
contact must say, which resource a referral may name, and feedback codes. The clock is
the test's own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from services.checkins.domain import (
    ALPHABET,
    check_contact,
    code_hash,
    ends_offers,
    ensure_may_name,
    ensure_own,
    ensure_past,
    ensure_referable,
    new_code,
)
from shared.errors import Invalid, NotAllowed
from shared.tokens import Principal, Role
from shared.vocab import CheckInOutcome, InitiatedBy

pytestmark = pytest.mark.unit

NOON = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@dataclass
class Case:
    supporter_id: str = "S-1"
    supporter_agency_id: str = "CA0190000"
    agency_id: str = "CA0190000"


@dataclass
class Resource:
    agency_id: str | None = "CA0190000"
    region_wide: bool = False
    active: bool = True


ALEX = Principal("S-1", "CA0190000", Role.SUPPORTER)


def test_a_supporter_acts_only_on_their_own_cases():
    ensure_own(ALEX, Case(), "mine")
    for other in (Case(supporter_id="S-2"), Case(supporter_agency_id="TX0000000")):
        with pytest.raises(NotAllowed, match="another supporter's"):
            ensure_own(ALEX, other, "This contact is another supporter's.")


def test_a_coordinator_names_only_assignments_of_officers_of_their_agency():
    coordinator = Principal("C-1", "CA0190000", Role.COORDINATOR)
    ensure_may_name(coordinator, Case(supporter_id="S-9"))
    with pytest.raises(NotAllowed, match="another agency's"):
        ensure_may_name(coordinator, Case(agency_id="TX0000000"))
    with pytest.raises(NotAllowed, match="another supporter's"):
        ensure_may_name(ALEX, Case(supporter_id="S-2"))


def test_a_contact_names_its_officer_only_when_it_answers_no_check_in():
    check_contact(uuid.uuid4(), None, InitiatedBy.SCHEDULED_CHECKIN)
    check_contact(None, "B1", InitiatedBy.SELF_REFERRAL)
    cases = [
        ((uuid.uuid4(), "B1", InitiatedBy.SCHEDULED_CHECKIN), "personnel_id"),
        ((None, None, InitiatedBy.PEER_OUTREACH), "personnel_id"),
        ((None, "B1", InitiatedBy.SCHEDULED_CHECKIN), "initiated_by"),
    ]
    for arguments, field in cases:
        with pytest.raises(Invalid) as refused:
            check_contact(*arguments)
        assert refused.value.field == field


def test_only_a_decline_or_a_retraction_ends_the_offers():
    assert ends_offers(CheckInOutcome.DECLINED) and ends_offers(CheckInOutcome.CANCELLED)
    assert not ends_offers(CheckInOutcome.CONTACTED) and not ends_offers(CheckInOutcome.EXPIRED)


def test_a_referral_names_an_active_resource_of_the_agency_or_the_region():
    ensure_referable(Resource(), "CA0190000")
    ensure_referable(Resource(agency_id=None, region_wide=True), "CA0190000")
    for resource in (None, Resource(agency_id="TX0000000"), Resource(active=False)):
        with pytest.raises(Invalid) as refused:
            ensure_referable(resource, "CA0190000")
        assert refused.value.field == "resource_id"


def test_an_exception_may_be_dated_today_anywhere_but_not_later():
    ensure_past(date(2026, 12, 6), NOON)
    ensure_past(date(2026, 12, 7), NOON)  # already the 7th east of UTC+12
    with pytest.raises(Invalid):
        ensure_past(date(2026, 12, 8), NOON)


def test_feedback_codes_are_read_off_a_card_and_match_however_typed():
    code = new_code()
    groups = code.split("-")
    assert [len(g) for g in groups] == [4, 4, 4] and set("".join(groups)) <= set(ALPHABET)
    assert code_hash(code) == code_hash(f" {code.lower().replace('-', ' ')} ")
    assert code_hash(code) != code_hash(new_code())
