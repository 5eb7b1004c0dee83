"""Officers' own contact details, the last mile of care: kept by the agency's
coordinator, sealed at rest, never shown back to a coordinator, and shown only to the
supporter currently assigned to the officer, each showing audited. Real HTTP, real
NATS for the assignments, both databases."""

from __future__ import annotations

import dataclasses
import uuid

import httpx
import pytest

from peerline import demo
from services.roster.assignment_store import MatchRow, Outcome
from services.roster.personal import Sealer
from services.roster.store import OfficerRow
from shared.events import CheckInClosed, PeerAssigned
from shared.outbox import OutboxRow
from shared.streams import EVENTS
from shared.tokens import Role
from shared.vocab import Category, CheckInOutcome, InvolvedRole
from tests.conftest import bearer
from tests.roster.records import (
    EMAIL,
    NAME,
    OFFICER_EMAIL,
    OFFICER_NAME,
    OFFICER_PHONE,
    PHONE,
    audited,
    officer_body,
)
from tests.roster.scenario import add_supporter, coordinator, publish, reported
from tests.support.bus import EventLog
from tests.support.database import database_rows
from tests.support.waiting import await_until

SECRETS = (OFFICER_NAME, OFFICER_PHONE, OFFICER_EMAIL)


def closed(assigned: PeerAssigned) -> CheckInClosed:
    return CheckInClosed(
        agency_id=assigned.agency_id,
        checkin_id=uuid.uuid4(),
        outcome=CheckInOutcome.CONTACTED,
        assignment_id=assigned.assignment_id,
        care_ended=True,
    )


async def closed_already(roster, assigned: PeerAssigned) -> bool:
    """Whether the roster has closed the assignment."""
    rows = await database_rows(roster, MatchRow)
    [row] = [r for r in rows if r.assignment_id == str(assigned.assignment_id)]
    return row.outcome == Outcome.CLOSED


def officer_path(assigned: PeerAssigned) -> str:
    return f"/v1/assignments/{assigned.assignment_id}/officer"


def as_supporter(agency: str, supporter_id: str) -> dict[str, str]:
    return bearer(agency, Role.SUPPORTER, supporter_id)


async def test_a_coordinator_keeps_an_officers_details_and_never_sees_them_again(roster, agency):
    async with coordinator(roster, agency) as client:
        created = await client.put("/v1/officers/B1", json=officer_body())
        events = len(await database_rows(roster, OutboxRow))
        same = await client.put("/v1/officers/B1", json=officer_body())
        unchanged_events = len(await database_rows(roster, OutboxRow))
        read = await client.get("/v1/officers/B1")
        [row] = await database_rows(roster, OfficerRow)
        moved = await client.put(
            "/v1/officers/B1", json=officer_body(contact={"phone": "+1 555 0199"})
        )
        moved_events = len(await database_rows(roster, OutboxRow))
        name_only = await client.put("/v1/officers/B1", json=officer_body(contact={}))
        replaced = await client.put("/v1/officers/B1", json={"unit": "Patrol North"})
        [erased] = await database_rows(roster, OfficerRow)
    assert created.status_code == 201, created.text
    assert same.status_code == read.status_code == moved.status_code == 200
    assert unchanged_events == events  # the same details: nothing written, no event
    assert moved_events == events + 1  # new details: OfficerUpdated, naming nobody's phone
    for answer in (created, same, read, moved, name_only, replaced):
        for secret in (*SECRETS, "555 0199", "text"):  # no digits alone: times hold digits
            assert secret not in answer.text, secret
    assert created.json()["contact_on_file"] is read.json()["contact_on_file"] is True
    assert name_only.json()["contact_on_file"] is False  # a name is no way to reach them
    opened = roster.runtime.provided(Sealer).open_officer(agency, "B1", row.personal)
    assert (opened.display_name, opened.contact.phone, opened.contact.preferred) == (
        OFFICER_NAME,
        OFFICER_PHONE,
        "text",
    )
    # A PUT is the whole record: details left out are erased, as for supporters.
    assert replaced.json()["contact_on_file"] is False
    assert erased.personal is None


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"contact": {"pager": "555"}}, ["contact", "pager"]),
        ({"contact": {"email": "not-an-address"}}, ["contact", "email"]),
        ({"contact": {"phone": "call me maybe"}}, ["contact", "phone"]),
        ({"contact": {"phone": "+1 555 0100", "preferred": "pigeon"}}, ["contact", "preferred"]),
        ({"contact": {"email": "a@b.example", "preferred": "call"}}, ["contact", "preferred"]),
        ({"contact": {"phone": "+1 555 0100", "preferred": "email"}}, ["contact", "preferred"]),
        ({"display_name": "Casey\nBrennan"}, ["display_name"]),
        ({"nickname": "Case"}, ["nickname"]),
    ],
)
async def test_an_invalid_officer_detail_names_the_field_and_echoes_nothing(
    roster, agency, change, loc
):
    async with coordinator(roster, agency) as client:
        answer = await client.put("/v1/officers/B1", json=officer_body(**change))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert loc in [e["loc"] for e in answer.json()["errors"]]
    for echoed in ("not-an-address", "call me", "pigeon", "Casey\n", "Case"):
        assert echoed not in answer.text


async def test_only_the_assigned_supporter_reaches_the_officer_while_the_care_goes_on(
    roster, agency
):
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-A", "PSO-1", unit="U1")
        await add_supporter(client, agency, "S-B", "PSO-2", unit="U2", max_open_assignments=0)
        assert (await client.put("/v1/officers/B1", json=officer_body())).status_code == 201
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, reported(agency, ("B1", InvolvedRole.PRIMARY)))
        [assigned] = await log.wait_for(PeerAssigned)
    assert assigned.supporter_id == "S-A"
    async with httpx.AsyncClient(base_url=roster.url) as client:
        reached = await client.get(officer_path(assigned), headers=as_supporter(agency, "S-A"))
        another = await client.get(officer_path(assigned), headers=as_supporter(agency, "S-B"))
        same_id_elsewhere = await client.get(
            officer_path(assigned), headers=as_supporter("OTHER01", "S-A")
        )
        as_coordinator = await client.get(
            officer_path(assigned), headers=bearer(agency, Role.COORDINATOR, "coord-1")
        )
        as_officer = await client.get(officer_path(assigned), headers=bearer(agency, Role.OFFICER))
        unknown = await client.get(
            f"/v1/assignments/{uuid.uuid4()}/officer", headers=as_supporter(agency, "S-A")
        )
        malformed = await client.get(
            "/v1/assignments/not-a-uuid/officer", headers=as_supporter(agency, "S-A")
        )
        await publish(roster.nats_url, closed(assigned))
        await await_until(lambda: closed_already(roster, assigned), timeout=20, what="care ended")
        after_care = await client.get(officer_path(assigned), headers=as_supporter(agency, "S-A"))
    assert reached.status_code == 200, reached.text
    assert reached.json() == {
        "assignment_id": str(assigned.assignment_id),
        "agency_id": agency,
        "personnel_id": "B1",
        "display_name": OFFICER_NAME,
        "contact": {"phone": OFFICER_PHONE, "email": OFFICER_EMAIL, "preferred": "text"},
    }
    refused = (another, same_id_elsewhere, as_coordinator, as_officer, after_care)
    assert [answer.status_code for answer in refused] == [403, 403, 403, 403, 403]
    assert all(secret not in a.text for a in refused for secret in SECRETS)
    assert unknown.status_code == 404
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["loc"] == ["path", "assignment_id"]
    # One showing, one audit row; refusals read nothing and record nothing.
    assert [r for r in await audited(roster) if r[1] == "officer_contact"] == [
        ("S-A", "officer_contact", "B1")
    ]


async def test_an_officer_without_details_on_file_is_answered_with_nulls(roster, agency):
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-A", "PSO-1", unit="U1")
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, reported(agency, ("B7", InvolvedRole.PRIMARY)))
        [assigned] = await log.wait_for(PeerAssigned)
    async with httpx.AsyncClient(base_url=roster.url) as client:
        reached = await client.get(officer_path(assigned), headers=as_supporter(agency, "S-A"))
    assert reached.status_code == 200, reached.text
    assert reached.json()["display_name"] is None
    assert reached.json()["contact"] == {"phone": None, "email": None, "preferred": None}


async def test_a_supporter_of_another_agency_reaches_the_officer_they_were_assigned(roster, agency):
    """The one read across the agency wall: the regional pool's supporter of the
    officer's own assignment."""
    theirs = "R" + uuid.uuid4().hex[:12].upper()
    async with coordinator(roster, theirs) as client:
        await add_supporter(client, theirs, "S-R", "PSO-R")
        answer = await client.put("/v1/settings", json={"share_with_region": True})
        assert answer.status_code == 200, answer.text
    async with coordinator(roster, agency) as client:
        await client.put("/v1/officers/B1", json=officer_body())
        await client.put("/v1/officers/B1/preferences", json={"outside_agency": True})
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, reported(agency, ("B1", InvolvedRole.PRIMARY)))
        [assigned] = await log.wait_for(PeerAssigned)
    assert (assigned.supporter_id, assigned.supporter_agency_id) == ("S-R", theirs)
    async with httpx.AsyncClient(base_url=roster.url) as client:
        reached = await client.get(officer_path(assigned), headers=as_supporter(theirs, "S-R"))
        officer_record = await client.get(
            "/v1/officers/B1",
            params={"agency_id": agency},
            headers=bearer(theirs, Role.COORDINATOR),
        )
    assert reached.status_code == 200, reached.text
    assert (reached.json()["agency_id"], reached.json()["display_name"]) == (agency, OFFICER_NAME)
    assert officer_record.status_code == 403  # their coordinator still stops at the wall


async def test_a_supporter_cared_for_is_reached_by_their_supporter_records_details(roster, agency):
    async with coordinator(roster, agency) as client:
        for n, name in enumerate("AB"):
            await add_supporter(client, agency, f"S-{name}", f"PSO-{n + 1}", unit=f"U{n}")
    incident = reported(agency, ("B1", InvolvedRole.PRIMARY))
    incident = incident.model_copy(update={"category": Category.LINE_OF_DUTY_DEATH})
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, incident)
        [first] = await log.wait_for(PeerAssigned)
        await publish(roster.nats_url, closed(first))
        [_, care] = await log.wait_for(PeerAssigned, count=2)
    assert care.personnel_id == f"PSO-{'AB'.index(first.supporter_id[-1]) + 1}"
    async with httpx.AsyncClient(base_url=roster.url) as client:
        reached = await client.get(
            officer_path(care), headers=as_supporter(agency, care.supporter_id)
        )
    assert reached.status_code == 200, reached.text
    assert reached.json()["display_name"] == NAME
    assert reached.json()["contact"] == {
        "phone": PHONE,
        "email": EMAIL,
        "preferred": None,
    }


async def test_the_demos_supporters_can_reach_the_demos_officers(roster, agency):
    """`peerline demo` writes every officer's own details through the roster CSV."""
    demo_agency = dataclasses.replace(demo.AGENCIES[2], agency_id=agency)
    region = demo.roster(demo_agency)
    details = demo.officer_details(demo_agency, region)
    assert len({reach.phone for reach in details.values()}) == len(region.officers)
    assert all(
        " 555 01" in reach.phone and reach.email.endswith(".example") for reach in details.values()
    )
    async with coordinator(roster, agency) as client:
        imported = await client.post(
            "/v1/imports",
            content=demo.roster_csv(demo_agency, region),
            headers={"Content-Type": "text/csv"},
        )
        assert imported.status_code == 200, imported.text
        officer = region.crew("Traffic", 1)[0]
        record = await client.get(f"/v1/officers/{officer.personnel_id}")
    assert record.json()["contact_on_file"] is True
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(
            roster.nats_url, reported(agency, (officer.personnel_id, InvolvedRole.PRIMARY))
        )
        [assigned] = await log.wait_for(PeerAssigned)
    async with httpx.AsyncClient(base_url=roster.url) as client:
        reached = await client.get(
            officer_path(assigned), headers=as_supporter(agency, assigned.supporter_id)
        )
    reach = details[officer.personnel_id]
    assert reached.json()["display_name"] == reach.name
    assert reached.json()["contact"] == {
        "phone": reach.phone,
        "email": reach.email,
        "preferred": reach.preferred,
    }
