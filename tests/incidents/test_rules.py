"""The intake's rules on their own, with no server: what a report does to the stored
incident (`domain.decide`), and what an EIDO document reports (`eido.read`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from services.incidents.domain import Current, Decision, IncidentReport, Involved, Status, decide
from services.incidents.eido import EidoSettings, Invalid, PersonnelIdFrom, parse, read
from shared.errors import NotAllowed
from shared.vocab import Category, InvolvedRole, RetractionReason
from tests.support.eido import PD, PSAP, SHOOTING, SHOOTING_INVOLVED, eido

pytestmark = pytest.mark.unit

OIS = Category.OFFICER_INVOLVED_SHOOTING
PRIMARY, WITNESS = InvolvedRole.PRIMARY, InvolvedRole.WITNESS


def report(*involved: tuple[str, InvolvedRole]) -> IncidentReport:
    return IncidentReport(
        external_id="24-1",
        category=OIS,
        occurred_at=datetime(2026, 11, 25, 22, 14, tzinfo=UTC),
        involved=[{"personnel_id": p, "role": r} for p, r in involved],
    )


def stored(*involved: tuple[str, InvolvedRole], retracted: bool = False) -> Current:
    people = tuple(Involved(personnel_id=p, role=r) for p, r in involved)
    return Current(category=OIS, involved=people, retracted=retracted)


def test_a_new_critical_report_is_accepted_with_its_officers():
    assert decide(None, OIS, report(("B1", PRIMARY))) == Decision(
        Status.ACCEPTED, OIS, (Involved(personnel_id="B1", role=PRIMARY),)
    )


def test_a_report_of_no_critical_category_is_ignored_whatever_is_stored():
    assert decide(None, None, report(("B1", PRIMARY))).status is Status.IGNORED
    assert decide(stored(("B1", PRIMARY)), None, report()).status is Status.IGNORED


def test_the_same_report_again_is_a_duplicate():
    assert decide(stored(("B1", PRIMARY)), OIS, report(("B1", PRIMARY))).status is Status.DUPLICATE


def test_an_added_officer_updates_with_the_whole_list_and_nobody_is_dropped():
    decision = decide(stored(("B1", PRIMARY)), OIS, report(("B2", WITNESS)))
    assert decision.status is Status.UPDATED
    assert [(i.personnel_id, i.role) for i in decision.involved] == [
        ("B1", PRIMARY),
        ("B2", WITNESS),
    ]


def test_a_changed_role_or_category_is_an_update():
    role = decide(stored(("B1", WITNESS)), OIS, report(("B1", PRIMARY)))
    category = decide(stored(("B1", PRIMARY)), Category.MASS_CASUALTY, report(("B1", PRIMARY)))
    assert (role.status, role.involved[0].role) == (Status.UPDATED, PRIMARY)
    assert (category.status, category.category) == (Status.UPDATED, Category.MASS_CASUALTY)


def test_a_retracted_incident_stays_retracted_when_reported_again():
    retracted = stored(("B1", PRIMARY), retracted=True)
    assert decide(retracted, OIS, report(("B1", PRIMARY), ("B2", PRIMARY))).status is (
        Status.DUPLICATE
    )


def _read(name: str, settings: EidoSettings, overrides: dict | None = None):
    [(at, document)] = parse(json.dumps(eido(name)).encode())
    return read(document, at, settings, overrides or {})


SETTINGS = EidoSettings(agency_identifiers=frozenset({PD, PSAP}))


def test_an_eido_reads_as_a_report_of_its_staff_with_their_roles():
    reading = _read("shooting", SETTINGS)
    assert reading.external_id == SHOOTING and reading.cancelled is None
    assert reading.report.category is OIS
    assert [(o.personnel_id, o.role) for o in reading.report.involved] == SHOOTING_INVOLVED
    assert reading.report.occurred_at == datetime(2025, 6, 15, 3, 14, 30, tzinfo=UTC)


def test_settings_leave_out_dispatchers_and_shorten_personnel_ids():
    reading = _read(
        "shooting",
        EidoSettings(
            agency_identifiers=frozenset({PD, PSAP}),
            dispatchers=False,
            personnel_id=PersonnelIdFrom.AGENT_LOCAL_PART,
        ),
    )
    assert [(o.personnel_id, o.role) for o in reading.report.involved] == [
        (p.partition("@")[0], role) for p, role in SHOOTING_INVOLVED if role != "dispatcher"
    ]


def test_the_agencys_own_code_comes_first_and_may_make_the_incident_not_critical():
    """The shooting's own code is `10-71`, its common type `SHOOT`."""
    mapped = _read("shooting", SETTINGS, {"10-71": Category.MASS_CASUALTY})
    not_critical = _read("shooting", SETTINGS, {"10-71": None, "SHOOT": None})
    assert mapped.report.category is Category.MASS_CASUALTY
    assert not_critical.report is None and not_critical.external_id == SHOOTING


def test_a_cancelled_incident_reads_as_a_retraction():
    assert _read("cancelled", SETTINGS).cancelled is RetractionReason.ENTERED_IN_ERROR


def test_another_agencys_eido_is_refused_naming_where():
    with pytest.raises(NotAllowed) as refused:
        _read("shooting", EidoSettings(agency_identifiers=frozenset({"pd.elsewhere.example"})))
    assert "$.agencyComponent" in refused.value.message


def test_a_document_that_is_no_eido_names_each_field_at_fault():
    with pytest.raises(Invalid) as invalid:
        parse(b'{"$id": 7}')
    errors = invalid.value.errors
    assert errors and all(e["path"].startswith("$") and isinstance(e["loc"], list) for e in errors)
