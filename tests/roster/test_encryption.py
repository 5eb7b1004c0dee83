"""Supporters' and coordinators' names and contact details are sealed at rest:
unreadable in the database file, readable through the API by the agency's coordinator
(and, for notifications, by a service's look-up)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from peerline.up import ensure_field_key
from services.roster.personal import COORDINATOR, OfficerPersonal, Sealer
from services.roster.store import CoordinatorRow, SupporterRow
from shared.crypto import FieldCipher, SealError
from shared.settings import Settings
from shared.tokens import Role
from tests.conftest import bearer
from tests.roster.records import (
    COORDINATOR_EMAIL,
    COORDINATOR_NAME,
    COORDINATOR_URL,
    EMAIL,
    NAME,
    OFFICER_EMAIL,
    OFFICER_NAME,
    OFFICER_PHONE,
    PHONE,
    URL,
    coordinator_body,
    officer_body,
    supporter,
)
from tests.support.database import database_rows

ROOT = Path(__file__).resolve().parents[2]
SECRETS = (EMAIL, PHONE, URL, NAME)


def database_bytes(database_url: str) -> bytes:
    """The SQLite file and its write-ahead log, where fresh pages wait for a checkpoint."""
    path = Path(database_url.removeprefix("sqlite+aiosqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_contact_details_never_reach_the_database_file(roster, agency, database_url):
    headers = bearer(agency, Role.COORDINATOR)
    async with httpx.AsyncClient(base_url=roster.url, headers=headers) as client:
        put = await client.put("/v1/supporters/S-1", json=supporter(agency, "PSO-4711"))
        read = await client.get("/v1/supporters/S-1")
        listed = await client.get("/v1/supporters")
    assert put.status_code == 201
    assert read.json()["contact"] == {"email": EMAIL, "phone": PHONE, "url": URL}
    assert read.json()["display_name"] == listed.json()[0]["display_name"] == NAME
    stored = database_bytes(database_url)
    assert b"PSO-4711" in stored  # the right file: ids are kept in clear
    for secret in SECRETS:
        assert secret.encode() not in stored, secret


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_coordinators_contact_details_never_reach_the_database_file(
    roster, agency, database_url
):
    headers = bearer(agency, Role.COORDINATOR)
    async with httpx.AsyncClient(base_url=roster.url, headers=headers) as client:
        put = await client.put("/v1/coordinators/COORD-4711", json=coordinator_body(agency))
        looked_up = await client.get(
            "/v1/recipients/coordinators",
            params={"agency_id": agency},
            headers=bearer(agency, Role.SERVICE, "notify"),
        )
    assert put.status_code == 201
    assert looked_up.json()[0]["contact"]["email"] == COORDINATOR_EMAIL
    stored = database_bytes(database_url)
    assert b"COORD-4711" in stored
    for secret in (COORDINATOR_EMAIL, COORDINATOR_URL, COORDINATOR_NAME):
        assert secret.encode() not in stored, secret


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_officers_contact_details_never_reach_the_database_file(roster, agency, database_url):
    headers = bearer(agency, Role.COORDINATOR)
    csv = (
        "kind,personnel_id,officer_name,officer_phone,officer_email,officer_preferred\n"
        f"officer,B-4712,{OFFICER_NAME} Jr,+1 555 0143 000,jr.{OFFICER_EMAIL},call\n"
    )
    async with httpx.AsyncClient(base_url=roster.url, headers=headers) as client:
        put = await client.put("/v1/officers/B-4711", json=officer_body())
        imported = await client.post(
            "/v1/imports", content=csv, headers={"Content-Type": "text/csv"}
        )
        read = await client.get("/v1/officers/B-4712")
    assert put.status_code == 201 and imported.status_code == 200, imported.text
    assert read.json()["contact_on_file"] is True
    stored = database_bytes(database_url)
    assert b"B-4711" in stored and b"B-4712" in stored  # ids are kept in clear
    for secret in (OFFICER_NAME, OFFICER_PHONE, OFFICER_EMAIL, "0143 000"):
        assert secret.encode() not in stored, secret


async def test_a_sealed_value_opens_only_for_its_own_record(roster, agency):
    headers = bearer(agency, Role.COORDINATOR)
    async with httpx.AsyncClient(base_url=roster.url, headers=headers) as client:
        await client.put("/v1/supporters/S-1", json=supporter(agency, "P1"))
        await client.put("/v1/supporters/S-2", json=supporter(agency, "P2"))
        await client.put("/v1/coordinators/S-1", json=coordinator_body(agency))
    rows = {row.supporter_id: row for row in await database_rows(roster, SupporterRow)}
    [coordinator] = await database_rows(roster, CoordinatorRow)
    sealer = roster.runtime.provided(Sealer)
    assert sealer.open("S-1", rows["S-1"].personal).contact.email == EMAIL
    assert sealer.open("S-1", coordinator.personal, kind=COORDINATOR).display_name == (
        COORDINATOR_NAME
    )
    with pytest.raises(SealError):
        sealer.open("S-2", rows["S-1"].personal)  # swapped into another row: refused
    with pytest.raises(SealError):  # a coordinator's, in a supporter's row of the same id
        sealer.open("S-1", coordinator.personal)
    officer = sealer.seal_officer(agency, "P1", OfficerPersonal(display_name="Casey"))
    assert sealer.open_officer(agency, "P1", officer).display_name == "Casey"
    with pytest.raises(SealError):  # the same personnel id of another agency
        sealer.open_officer("OTHER01", "P1", officer)
    with pytest.raises(SealError):  # a supporter's, in an officer's row
        sealer.open_officer(agency, "P1", rows["S-1"].personal)


async def test_removing_a_supporter_erases_the_sealed_details(roster, agency):
    headers = bearer(agency, Role.COORDINATOR)
    async with httpx.AsyncClient(base_url=roster.url, headers=headers) as client:
        await client.put("/v1/supporters/S-1", json=supporter(agency))
        await client.delete("/v1/supporters/S-1")
    [row] = await database_rows(roster, SupporterRow)
    assert (row.personal, row.profile, row.personnel_id) == (None, {}, "PSO-7")
    assert row.removed_at is not None


def test_peerline_up_creates_the_field_key_once_for_this_user_only(tmp_path, monkeypatch):
    monkeypatch.delenv("PEERLINE_FIELD_KEY", raising=False)
    ensure_field_key(tmp_path)
    key_file = tmp_path / "field-key"
    first = key_file.read_text()
    ensure_field_key(tmp_path)
    assert key_file.read_text() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    FieldCipher(Settings(data_dir=tmp_path).sealing_key())  # a usable key


def test_the_roster_refuses_to_start_without_a_field_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLINE_")}
    env |= {"PEERLINE_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "services.roster"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "PEERLINE_FIELD_KEY" in result.stderr
