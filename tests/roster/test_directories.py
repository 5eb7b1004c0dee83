"""The roster's directories over real HTTP: supporters, training, officers, preferences,
resources, agency settings and coordinators; validation, the agency wall on every route
(the recipients look-up's too), audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.roster.app import create_app
from shared.events import PeerAssigned
from shared.settings import Settings
from shared.streams import EVENTS
from shared.tokens import Role
from shared.vocab import InvolvedRole
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
from tests.roster.scenario import add_supporter, publish, reported
from tests.support.bus import EventLog

OTHER = "OTHER01"


def coordinator(agency: str, sub: str = "coord-1") -> dict[str, str]:
    return bearer(agency, Role.COORDINATOR, sub)


async def test_a_supporter_is_created_read_replaced_and_listed(roster, agency):
    headers = coordinator(agency)
    async with httpx.AsyncClient(base_url=roster.url, headers=headers) as client:
        created = await client.put("/v1/supporters/S-1", json=supporter(agency))
        read = await client.get("/v1/supporters/S-1")
        replaced = await client.put(
            "/v1/supporters/S-1", json=supporter(agency, rank="Lieutenant", active=False)
        )
        listed = await client.get("/v1/supporters")
    assert created.status_code == 201, created.text
    assert read.status_code == 200
    view = read.json()
    assert view["contact"] == {"email": EMAIL, "phone": PHONE, "url": URL}
    assert view["display_name"] == NAME
    assert view["languages"] == ["en", "es"]  # a set: sorted, repeats dropped
    assert view["availability"]["weekly"] == [
        {"day": "mon", "start": "08:00:00", "end": "18:00:00"}
    ]
    assert view["training"] == []
    assert replaced.status_code == 200
    assert (replaced.json()["rank"], replaced.json()["active"]) == ("Lieutenant", False)
    [summary] = listed.json()
    assert summary == {
        "supporter_id": "S-1",
        "agency_id": agency,
        "personnel_id": "PSO-7",
        "display_name": NAME,
        "rank": "Lieutenant",
        "unit": "Patrol North",
        "active": False,
        "certified_until": "2030-06-30",
    }
    assert EMAIL not in listed.text


async def test_the_list_pages_by_supporter_id(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        for n in range(5):
            await client.put(f"/v1/supporters/S-{n}", json=supporter(agency, f"P{n}"))
        first = await client.get("/v1/supporters", params={"limit": 2})
        rest = await client.get("/v1/supporters", params={"after": "S-1", "limit": 10})
    assert [s["supporter_id"] for s in first.json()] == ["S-0", "S-1"]
    assert [s["supporter_id"] for s in rest.json()] == ["S-2", "S-3", "S-4"]


async def test_removing_a_supporter_erases_them_and_putting_them_again_restores(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        await client.put("/v1/supporters/S-1", json=supporter(agency))
        await client.put(
            "/v1/supporters/S-1/training/self_care",
            json={"completed_on": "2026-01-10", "expires_on": "2028-01-10"},
        )
        removed = await client.delete("/v1/supporters/S-1")
        again = await client.delete("/v1/supporters/S-1")
        gone = await client.get("/v1/supporters/S-1")
        training = await client.put(
            "/v1/supporters/S-1/training/self_care",
            json={"completed_on": "2026-01-10", "expires_on": "2028-01-10"},
        )
        listed = await client.get("/v1/supporters")
        unknown = await client.delete("/v1/supporters/NOBODY")
        restored = await client.put("/v1/supporters/S-1", json=supporter(agency))
    assert removed.status_code == again.status_code == 204
    assert gone.status_code == training.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"
    assert listed.json() == []
    assert unknown.status_code == 404
    assert restored.status_code == 200
    assert restored.json()["training"] == []  # removal erased it


async def test_a_personnel_id_belongs_to_one_supporter_of_the_agency(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        await client.put("/v1/supporters/S-1", json=supporter(agency, "PSO-7"))
        clash = await client.put("/v1/supporters/S-2", json=supporter(agency, "PSO-7"))
        await client.delete("/v1/supporters/S-1")
        after_removal = await client.put("/v1/supporters/S-2", json=supporter(agency, "PSO-7"))
    assert clash.status_code == 409
    assert clash.json()["errors"] == [
        {"loc": ["personnel_id"], "msg": "another supporter of the agency has this personnel_id"}
    ]
    assert after_removal.status_code == 201


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"nickname": "Al"}, ["nickname"]),
        ({"availability": {"timezone": "Mars/Olympus_Mons"}}, ["availability", "timezone"]),
        ({"availability": {"timezone": "../../etc/passwd"}}, ["availability", "timezone"]),
        (
            {"availability": {"weekly": [{"day": "mon", "start": "08:00+02:00", "end": "09:00"}]}},
            ["availability", "weekly", 0, "start"],
        ),
        (
            {"availability": {"weekly": [{"day": "funday", "start": "08:00", "end": "09:00"}]}},
            ["availability", "weekly", 0, "day"],
        ),
        (
            {
                "availability": {
                    "leave": [{"start": "2026-12-02T00:00:00Z", "end": "2026-12-01T00:00:00Z"}]
                }
            },
            ["availability", "leave", 0, "end"],
        ),
        (
            {"availability": {"on_call": [{"start": "2026-12-01T00:00", "end": "2026-12-02"}]}},
            ["availability", "on_call", 0, "start"],
        ),
        ({"contact": {"email": "not-an-address"}}, ["contact", "email"]),
        ({"contact": {"pager": "555"}}, ["contact", "pager"]),
        ({"contact": {"url": "javascript alert"}}, ["contact", "url"]),
        ({"specialties": ["parking"]}, ["specialties", 0]),
        ({"languages": ["english please"]}, ["languages", 0]),
        ({"max_open_assignments": -1}, ["max_open_assignments"]),
        ({"display_name": "Alex\nRivera"}, ["display_name"]),
        ({"personnel_id": "has space"}, ["personnel_id"]),
        ({"agency_id": None}, ["agency_id"]),
    ],
)
async def test_an_invalid_supporter_names_the_field_and_echoes_nothing(roster, agency, change, loc):
    body = supporter(agency, **change)
    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        answer = await client.put("/v1/supporters/S-1", json=body)
        stored = await client.get("/v1/supporters/S-1")
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert loc in [e["loc"] for e in answer.json()["errors"]]
    for echoed in ("Olympus", "passwd", "not-an-address", "parking", "javascript", "Alex\n"):
        assert echoed not in answer.text
    assert stored.status_code == 404


async def test_training_is_dated_per_area_and_the_coordinator_sees_what_expires(roster, agency):
    today = datetime.now(UTC).date()

    def on(days: int) -> str:
        return (today + timedelta(days=days)).isoformat()

    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        await client.put(
            "/v1/settings", json={"required_training": ["active_listening", "self_care"]}
        )
        await client.put(
            "/v1/supporters/S-1", json=supporter(agency, "P1", certified_until=on(400))
        )
        await client.put("/v1/supporters/S-2", json=supporter(agency, "P2", certified_until=on(10)))
        await client.put(
            "/v1/supporters/S-3", json=supporter(agency, "P3", certified_until=None, active=False)
        )
        recorded = await client.put(
            "/v1/supporters/S-1/training/active_listening",
            json={"completed_on": on(-700), "expires_on": on(20)},
        )
        await client.put(
            "/v1/supporters/S-1/training/self_care",
            json={"completed_on": on(-400), "expires_on": on(-1)},
        )
        await client.put(
            "/v1/supporters/S-2/training/active_listening",
            json={"completed_on": on(-10), "expires_on": on(700)},
        )
        await client.put(
            "/v1/supporters/S-2/training/self_care",
            json={"completed_on": on(-10), "expires_on": on(700)},
        )
        unrequired = await client.put(
            "/v1/supporters/S-2/training/crisis_deescalation",
            json={"completed_on": on(-10), "expires_on": on(5)},
        )
        renewed = await client.put(
            "/v1/supporters/S-1/training/active_listening",
            json={"completed_on": on(-700), "expires_on": on(25)},
        )
        view = await client.get("/v1/supporters/S-1")
        soon = await client.get("/v1/training/expiring")
        week = await client.get("/v1/training/expiring", params={"within_days": 7})
    assert recorded.status_code == unrequired.status_code == 201
    assert renewed.status_code == 200
    assert renewed.json() == {
        "area": "active_listening",
        "completed_on": on(-700),
        "expires_on": on(25),
    }
    assert [t["area"] for t in view.json()["training"]] == ["active_listening", "self_care"]
    found = [(e["supporter_id"], e["area"], e["status"], e["expires_on"]) for e in soon.json()]
    assert found == [
        ("S-1", "self_care", "expired", on(-1)),
        ("S-2", None, "expiring", on(10)),
        ("S-1", "active_listening", "expiring", on(25)),
    ]  # S-3 is inactive; crisis_deescalation is not required
    assert [(e["supporter_id"], e["status"]) for e in week.json()] == [("S-1", "expired")]


async def test_a_supporter_without_training_records_is_missing_them(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        await client.put("/v1/supporters/S-1", json=supporter(agency, certified_until=None))
        answer = await client.get("/v1/training/expiring")
    assert {(e["area"], e["status"], e["expires_on"]) for e in answer.json()} == {
        (None, "missing", None),
        ("active_listening", "missing", None),
        ("ptsd_depression_anxiety_suicide", "missing", None),
        ("crisis_deescalation", "missing", None),
        ("confidentiality_and_law", "missing", None),
        ("self_care", "missing", None),
    }


async def test_invalid_training_names_the_field(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        await client.put("/v1/supporters/S-1", json=supporter(agency))
        backwards = await client.put(
            "/v1/supporters/S-1/training/self_care",
            json={"completed_on": "2026-01-10", "expires_on": "2026-01-10"},
        )
        area = await client.put(
            "/v1/supporters/S-1/training/juggling",
            json={"completed_on": "2026-01-10", "expires_on": "2027-01-10"},
        )
        extra = await client.put(
            "/v1/supporters/S-1/training/self_care",
            json={"completed_on": "2026-01-10", "expires_on": "2027-01-10", "notes": "x"},
        )
        horizon = await client.get("/v1/training/expiring", params={"within_days": 1000})
    assert backwards.json()["errors"][0]["loc"] == ["expires_on"]
    assert area.json()["errors"][0]["loc"] == ["path", "area"]
    assert extra.json()["errors"][0]["loc"] == ["notes"]
    assert horizon.json()["errors"][0]["loc"] == ["query", "within_days"]
    assert {backwards.status_code, area.status_code, extra.status_code, horizon.status_code} == {
        422
    }


async def test_officers_are_kept_by_the_agency_coordinator(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        body = {"unit": "Patrol North", "rank": "Officer", "supervisor_id": "SGT-1"}
        created = await client.put("/v1/officers/B1234", json=body)
        same = await client.put("/v1/officers/B1234", json=body)
        read = await client.get("/v1/officers/B1234")
        listed = await client.get("/v1/officers")
        after = await client.get("/v1/officers", params={"after": "B1234"})
        own_boss = await client.put("/v1/officers/B1234", json={"supervisor_id": "B1234"})
        unknown = await client.get("/v1/officers/NOBODY")
        extra = await client.put("/v1/officers/B1234", json={"name": "Alex Doe"})
    assert created.status_code == 201
    assert same.status_code == 200
    assert read.json() | {"updated_at": None} == {
        "agency_id": agency,
        "personnel_id": "B1234",
        "unit": "Patrol North",
        "rank": "Officer",
        "supervisor_id": "SGT-1",
        "background": [],
        "contact_on_file": False,
        "updated_at": None,
    }
    assert listed.status_code == 200
    assert [o["personnel_id"] for o in listed.json()] == ["B1234"]
    assert [o["personnel_id"] for o in after.json()] == []
    assert own_boss.status_code == 422
    assert own_boss.json()["errors"] == [
        {"loc": ["supervisor_id"], "msg": "an officer is not their own supervisor"}
    ]
    assert unknown.status_code == 404
    assert extra.status_code == 422 and "Alex Doe" not in extra.text


async def test_preferences_are_the_officers_own_or_a_coordinators(roster, agency):
    wishes = {"preferred_gender": "female", "languages": ["es"], "outside_agency": True}
    async with httpx.AsyncClient(base_url=roster.url) as client:
        await client.put(
            "/v1/supporters/S-9", json=supporter(agency, "B9"), headers=coordinator(agency)
        )
        defaults = await client.get(
            "/v1/officers/B1/preferences", headers=bearer(agency, Role.OFFICER, "B1")
        )
        own = await client.put(
            "/v1/officers/B1/preferences", json=wishes, headers=bearer(agency, Role.OFFICER, "B1")
        )
        someone_else = await client.put(
            "/v1/officers/B1/preferences", json=wishes, headers=bearer(agency, Role.OFFICER, "B2")
        )
        other_agency_same_id = await client.get(
            "/v1/officers/B1/preferences", headers=bearer(OTHER, Role.OFFICER, "B1")
        )
        as_supporter = await client.put(
            "/v1/officers/B9/preferences",
            json={"opted_out": True},
            headers=bearer(agency, Role.SUPPORTER, "S-9"),
        )
        supporter_for_another = await client.put(
            "/v1/officers/B1/preferences", json={}, headers=bearer(agency, Role.SUPPORTER, "S-9")
        )
        by_coordinator = await client.put(
            "/v1/officers/B2/preferences", json={"opted_out": True}, headers=coordinator(agency)
        )
        read_back = await client.get("/v1/officers/B1/preferences", headers=coordinator(agency))
        denied = {
            role: await client.put(
                "/v1/officers/B1/preferences", json={}, headers=bearer(agency, role, "B1")
            )
            for role in (Role.INGEST, Role.LEADERSHIP, Role.REGIONAL, Role.OPS)
        }
    assert defaults.status_code == 200
    assert defaults.json()["updated_at"] is None and defaults.json()["opted_out"] is False
    assert own.status_code == 200
    assert own.json()["languages"] == ["es"] and own.json()["outside_agency"] is True
    assert someone_else.status_code == 403
    assert other_agency_same_id.json()["updated_at"] is None  # another agency's B1
    assert as_supporter.status_code == 200 and as_supporter.json()["opted_out"] is True
    assert supporter_for_another.status_code == 403
    assert by_coordinator.status_code == 200
    assert read_back.json()["preferred_gender"] == "female"
    assert {answer.status_code for answer in denied.values()} == {403}


async def test_resources_belong_to_an_agency_or_to_the_region(roster, agency):
    eap = {"name": "County EAP", "resource_type": "eap", "phone": "+1 555 0199"}
    line = {
        "name": "Safe Call Now",
        "resource_type": "crisis_line",
        "phone": "+1 206 459 3020",
        "url": "https://www.safecallnow.org",
        "crisis_line": True,
        "always_open": True,
        "region_wide": True,
    }
    regional = bearer(agency, Role.REGIONAL)
    async with httpx.AsyncClient(base_url=roster.url) as client:
        created = await client.put("/v1/resources/eap-1", json=eap, headers=coordinator(agency))
        region = await client.put("/v1/resources/line-1", json=line, headers=regional)
        coordinator_region = await client.put(
            "/v1/resources/line-2", json=line, headers=coordinator(agency)
        )
        regional_agency = await client.put("/v1/resources/eap-2", json=eap, headers=regional)
        retake = await client.put(
            "/v1/resources/line-1",
            json={**line, "region_wide": False},
            headers=coordinator(agency),
        )
        retired = await client.put(
            "/v1/resources/eap-3", json={**eap, "active": False}, headers=coordinator(agency)
        )
        mine = await client.get("/v1/resources", headers=coordinator(agency))
        for_officer = await client.get(
            "/v1/resources",
            params={"crisis_line": True},
            headers=bearer(agency, Role.OFFICER, "B1"),
        )
        everything = await client.get(
            "/v1/resources", params={"include_inactive": True}, headers=coordinator(agency)
        )
        elsewhere = await client.get("/v1/resources", headers=coordinator(OTHER))
        by_type = await client.get(
            "/v1/resources", params={"resource_type": "eap"}, headers=coordinator(agency)
        )
        both = await client.put(
            "/v1/resources/x", json={**line, "agency_id": agency}, headers=regional
        )
        ingest = await client.get("/v1/resources", headers=bearer(agency, Role.INGEST))
    assert created.status_code == region.status_code == retired.status_code == 201
    assert region.json()["agency_id"] is None and region.json()["region_wide"] is True
    assert coordinator_region.status_code == regional_agency.status_code == 403
    assert retake.status_code == 403
    assert [r["resource_id"] for r in mine.json()] == ["line-1", "eap-1"]  # crisis lines first
    assert [r["resource_id"] for r in for_officer.json()] == ["line-1"]
    assert {r["resource_id"] for r in everything.json()} == {"line-1", "eap-1", "eap-3"}
    assert [r["resource_id"] for r in elsewhere.json()] == ["line-1"]
    assert [r["resource_id"] for r in by_type.json()] == ["eap-1"]
    assert both.status_code == 422 and both.json()["errors"][0]["loc"] == ["agency_id"]
    assert ingest.status_code == 403


async def test_agency_settings_have_defaults_and_are_replaced_whole(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        defaults = await client.get("/v1/settings")
        put = await client.put(
            "/v1/settings",
            json={"use_regional_pool": True, "required_training": ["self_care", "self_care"]},
        )
        read = await client.get("/v1/settings")
        bad = await client.put("/v1/settings", json={"required_training": ["juggling"]})
        low = await client.put("/v1/settings", json={"care_for_carers_after": 0})
        no_time = await client.put("/v1/settings", json={"acknowledge_request_within": 0})
    assert defaults.json() == {
        "agency_id": agency,
        "exclude_same_unit": True,
        "share_with_region": False,
        "use_regional_pool": False,
        "required_training": [
            "active_listening",
            "confidentiality_and_law",
            "crisis_deescalation",
            "ptsd_depression_anxiety_suicide",
            "self_care",
        ],
        "care_for_carers_after": 3,
        "acknowledge_request_within": 600,
        "acknowledge_assignment_within": 14_400,
        "max_moves": 3,
        "updated_at": None,
    }
    assert put.status_code == 200
    assert read.json()["use_regional_pool"] is True
    assert read.json()["required_training"] == ["self_care"]
    assert read.json()["updated_at"] is not None
    assert bad.json()["errors"][0]["loc"] == ["required_training", 0]
    assert low.json()["errors"][0]["loc"] == ["care_for_carers_after"]
    assert no_time.json()["errors"][0]["loc"] == ["acknowledge_request_within"]


async def test_coordinators_are_kept_with_sealed_contact_details_and_listed_without(roster, agency):
    own = coordinator(agency, sub="coord-7")
    async with httpx.AsyncClient(base_url=roster.url, headers=own) as client:
        created = await client.put("/v1/coordinators/C-1", json=coordinator_body(agency))
        replaced = await client.put(
            "/v1/coordinators/C-1", json=coordinator_body(agency, quiet_hours=None)
        )
        read = await client.get("/v1/coordinators/C-1")
        listed = await client.get("/v1/coordinators")
        removed = await client.delete("/v1/coordinators/C-1")
        gone = await client.get("/v1/coordinators/C-1")
        again = await client.delete("/v1/coordinators/C-1")
    assert created.status_code == 201, created.text
    assert created.json()["quiet_hours"] == {"start": "21:30", "end": "06:00"}
    assert replaced.status_code == 200
    view = read.json()
    assert {k: v for k, v in view.items() if k != "updated_at"} == {
        "coordinator_id": "C-1",
        "agency_id": agency,
        "display_name": COORDINATOR_NAME,
        "contact": {"email": COORDINATOR_EMAIL, "phone": None, "url": COORDINATOR_URL},
        "timezone": "America/Denver",
        "quiet_hours": None,
        "active": True,
    }
    assert listed.json() == [
        {
            "coordinator_id": "C-1",
            "agency_id": agency,
            "display_name": COORDINATOR_NAME,
            "timezone": "America/Denver",
            "active": True,
        }
    ]
    assert removed.status_code == 204
    assert gone.status_code == again.status_code == 404
    assert await audited(roster) == [
        ("coord-7", "coordinator", "C-1"),
        ("coord-7", "coordinator_list", agency),
    ]


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, ["quiet_hours", "end"]),
        ({"quiet_hours": {"start": "22:00:30", "end": "07:00"}}, ["quiet_hours", "start"]),
        ({"quiet_hours": {"start": "22:00+01:00", "end": "07:00"}}, ["quiet_hours", "start"]),
        ({"quiet_hours": {"start": "22:00"}}, ["quiet_hours", "end"]),
        ({"timezone": "Mars/Olympus_Mons"}, ["timezone"]),
        ({"contact": {"pager": "555"}}, ["contact", "pager"]),
        ({"display_name": "Jordan\nBlake"}, ["display_name"]),
    ],
)
async def test_quiet_hours_and_coordinators_are_checked_field_by_field(roster, agency, change, loc):
    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        as_coordinator = await client.put(
            "/v1/coordinators/C-1", json=coordinator_body(agency, **change)
        )
        as_supporter = await client.put(
            "/v1/supporters/S-1", json=supporter(agency, quiet_hours=change.get("quiet_hours"))
        )
    assert as_coordinator.status_code == 422, as_coordinator.text
    assert as_coordinator.json()["errors"][0]["loc"] == loc
    if "quiet_hours" in change:
        assert as_supporter.status_code == 422
        assert as_supporter.json()["errors"][0]["loc"] == loc


async def test_a_supporters_quiet_hours_may_run_past_midnight(roster, agency):
    quiet = {"start": "22:00", "end": "07:00"}
    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        put = await client.put("/v1/supporters/S-1", json=supporter(agency, quiet_hours=quiet))
        read = await client.get("/v1/supporters/S-1")
        without = await client.put("/v1/supporters/S-2", json=supporter(agency, "P2"))
    assert put.json()["quiet_hours"] == read.json()["quiet_hours"] == quiet
    assert without.json()["quiet_hours"] is None


RESOURCE = {"name": "County EAP", "resource_type": "eap"}
# Every route, as another agency's coordinator tries it on `agency`'s records:
# (method, route, path, body for the agency). Records found by id are named by id;
# records keyed by the caller's agency are named with an explicit `agency_id`.
FOREIGN = [
    ("PUT", "/v1/supporters/{supporter_id}", "/v1/supporters/S-1", lambda a: supporter(OTHER)),
    ("PUT", "/v1/supporters/{supporter_id}", "/v1/supporters/S-NEW", supporter),
    ("GET", "/v1/supporters/{supporter_id}", "/v1/supporters/S-1", None),
    ("DELETE", "/v1/supporters/{supporter_id}", "/v1/supporters/S-1", None),
    ("GET", "/v1/supporters", "/v1/supporters?agency_id={a}", None),
    (
        "PUT",
        "/v1/supporters/{supporter_id}/training/{area}",
        "/v1/supporters/S-1/training/self_care",
        lambda a: {"completed_on": "2026-01-01", "expires_on": "2027-01-01"},
    ),
    ("GET", "/v1/training/expiring", "/v1/training/expiring?agency_id={a}", None),
    ("PUT", "/v1/officers/{personnel_id}", "/v1/officers/B1", lambda a: {"agency_id": a}),
    ("GET", "/v1/officers/{personnel_id}", "/v1/officers/B1?agency_id={a}", None),
    ("GET", "/v1/officers", "/v1/officers?agency_id={a}", None),
    (
        "PUT",
        "/v1/officers/{personnel_id}/preferences",
        "/v1/officers/B1/preferences",
        lambda a: {"agency_id": a, "opted_out": True},
    ),
    (
        "GET",
        "/v1/officers/{personnel_id}/preferences",
        "/v1/officers/B1/preferences?agency_id={a}",
        None,
    ),
    ("PUT", "/v1/resources/{resource_id}", "/v1/resources/eap-1", lambda a: RESOURCE),
    (
        "PUT",
        "/v1/resources/{resource_id}",
        "/v1/resources/eap-9",
        lambda a: {**RESOURCE, "agency_id": a},
    ),
    ("GET", "/v1/resources", "/v1/resources?agency_id={a}", None),
    ("PUT", "/v1/settings", "/v1/settings", lambda a: {"agency_id": a}),
    ("GET", "/v1/settings", "/v1/settings?agency_id={a}", None),
    ("POST", "/v1/imports", "/v1/imports?agency_id={a}", None),
    (
        "PUT",
        "/v1/coordinators/{coordinator_id}",
        "/v1/coordinators/C-1",
        lambda a: coordinator_body(OTHER),
    ),
    ("PUT", "/v1/coordinators/{coordinator_id}", "/v1/coordinators/C-NEW", coordinator_body),
    ("GET", "/v1/coordinators/{coordinator_id}", "/v1/coordinators/C-1", None),
    ("DELETE", "/v1/coordinators/{coordinator_id}", "/v1/coordinators/C-1", None),
    ("GET", "/v1/coordinators", "/v1/coordinators?agency_id={a}", None),
    ("GET", "/v1/directory", "/v1/directory?agency_id={a}", None),
    ("GET", "/v1/unfilled", "/v1/unfilled?agency_id={a}", None),
    ("GET", "/v1/waiting", "/v1/waiting?agency_id={a}", None),
    (
        "POST",
        "/v1/waiting/{assignment_id}/give",
        "/v1/waiting/{assignment}/give",
        lambda a: {"supporter_id": "S-1"},
    ),
]
# A supporter's own routes and the officer of an assignment, as another agency's
# supporter token tries them with the id of the agency's supporter S-A, who has an
# assignment (`{assignment}`).
FOREIGN_SUPPORTER = [
    ("GET", "/v1/me", "/v1/me", None),
    ("PUT", "/v1/me/on-call", "/v1/me/on-call", lambda a: {"on_call": True}),
    (
        "POST",
        "/v1/me/leave",
        "/v1/me/leave",
        lambda a: {"start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z"},
    ),
    ("DELETE", "/v1/me/leave", "/v1/me/leave", None),
    (
        "GET",
        "/v1/assignments/{assignment_id}/officer",
        "/v1/assignments/{assignment}/officer",
        None,
    ),
    (
        "GET",
        "/v1/assignments/{assignment_id}/acknowledgment",
        "/v1/assignments/{assignment}/acknowledgment",
        None,
    ),
    (
        "POST",
        "/v1/assignments/{assignment_id}/acknowledge",
        "/v1/assignments/{assignment}/acknowledge",
        lambda a: {"reach_by": datetime.now(UTC).isoformat()},
    ),
]
# An officer's requests, as another agency's officer with the same personnel id tries
# them: B1 of the agency has asked for a peer (`{request}`).
FOREIGN_OFFICER = [
    ("POST", "/v1/requests", "/v1/requests?agency_id={a}", lambda a: {"reach": "call"}),
    ("GET", "/v1/requests", "/v1/requests?agency_id={a}", None),
    ("POST", "/v1/requests/{request_id}/cancel", "/v1/requests/{request}/cancel", None),
]
# The recipients look-up, as another agency's service (notify) tries it: only the role
# `service` may call it at all.
FOREIGN_SERVICE = [
    ("GET", "/v1/recipients/supporters/{supporter_id}", "/v1/recipients/supporters/S-1", None),
    ("GET", "/v1/recipients/coordinators", "/v1/recipients/coordinators?agency_id={a}", None),
]


async def test_every_route_walls_off_another_agency(roster, agency):
    own = coordinator(agency)
    async with httpx.AsyncClient(base_url=roster.url) as client:
        await client.put("/v1/supporters/S-1", json=supporter(agency), headers=own)
        await client.put("/v1/resources/eap-1", json=RESOURCE, headers=own)
        await client.put("/v1/officers/B1", json={"unit": "Mine"}, headers=own)
        await client.put("/v1/coordinators/C-1", json=coordinator_body(agency), headers=own)
        client.headers.update(own)
        await add_supporter(client, agency, "S-A", "PSO-A", unit="Elsewhere")
        del client.headers["Authorization"]
        async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
            await publish(roster.nats_url, reported(agency, ("B1", InvolvedRole.PRIMARY)))
            [assigned] = await log.wait_for(PeerAssigned)
        asked = await client.post(
            "/v1/requests", json={"reach": "text"}, headers=bearer(agency, Role.OFFICER, "B1")
        )
        answers = {
            (method, path): await client.request(
                method,
                path.format(
                    a=agency, assignment=assigned.assignment_id, request=asked.json()["request_id"]
                ),
                json=body(agency) if body else None,
                headers=headers,
            )
            for routes, headers in (
                (FOREIGN, coordinator(OTHER)),
                (FOREIGN_SERVICE, bearer(OTHER, Role.SERVICE, "notify")),
                (FOREIGN_SUPPORTER, bearer(OTHER, Role.SUPPORTER, "S-A")),
                (FOREIGN_OFFICER, bearer(OTHER, Role.OFFICER, "B1")),
            )
            for method, _, path, body in routes
        }
        still = await client.get("/v1/supporters/S-1", headers=own)
        still_coordinator = await client.get("/v1/coordinators/C-1", headers=own)
        officer = await client.get("/v1/officers/B1", headers=own)
        preferences = await client.get("/v1/officers/B1/preferences", headers=own)
    wrong = {
        key: answer.status_code for key, answer in answers.items() if answer.status_code != 403
    }
    assert not wrong, wrong
    assert still.status_code == 200 and still.json()["display_name"] == NAME
    assert still_coordinator.status_code == 200
    assert still_coordinator.json()["display_name"] == COORDINATOR_NAME
    assert officer.json()["unit"] == "Mine"
    assert preferences.json()["opted_out"] is False


def test_the_agency_wall_is_tried_on_every_route(tmp_path):
    app = create_app(Settings(service="roster", data_dir=tmp_path))
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/v1/")
        for method in operations
    }
    tried = FOREIGN + FOREIGN_SERVICE + FOREIGN_SUPPORTER + FOREIGN_OFFICER
    assert routes == {(method, route) for method, route, _, _ in tried}


async def test_no_token_is_401_and_other_roles_are_403(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url) as client:
        anonymous = await client.get("/v1/supporters")
        forged = await client.get("/v1/supporters", headers={"Authorization": "Bearer x.y.z"})
        roles = {
            role: await client.get("/v1/supporters/S-1", headers=bearer(agency, role))
            for role in Role
            if role is not Role.COORDINATOR
        }
    assert anonymous.status_code == forged.status_code == 401
    assert {answer.status_code for answer in roles.values()} == {403}


async def test_reads_of_identifiable_records_are_audited_and_public_ones_are_not(roster, agency):
    own = coordinator(agency, sub="coord-7")
    async with httpx.AsyncClient(base_url=roster.url) as client:
        await client.put("/v1/supporters/S-1", json=supporter(agency), headers=own)
        await client.put("/v1/officers/B1", json={"unit": "North"}, headers=own)
        for path in (
            "/v1/supporters/S-1",
            "/v1/supporters",
            "/v1/officers/B1",
            "/v1/officers",
            "/v1/officers/B1/preferences",
            "/v1/training/expiring",
            "/v1/resources",
            "/v1/settings",
            "/v1/directory",
            "/v1/unfilled",
        ):
            assert (await client.get(path, headers=own)).status_code == 200, path
        await client.get("/v1/officers/B1/preferences", headers=bearer(agency, Role.OFFICER, "B1"))
        await client.get("/v1/supporters/S-1", headers=coordinator(OTHER))  # refused: no read
    assert await audited(roster) == [
        ("coord-7", "supporter", "S-1"),
        ("coord-7", "supporter_list", agency),
        ("coord-7", "officer", "B1"),
        ("coord-7", "officer_list", agency),
        ("coord-7", "preferences", "B1"),
        ("coord-7", "training_expiring", agency),
        ("B1", "preferences", "B1"),
    ]
