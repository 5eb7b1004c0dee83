"""The peer directory over real HTTP: the certified supporters an officer may reach out
to, of their agency and of the regional pool where both sides allow it, on call first;
filters; and never a trace of who browsed. Both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shared.tokens import Role
from shared.vocab import TrainingArea
from tests.conftest import bearer
from tests.roster.records import EMAIL, PHONE, audited, supporter
from tests.roster.scenario import ALWAYS

NOW = datetime.now(UTC)


def around_now(hours: int = 4) -> dict:
    return {
        "start": (NOW - timedelta(hours=1)).isoformat(),
        "end": (NOW + timedelta(hours=hours)).isoformat(),
    }


ON_CALL = {**ALWAYS, "weekly": [], "on_call": [around_now()]}
ON_LEAVE = {**ALWAYS, "leave": [around_now()]}
ON_CALL_ON_LEAVE = {**ALWAYS, "on_call": [around_now()], "leave": [around_now(2)]}


async def put_supporter(
    client: httpx.AsyncClient, agency: str, supporter_id: str, *, trained: bool = True, **fields
) -> None:
    fields.setdefault("availability", ALWAYS)
    body = supporter(agency, f"P-{supporter_id}", **fields)
    answer = await client.put(f"/v1/supporters/{supporter_id}", json=body)
    assert answer.status_code == 201, answer.text
    today = NOW.date()
    for area in TrainingArea if trained else ():
        record = {
            "completed_on": str(today - timedelta(days=30)),
            "expires_on": str(today + timedelta(days=365)),
        }
        answer = await client.put(f"/v1/supporters/{supporter_id}/training/{area}", json=record)
        assert answer.status_code == 201, answer.text


def coordinator_of(roster, agency: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=roster.url, headers=bearer(agency, Role.COORDINATOR, f"coord-{agency}")
    )


async def region(roster, agency: str) -> tuple[str, str]:
    """The agency's supporters in every state a directory tells apart; a sharing agency
    with one supporter who accepts cross-agency work and one who does not; an agency
    that does not share. Returns the two other agencies."""
    sharing, closed = ("R" + uuid.uuid4().hex[:12].upper() for _ in range(2))
    yesterday = str(NOW.date() - timedelta(days=1))
    async with coordinator_of(roster, agency) as client:
        await put_supporter(client, agency, "S-BEA", display_name="Bea Ortiz", languages=["en"])
        await put_supporter(
            client, agency, "S-ANN", display_name="ann Kim", gender="male", rank="Deputy"
        )
        await put_supporter(client, agency, "S-ZOE", display_name="Zoe Park", availability=ON_CALL)
        await put_supporter(client, agency, "S-AL", display_name="Al Moss", availability=ON_LEAVE)
        await put_supporter(
            client, agency, "S-CY", display_name="Cy Dunn", availability=ON_CALL_ON_LEAVE
        )
        await put_supporter(client, agency, "S-OFF", active=False)
        await put_supporter(client, agency, "S-OLD", certified_until=yesterday)
        await put_supporter(client, agency, "S-NEW", trained=False)
        await put_supporter(client, agency, "S-GONE")
        assert (await client.delete("/v1/supporters/S-GONE")).status_code == 204
        lapsed = {"completed_on": "2020-01-01", "expires_on": yesterday}
        await put_supporter(client, agency, "S-LAPSED")
        await client.put("/v1/supporters/S-LAPSED/training/self_care", json=lapsed)
    async with coordinator_of(roster, sharing) as client:
        await client.put("/v1/settings", json={"share_with_region": True})
        await put_supporter(client, sharing, "S-R1", display_name="Rae Lund", specialties=[])
        await put_supporter(client, sharing, "S-R2", accepts_cross_agency=False)
    async with coordinator_of(roster, closed) as client:
        await put_supporter(client, closed, "S-N1")
    return sharing, closed


def ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [entry["supporter_id"] for entry in answer.json()]


async def test_an_officer_browses_certified_peers_on_call_first_and_leaves_no_trace(roster, agency):
    sharing, _ = await region(roster, agency)
    officer = bearer(agency, Role.OFFICER, "B1")
    async with httpx.AsyncClient(base_url=roster.url, headers=officer) as client:
        own = await client.get("/v1/directory")
        outside = await client.get("/v1/directory", params={"outside_agency": True})
        on_call = await client.get("/v1/directory", params={"on_call_now": True})
        first = await client.get("/v1/directory", params={"limit": 2})
        # Every change of the directories shows at the next browse.
        shift = await client.put(
            "/v1/me/on-call",
            json={"on_call": True, "hours": 1},
            headers=bearer(agency, Role.SUPPORTER, "S-BEA"),
        )
        assert shift.status_code == 200, shift.text
        async with coordinator_of(roster, agency) as coordinating:
            await coordinating.delete("/v1/supporters/S-ZOE")
        changed = await client.get("/v1/directory")
    # On call now, then reachable now, then the rest; each band by name, case aside.
    assert ids(own) == ["S-ZOE", "S-ANN", "S-BEA", "S-AL", "S-CY"]
    by_id = {entry["supporter_id"]: entry for entry in own.json()}
    assert by_id["S-ZOE"] == {
        "supporter_id": "S-ZOE",
        "agency_id": agency,
        "display_name": "Zoe Park",
        "gender": "female",
        "rank": "Sergeant",
        "languages": ["en", "es"],
        "specialties": ["officer_involved_shooting"],
        "on_call_now": True,
        "available_now": True,
        "phone": PHONE,
    }
    flags = {sid: (e["on_call_now"], e["available_now"]) for sid, e in by_id.items()}
    assert flags["S-ANN"] == (False, True)
    assert flags["S-AL"] == flags["S-CY"] == (False, False)  # leave wins over on call
    assert EMAIL not in own.text  # a phone for one tap; no e-mail, no unit
    assert ids(outside) == ["S-R1"]  # asking for outside opens the regional pool
    assert outside.json()[0]["agency_id"] == sharing
    assert ids(on_call) == ["S-ZOE"]
    assert ids(first) == ["S-ZOE", "S-ANN"]
    assert ids(changed) == ["S-BEA", "S-ANN", "S-AL", "S-CY"]
    assert changed.json()[0]["on_call_now"] is True
    assert await audited(roster) == []  # browsing is never recorded (nor is going on call)


async def test_an_agency_that_uses_the_regional_pool_sees_the_peers_shared_with_it(roster, agency):
    await region(roster, agency)
    async with coordinator_of(roster, agency) as client:
        await client.put("/v1/settings", json={"use_regional_pool": True})
        mixed = await client.get("/v1/directory")
        supporter_view = await client.get(
            "/v1/directory", headers=bearer(agency, Role.SUPPORTER, "S-BEA")
        )
    assert ids(mixed) == ["S-ZOE", "S-ANN", "S-BEA", "S-R1", "S-AL", "S-CY"]
    assert ids(supporter_view) == ids(mixed)


async def test_the_directory_filters_as_matching_compares(roster, agency):
    await region(roster, agency)
    async with httpx.AsyncClient(
        base_url=roster.url, headers=bearer(agency, Role.OFFICER, "B1")
    ) as client:

        async def found(**params) -> list[str]:
            return ids(await client.get("/v1/directory", params=params))

        assert await found(gender="male") == ["S-ANN"]
        assert await found(rank="officer") == ["S-ANN"]  # a deputy is on the officers' rung
        assert await found(rank="SGT. ") == []  # not on the ladder: by name
        assert await found(rank="sergeant", language="ES") == ["S-ZOE", "S-AL", "S-CY"]
        assert await found(language="en", specialty="line_of_duty_death") == []
        assert await found(specialty="officer_involved_shooting", outside_agency=True) == []


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"specialty": "parking"}, ["query", "specialty"]),
        ({"language": "english please"}, ["query", "language"]),
        ({"gender": "Not A Code"}, ["query", "gender"]),
        ({"limit": 0}, ["query", "limit"]),
        ({"on_call_now": "maybe"}, ["query", "on_call_now"]),
    ],
)
async def test_a_bad_filter_names_the_parameter(roster, agency, params, loc):
    async with httpx.AsyncClient(
        base_url=roster.url, headers=bearer(agency, Role.OFFICER, "B1")
    ) as client:
        answer = await client.get("/v1/directory", params=params)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["loc"] == loc


async def test_only_officers_supporters_and_coordinators_browse(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url) as client:
        answers = {
            role: await client.get("/v1/directory", headers=bearer(agency, role, "x"))
            for role in Role
        }
    allowed = {Role.OFFICER, Role.SUPPORTER, Role.COORDINATOR}
    assert {role for role, answer in answers.items() if answer.status_code == 200} == allowed
    assert {answers[role].status_code for role in set(Role) - allowed} == {403}
