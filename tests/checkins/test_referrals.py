"""Referrals: a supporter refers the officer of a contact they logged to a resource the
officer's agency may use, known from the roster's resource events; `ReferralMade`
carries codes and ids only. Real NATS, real HTTP, both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.checkins.store import ReferralRow, ResourceRow
from shared.events import CheckInScheduled, ReferralMade, ResourceUpdated
from shared.streams import CHECKINS, EVENTS
from shared.tokens import Role
from shared.vocab import ResourceType
from tests.checkins.scenario import assigned, contact
from tests.support.bus import EventLog, publish
from tests.support.clients import client
from tests.support.database import database_rows
from tests.support.waiting import await_until

REFERRAL_MADE_KEYS = {
    "event_id",
    "agency_id",
    "occurred_at",
    "referral_id",
    "contact_id",
    "resource_type",
    "resource_id",
    "urgency",
}


def resource(
    agency: str, resource_id: str, resource_type: ResourceType = ResourceType.EAP, **more
) -> ResourceUpdated:
    """A resource as the roster announces it: `agency` owns it, or wrote it if
    region-wide."""
    flags = {"region_wide": False, "crisis_line": False, "always_open": False, "active": True}
    return ResourceUpdated(
        agency_id=agency, resource_id=resource_id, resource_type=resource_type, **flags | more
    )


async def known(checkins, *resource_ids: str) -> dict[str, ResourceRow]:
    """The read model, once it holds every one of `resource_ids`."""

    async def rows() -> dict[str, ResourceRow] | None:
        held = {row.resource_id: row for row in await database_rows(checkins, ResourceRow)}
        return held if set(resource_ids) <= held.keys() else None

    return await await_until(rows, what="the resources in the read model")


async def directory(checkins, agency: str) -> str:
    """Announce the agency's EAP, a region-wide crisis line written from another agency,
    that agency's own chaplain and the agency's retired clinician; returns the other
    agency."""
    other = "T" + uuid.uuid4().hex[:12].upper()
    await publish(
        checkins.nats_url,
        resource(agency, "own-eap"),
        resource(other, "region-crisis-line", ResourceType.CRISIS_LINE, region_wide=True),
        resource(other, "other-chaplain", ResourceType.CHAPLAIN),
        resource(agency, "retired-clinician", ResourceType.CLINICIAN, active=False),
    )
    await known(checkins, "own-eap", "region-crisis-line", "other-chaplain", "retired-clinician")
    return other


async def logged_contact(checkins, agency: str) -> str:
    """A contact the supporter S-A logged for the first offer of a new assignment."""
    subject = f"ps.{agency}.checkin.scheduled"
    async with EventLog(checkins.nats_url, subject, CHECKINS.name) as log:
        await publish(checkins.nats_url, assigned(agency, supporter_id="S-A"))
        [scheduled] = await log.wait_for(CheckInScheduled)
    async with client(checkins, agency, Role.SUPPORTER, "S-A") as caller:
        answer = await caller.post("/v1/contacts", json=contact(scheduled.checkin_id))
    assert answer.status_code == 201, answer.text
    return answer.json()["contact_id"]


def referral(contact_id: str, resource_id: str, urgency: str = "routine", **more) -> dict:
    return {"contact_id": contact_id, "resource_id": resource_id, "urgency": urgency, **more}


async def test_referrals_to_the_agencys_and_the_regions_resources_are_published(checkins, agency):
    await directory(checkins, agency)
    contact_id = await logged_contact(checkins, agency)
    subject = f"ps.{agency}.referral.made"
    async with EventLog(checkins.nats_url, subject, EVENTS.name) as log:
        async with client(checkins, agency, Role.SUPPORTER, "S-A") as supporter:
            own = await supporter.post("/v1/referrals", json=referral(contact_id, "own-eap"))
            regional = await supporter.post(
                "/v1/referrals", json=referral(contact_id, "region-crisis-line", "urgent")
            )
        assert own.status_code == 201, own.text
        assert regional.status_code == 201, regional.text
        made = await log.wait_for(ReferralMade, count=2)
    assert [set(a.json()) for a in (own, regional)] == [{"referral_id", "resource_type"}] * 2
    assert [a.json()["resource_type"] for a in (own, regional)] == ["eap", "crisis_line"]
    assert [
        (str(e.referral_id), e.agency_id, str(e.contact_id), e.resource_id, e.urgency) for e in made
    ] == [
        (own.json()["referral_id"], agency, contact_id, "own-eap", "routine"),
        (regional.json()["referral_id"], agency, contact_id, "region-crisis-line", "urgent"),
    ]
    # Codes and ids only: no personnel id, no officer, no supporter.
    assert [(s, set(payload)) for s, _, payload in log.raw] == [(subject, REFERRAL_MADE_KEYS)] * 2
    rows = await database_rows(checkins, ReferralRow)
    assert sorted((r.resource_id, r.resource_type, r.agency_id) for r in rows) == [
        ("own-eap", "eap", agency),
        ("region-crisis-line", "crisis_line", agency),
    ]


async def test_resources_the_officers_agency_cannot_use_are_refused(checkins, agency):
    await directory(checkins, agency)
    contact_id = await logged_contact(checkins, agency)
    async with client(checkins, agency, Role.SUPPORTER, "S-A") as supporter:
        for resource_id in ("other-chaplain", "retired-clinician", "never-announced"):
            answer = await supporter.post("/v1/referrals", json=referral(contact_id, resource_id))
            assert answer.status_code == 422, (resource_id, answer.text)
            assert [e["loc"] for e in answer.json()["errors"]] == [["resource_id"]]
    assert await database_rows(checkins, ReferralRow) == []


async def test_only_the_supporter_who_logged_the_contact_refers(checkins, agency):
    other = await directory(checkins, agency)
    contact_id = await logged_contact(checkins, agency)
    body = referral(contact_id, "own-eap")
    async with client(checkins, agency, Role.SUPPORTER, "S-B") as colleague:
        assert (await colleague.post("/v1/referrals", json=body)).status_code == 403
    async with client(checkins, other, Role.SUPPORTER, "S-A") as namesake:
        assert (await namesake.post("/v1/referrals", json=body)).status_code == 403
    async with client(checkins, agency, Role.COORDINATOR) as coordinator:
        assert (await coordinator.post("/v1/referrals", json=body)).status_code == 403
    async with client(checkins, agency, Role.SUPPORTER, "S-A") as supporter:
        unknown = referral(str(uuid.uuid4()), "own-eap")
        assert (await supporter.post("/v1/referrals", json=unknown)).status_code == 404
    assert await database_rows(checkins, ReferralRow) == []


async def test_free_text_is_refused_with_nothing_stored_or_published(checkins, agency):
    await directory(checkins, agency)
    contact_id = await logged_contact(checkins, agency)
    subject = f"ps.{agency}.referral.made"
    async with EventLog(checkins.nats_url, subject, EVENTS.name) as log:
        async with client(checkins, agency, Role.SUPPORTER, "S-A") as supporter:
            refused = await supporter.post(
                "/v1/referrals",
                json=referral(contact_id, "own-eap", notes="talked about the shooting"),
            )
            # A valid referral after it: the outbox publishes in order, so had the
            # refused one been staged it would show up first.
            accepted = await supporter.post("/v1/referrals", json=referral(contact_id, "own-eap"))
        assert accepted.status_code == 201, accepted.text
        [made] = await log.wait_for(ReferralMade)
    assert refused.status_code == 422
    assert [e["loc"] for e in refused.json()["errors"]] == [["notes"]]
    assert "shooting" not in refused.text
    assert str(made.referral_id) == accepted.json()["referral_id"]
    rows = await database_rows(checkins, ReferralRow)
    assert [r.referral_id for r in rows] == [accepted.json()["referral_id"]]


async def test_a_stale_resource_event_does_not_roll_the_read_model_back(checkins, agency):
    then = datetime.now(UTC) - timedelta(hours=1)
    retired = resource(agency, "own-eap", active=False, occurred_at=then)
    restored = resource(agency, "own-eap", occurred_at=then + timedelta(minutes=5))
    await publish(checkins.nats_url, retired, restored)
    await await_until(lambda: written_since(checkins, "own-eap", restored.occurred_at))
    # The first event again, as a republishing roster would send it (a new event id),
    # then another resource: once that is known, the replay has been consumed.
    replayed = retired.model_copy(update={"event_id": uuid.uuid4()})
    await publish(checkins.nats_url, replayed, resource(agency, "sentinel"))
    row = (await known(checkins, "sentinel"))["own-eap"]
    assert (row.active, row.updated_at) == (True, restored.occurred_at)
    contact_id = await logged_contact(checkins, agency)
    async with client(checkins, agency, Role.SUPPORTER, "S-A") as supporter:
        answer = await supporter.post("/v1/referrals", json=referral(contact_id, "own-eap"))
    assert answer.status_code == 201, answer.text
    # A newer event does apply.
    retyped = resource(agency, "own-eap", ResourceType.CLINICIAN, active=False)
    await publish(checkins.nats_url, retyped)
    row = await await_until(lambda: written_since(checkins, "own-eap", retyped.occurred_at))
    assert (row.active, row.resource_type) == (False, "clinician")


async def written_since(checkins, resource_id: str, at: datetime) -> ResourceRow | None:
    """The read model's row of `resource_id` if an event of `at` or later wrote it."""
    rows = await database_rows(checkins, ResourceRow)
    return next((r for r in rows if r.resource_id == resource_id and r.updated_at >= at), None)
