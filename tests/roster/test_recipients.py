"""The recipients look-up for notify over real HTTP: how to reach a supporter or the
agency's coordinators, for the role `service` only, within the agency wall, and audited
without the details (decision 30)."""

from __future__ import annotations

import httpx

from shared.audit import AuditRow
from shared.tokens import Role
from tests.conftest import bearer
from tests.roster.records import (
    COORDINATOR_EMAIL,
    COORDINATOR_NAME,
    COORDINATOR_URL,
    EMAIL,
    NAME,
    PHONE,
    URL,
    audited,
    coordinator_body,
    supporter,
)
from tests.support.database import database_rows

OTHER = "OTHER01"
QUIET = {"start": "22:00", "end": "07:00"}


def coordinator(agency: str) -> dict[str, str]:
    return bearer(agency, Role.COORDINATOR, "coord-1")


def service(agency: str) -> dict[str, str]:
    return bearer(agency, Role.SERVICE, "notify")


async def keep_roster(client: httpx.AsyncClient, agency: str) -> None:
    """Two supporters (one without quiet hours, inactive), two coordinators (one
    inactive), and a coordinator of another agency."""
    own = coordinator(agency)
    puts = [
        ("/v1/supporters/S-1", supporter(agency, "P1", quiet_hours=QUIET), own),
        ("/v1/supporters/S-2", supporter(agency, "P2", active=False), own),
        ("/v1/coordinators/C-1", coordinator_body(agency), own),
        ("/v1/coordinators/C-2", coordinator_body(agency, active=False), own),
        ("/v1/coordinators/C-9", coordinator_body(OTHER), coordinator(OTHER)),
    ]
    for path, body, headers in puts:
        answer = await client.put(path, json=body, headers=headers)
        assert answer.status_code == 201, answer.text


async def test_a_service_reads_how_to_reach_a_supporter_and_the_coordinators(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url, headers=service(agency)) as client:
        await keep_roster(client, agency)
        quiet = await client.get("/v1/recipients/supporters/S-1")
        inactive = await client.get("/v1/recipients/supporters/S-2")
        coordinators = await client.get("/v1/recipients/coordinators", params={"agency_id": agency})
    assert quiet.status_code == 200, quiet.text
    assert quiet.json() == {
        "recipient_id": "S-1",
        "agency_id": agency,
        "active": True,
        "contact": {"email": EMAIL, "phone": PHONE, "url": URL},
        "timezone": "America/Chicago",
        "quiet_hours": QUIET,
    }
    assert (inactive.json()["active"], inactive.json()["quiet_hours"]) == (False, None)
    assert NAME not in quiet.text  # what a message needs, not who the person is
    assert coordinators.json() == [  # active ones only, of the agency asked for
        {
            "recipient_id": "C-1",
            "agency_id": agency,
            "active": True,
            "contact": {"email": COORDINATOR_EMAIL, "phone": None, "url": COORDINATOR_URL},
            "timezone": "America/Denver",
            "quiet_hours": {"start": "21:30", "end": "06:00"},
        }
    ]
    assert COORDINATOR_NAME not in coordinators.text


async def test_only_services_may_look_up_recipients(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url) as client:
        await keep_roster(client, agency)
        answers = {
            (role, path): await client.get(path, headers=bearer(agency, role))
            for role in Role
            if role is not Role.SERVICE
            for path in (
                "/v1/recipients/supporters/S-1",
                f"/v1/recipients/coordinators?agency_id={agency}",
            )
        }
        anonymous = await client.get("/v1/recipients/supporters/S-1")
    assert {answer.status_code for answer in answers.values()} == {403}
    assert anonymous.status_code == 401
    assert EMAIL not in "".join(answer.text for answer in answers.values())


async def test_a_service_token_stops_at_the_agency_wall(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url, headers=service(OTHER)) as client:
        await keep_roster(client, agency)
        supporter_answer = await client.get("/v1/recipients/supporters/S-1")
        coordinators = await client.get("/v1/recipients/coordinators", params={"agency_id": agency})
        unnamed = await client.get("/v1/recipients/coordinators")
    assert supporter_answer.status_code == coordinators.status_code == 403
    assert unnamed.status_code == 422  # the agency is always named
    assert EMAIL not in supporter_answer.text and COORDINATOR_EMAIL not in coordinators.text


async def test_a_removed_or_unknown_supporter_is_not_found(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url, headers=service(agency)) as client:
        await keep_roster(client, agency)
        await client.delete("/v1/supporters/S-1", headers=coordinator(agency))
        removed = await client.get("/v1/recipients/supporters/S-1")
        unknown = await client.get("/v1/recipients/supporters/NOBODY")
    assert removed.status_code == unknown.status_code == 404
    assert removed.headers["content-type"] == "application/problem+json"


async def test_every_look_up_is_audited_per_recipient_without_the_details(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url, headers=service(agency)) as client:
        await keep_roster(client, agency)
        await client.get("/v1/recipients/supporters/S-1")
        await client.get("/v1/recipients/coordinators", params={"agency_id": agency})
        await client.get("/v1/recipients/supporters/S-1", headers=service(OTHER))  # refused
        await client.get("/v1/recipients/supporters/S-1", headers=coordinator(agency))  # refused
    assert await audited(roster) == [
        ("notify", "supporter", "S-1"),
        ("notify", "coordinator", "C-1"),
    ]
    for row in await database_rows(roster, AuditRow):
        assert (row.actor_role, row.actor_agency, row.action) == ("service", agency, "read")
        stored = " ".join(str(value) for value in vars(row).values())
        for detail in (EMAIL, PHONE, URL, NAME, COORDINATOR_EMAIL, COORDINATOR_URL):
            assert detail not in stored
