"""`POST /v1/imports` over real HTTP: a roster CSV of supporters, their training and
officers, imported whole or not at all, within the agency wall."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from services.roster.personal import Sealer
from services.roster.revision import RevisionRow
from services.roster.roster_csv import parse
from services.roster.routes.imports import EXAMPLE, MAX_BYTES
from services.roster.store import OfficerRow, SupporterRow, TrainingRow
from shared.outbox import OutboxRow
from shared.settings import MAX_BODY_BYTES
from shared.tokens import Role
from tests.conftest import bearer, token
from tests.roster.records import EMAIL, NAME, PHONE, URL, supporter
from tests.support.database import database_rows

ROOT = Path(__file__).resolve().parents[2]
OTHER = "OTHER01"
HEADER = (
    "kind,supporter_id,personnel_id,display_name,email,phone,url,rank,unit,languages,"
    "specialties,certified_until,timezone,weekly,on_call,training_self_care,supervisor_id"
)
# Officers name supervisors further down the file; the lieutenant comes last.
ROSTER = f"""{HEADER}
supporter,S-1,PSO-7,{NAME},{EMAIL},{PHONE},{URL},Sergeant,Patrol North,es; en,\
officer_involved_shooting,2030-06-30,America/Chicago,mon 08:00-18:00; tue 22:00-06:00,\
2026-12-01T00:00Z/2026-12-02T00:00Z,2026-01-10/2028-01-10,
officer,,B1,,,,,Officer,Patrol North,,,,,,,,SGT-1
officer,,SGT-1,,,,,Sergeant,Patrol North,,,,,,,,LT-1
supporter,S-2,PSO-8,Sam Lee,,,,,,,,,,,,,
,,,,,,,,,,,,,,,,
officer,,LT-1,,,,,Lieutenant,,,,,,,,,
"""


def coordinator(agency: str) -> dict[str, str]:
    return bearer(agency, Role.COORDINATOR, "coord-1")


async def post(client: httpx.AsyncClient, body: str | bytes, **params) -> httpx.Response:
    return await client.post(
        "/v1/imports", content=body, params=params, headers={"Content-Type": "text/csv"}
    )


async def test_a_file_imports_supporters_their_training_and_officers(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        imported = await post(client, ROSTER.replace("\n", "\r\n"))  # as spreadsheets write
        alex = await client.get("/v1/supporters/S-1")
        sam = await client.get("/v1/supporters/S-2")
        officers = {p: await client.get(f"/v1/officers/{p}") for p in ("B1", "SGT-1", "LT-1")}
    assert imported.status_code == 200, imported.text
    assert imported.json() == {
        "agency_id": agency,
        "dry_run": False,
        "supporters": {"created": 2, "updated": 0, "unchanged": 0},
        "training": {"created": 1, "updated": 0, "unchanged": 0},
        "officers": {"created": 3, "updated": 0, "unchanged": 0},
    }
    view = alex.json()
    assert (view["display_name"], view["contact"]) == (
        NAME,
        {"email": EMAIL, "phone": PHONE, "url": URL},
    )
    assert view["languages"] == ["en", "es"]
    assert view["availability"]["weekly"] == [
        {"day": "mon", "start": "08:00:00", "end": "18:00:00"},
        {"day": "tue", "start": "22:00:00", "end": "06:00:00"},
    ]
    assert view["availability"]["on_call"] == [
        {"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"}
    ]
    assert view["training"] == [
        {"area": "self_care", "completed_on": "2026-01-10", "expires_on": "2028-01-10"}
    ]
    assert sam.json()["contact"] == {"email": None, "phone": None, "url": None}
    assert sam.json()["max_open_assignments"] == 3  # blank cells take the defaults
    chain = {p: (r.json()["supervisor_id"], r.json()["rank"]) for p, r in officers.items()}
    assert chain == {
        "B1": ("SGT-1", "Officer"),
        "SGT-1": ("LT-1", "Sergeant"),
        "LT-1": (None, "Lieutenant"),
    }
    [row] = [r for r in await database_rows(roster, SupporterRow) if r.supporter_id == "S-1"]
    for personal in (EMAIL, PHONE, URL, NAME):
        assert personal.encode() not in row.personal  # sealed, as a PUT seals it
    assert roster.runtime.provided(Sealer).open("S-1", row.personal).contact.email == EMAIL
    [revision] = await database_rows(roster, RevisionRow)
    assert revision.revision == 1  # one change of the directories, however many rows
    assert len(await database_rows(roster, OutboxRow)) == 6  # an event per record


async def test_importing_the_same_file_again_changes_nothing(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        await post(client, ROSTER)
        events = len(await database_rows(roster, OutboxRow))
        again = await post(client, ROSTER)
        unchanged_events = len(await database_rows(roster, OutboxRow))
        moved = await post(client, ROSTER.replace("Officer,Patrol North", "Officer,Patrol South"))
        officer = await client.get("/v1/officers/B1")
    assert again.status_code == 200
    assert again.json()["supporters"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert again.json()["training"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert again.json()["officers"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert unchanged_events == events  # no event for what did not change
    assert moved.json()["officers"] == {"created": 0, "updated": 1, "unchanged": 2}
    assert officer.json()["unit"] == "Patrol South"
    assert len(await database_rows(roster, SupporterRow)) == 2
    assert len(await database_rows(roster, TrainingRow)) == 1
    [revision] = await database_rows(roster, RevisionRow)
    assert revision.revision == 2


BAD = f"""{HEADER}
supporter,S-1,PSO-1,Ok Person,,,,,,,,,,,,,
supporter,S-2,PSO-2,Robin Bad,not-an-address,,,,,english please,,,Mars/Olympus,,,,
officer,,B1,,,,,,,,,,,,,,B1
officer,,B2,Kim Officer,,,,,,,,,,,,,
supporter,S-3,PSO-3,Lee Bad,,,,,,,,,,funday 08:00-09:00,,2027-01-01/2026-01-01,
supporter,S-4,PSO-7,Taken Id,,,,,,,,,,,,,
parking,,B3,,,,,,,,,,,,,,
officer,,B4,,,,,,,,,,,,,,
officer,,B4,,,,,,,,,,,,,,
"""


async def test_a_file_with_bad_rows_names_each_and_stores_nothing(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        await client.put("/v1/supporters/S-9", json=supporter(agency, "PSO-7"))
        events = len(await database_rows(roster, OutboxRow))
        answer = await post(client, BAD)
        listed = await client.get("/v1/supporters")
        officer = await client.get("/v1/officers/B4")
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    found = [tuple(e["loc"]) for e in answer.json()["errors"]]
    assert found == [
        (3, "email"),
        (3, "languages"),
        (3, "timezone"),
        (4, "supervisor_id"),  # refused by the officer's write, as a PUT is
        (5, "display_name"),  # not a column of an officer
        (6, "weekly"),
        (6, "training_self_care"),
        (7, "personnel_id"),  # another supporter of the agency has it (409 on a PUT)
        (8, "kind"),
        (10, "personnel_id"),  # the same officer twice
    ]
    for value in ("not-an-address", "english", "Olympus", "Kim", "Robin", "funday", "parking"):
        assert value not in answer.text
    assert [s["supporter_id"] for s in listed.json()] == ["S-9"]
    assert officer.status_code == 404
    assert {r.supporter_id for r in await database_rows(roster, SupporterRow)} == {"S-9"}
    assert await database_rows(roster, OfficerRow) == []
    assert len(await database_rows(roster, OutboxRow)) == events


async def test_a_coordinator_imports_into_their_own_agency_only(roster, agency):
    theirs = "kind,supporter_id,personnel_id,display_name,unit\nsupporter,S-1,PSO-1,Eve,X\n"
    async with httpx.AsyncClient(base_url=roster.url) as client:
        await client.put("/v1/supporters/S-1", json=supporter(agency), headers=coordinator(agency))
        await client.put("/v1/officers/B1", json={"unit": "Mine"}, headers=coordinator(agency))
        named = await client.post(
            "/v1/imports",
            params={"agency_id": agency},
            content="kind,personnel_id,unit\nofficer,B1,Theirs\n",
            headers=coordinator(OTHER),
        )
        taken = await client.post("/v1/imports", content=theirs, headers=coordinator(OTHER))
        own = await client.post(
            "/v1/imports",
            content="kind,personnel_id,unit\nofficer,B1,Theirs\n",
            headers=coordinator(OTHER),
        )
        roles = {
            role: await client.post("/v1/imports", content=theirs, headers=bearer(agency, role))
            for role in Role
            if role is not Role.COORDINATOR
        }
        supporter_after = await client.get("/v1/supporters/S-1", headers=coordinator(agency))
        officer_after = await client.get("/v1/officers/B1", headers=coordinator(agency))
        their_officer = await client.get("/v1/officers/B1", headers=coordinator(OTHER))
    assert named.status_code == 403
    assert taken.status_code == 422
    assert taken.json()["errors"] == [
        {"loc": [2, "supporter_id"], "msg": "another agency's supporter has this supporter_id"}
    ]
    assert own.status_code == 200  # their own agency's officer B1
    assert {answer.status_code for answer in roles.values()} == {403}
    assert supporter_after.json()["display_name"] == NAME
    assert officer_after.json()["unit"] == "Mine"
    assert their_officer.json()["unit"] == "Theirs"


async def test_a_dry_run_checks_everything_and_keeps_nothing(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        checked = await post(client, ROSTER, dry_run=True)
        listed = await client.get("/v1/supporters")
    assert checked.status_code == 200
    assert checked.json()["dry_run"] is True
    assert checked.json()["officers"]["created"] == 3
    assert listed.json() == []
    assert await database_rows(roster, OutboxRow) == []


async def head_answer(roster, path: str, agency: str, length: int) -> int:
    """The first status a service answers to a request head declaring a body of
    `length` bytes: 100 (send it) or a refusal before the body is read."""
    url = urlsplit(roster.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Authorization: Bearer {token(agency, Role.COORDINATOR)}\r\n"
        f"Content-Type: text/csv\r\nContent-Length: {length}\r\n"
        "Expect: 100-continue\r\n\r\n"
    )
    try:
        writer.write(head.encode())
        await writer.drain()
        return int((await reader.readline()).split()[1])
    finally:
        writer.close()


async def test_the_import_takes_a_larger_body_than_other_routes(roster, agency):
    # Blank rows pad a valid file past the 1 MiB every other route is held to.
    padded = "kind,personnel_id\nofficer,B1\n" + "\n" * MAX_BODY_BYTES
    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        imported = await post(client, padded)
    assert imported.status_code == 200, imported.text
    assert imported.json()["officers"]["created"] == 1
    assert await head_answer(roster, "/v1/imports", agency, MAX_BODY_BYTES + 1) == 100
    assert await head_answer(roster, "/v1/imports", agency, MAX_BYTES + 1) == 413
    assert await head_answer(roster, "/v1/officers/B1", agency, MAX_BODY_BYTES + 1) == 413


def test_the_file_format_reads_like_a_spreadsheet():
    body = (
        "\ufeffKind , Personnel_ID,unit,languages,\r\n"  # a byte-order mark, loose headers
        "Officer, B1 ,North,,\r\n"
        "officer,B2,,\r\n"
        "supporter,,,en;;es\r\n"
        'officer,B3,"North, East",,,extra\r\n'
    ).encode()
    lines, errors = parse(body, "CA0190000")
    assert [(line.row, line.personnel_id, line.record.unit) for line in lines] == [
        (2, "B1", "North"),
        (3, "B2", None),
    ]
    assert errors == [
        {"loc": [4, "personnel_id"], "msg": "Field required"},  # columns left to right,
        {"loc": [4, "supporter_id"], "msg": "Field required"},  # then those not in the file
        {"loc": [4, "display_name"], "msg": "Field required"},
        {"loc": [5, "column 6"], "msg": "a cell in a column the header does not name"},
    ]
    assert parse(b"name,kind\n", "CA0190000")[1] == [
        {"loc": [1, "name"], "msg": "not a column of the roster CSV"}
    ]
    assert parse(b"\xff\xfe", "CA0190000")[1] == [{"loc": [1], "msg": "the file is not UTF-8 text"}]


def test_an_officers_background_is_a_list_as_a_supporters_is():
    body = b"kind,personnel_id,background\nofficer,B1,military; dispatch\n"
    [line], errors = parse(body, "CA0190000")
    assert errors == []
    assert line.record.background == ["dispatch", "military"]


def test_quiet_hours_are_two_columns_checked_as_the_record_checks_them():
    body = (
        b"kind,supporter_id,personnel_id,display_name,timezone,quiet_start,quiet_end\n"
        b"supporter,S-1,P1,Alex,America/Chicago,22:00,07:00\n"
        b"supporter,S-2,P2,Sam,,,\n"
        b"supporter,S-3,P3,Kim,,22:00,\n"
        b"supporter,S-4,P4,Lee,,22:00,22:00\n"
    )
    lines, errors = parse(body, "CA0190000")
    quiet = {
        line.supporter_id: line.record.model_dump(mode="json")["quiet_hours"] for line in lines
    }
    assert quiet == {"S-1": {"start": "22:00", "end": "07:00"}, "S-2": None}
    assert errors == [
        {"loc": [4, "quiet_end"], "msg": "Field required"},
        {"loc": [5, "quiet_end"], "msg": "Value error, end must differ from start"},
    ]


def test_the_documented_examples_are_valid_files():
    documented = (ROOT / "docs" / "roster.md").read_text().split("```csv\n")[1].split("```")[0]
    for example in (documented, EXAMPLE):
        lines, errors = parse(example.encode(), "CA0190000")
        assert errors == []
        assert {line.kind for line in lines} == {"supporter", "officer"}


OFFICERS = """\
kind,personnel_id,unit,officer_name,officer_phone,officer_email,officer_preferred
officer,B1,North,Casey Brennan,+1 555 0142,casey@home.example,Text
officer,B2,North,Robin Hale,,,in person
officer,B3,North,,,,
"""


async def test_officer_rows_bring_the_officers_own_details_sealed(roster, agency):
    async with httpx.AsyncClient(base_url=roster.url, headers=coordinator(agency)) as client:
        imported = await post(client, OFFICERS)
        again = await post(client, OFFICERS)
        read = {p: await client.get(f"/v1/officers/{p}") for p in ("B1", "B2", "B3")}
    assert imported.status_code == 200, imported.text
    assert imported.json()["officers"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert again.json()["officers"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert {p: r.json()["contact_on_file"] for p, r in read.items()} == {
        "B1": True,
        "B2": False,  # a name and "in person": no phone or e-mail on file
        "B3": False,
    }
    assert all("Casey" not in r.text and "555 0142" not in r.text for r in read.values())
    rows = {row.personnel_id: row for row in await database_rows(roster, OfficerRow)}
    sealer = roster.runtime.provided(Sealer)
    b1 = sealer.open_officer(agency, "B1", rows["B1"].personal)
    b2 = sealer.open_officer(agency, "B2", rows["B2"].personal)
    assert (b1.display_name, b1.contact.phone, b1.contact.email, b1.contact.preferred) == (
        "Casey Brennan",
        "+1 555 0142",
        "casey@home.example",
        "text",
    )
    assert (b2.display_name, b2.contact.preferred) == ("Robin Hale", "in_person")
    assert rows["B3"].personal is None
    assert b"Casey" not in rows["B1"].personal


def test_bad_officer_details_are_errors_of_their_columns_and_echo_nothing():
    body = (
        b"kind,supporter_id,personnel_id,display_name,email,officer_name,officer_phone,"
        b"officer_email,officer_preferred\n"
        b"officer,,B1,,,,,not-an-address,\n"
        b"officer,,B2,,,,,,pigeon\n"
        b"officer,,B3,,,,,kim@home.example,call\n"
        b"officer,,B4,,,Kim\tLee,call me,,\n"
        b"supporter,S-1,P1,Sam Lee,,,+1 555 0100,,\n"
        b"officer,,B5,,kim@home.example,,,,\n"
    )
    lines, errors = parse(body, "CA0190000")
    assert lines == []
    assert [tuple(error["loc"]) for error in errors] == [
        (2, "officer_email"),
        (3, "officer_preferred"),
        (4, "officer_preferred"),  # a call needs a phone
        (5, "officer_name"),
        (5, "officer_phone"),
        (6, "officer_phone"),  # not a column of a supporter
        (7, "email"),  # a supporter's e-mail, not an officer's
    ]
    assert errors[2]["msg"] == "Value error, call needs the phone"
    for value in ("not-an-address", "pigeon", "Kim", "call me", "kim@"):
        assert value not in str(errors)
