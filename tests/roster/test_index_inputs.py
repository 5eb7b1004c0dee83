"""The roster as matching loads it: `domain` values, by agency or for the whole region."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import httpx
import pytest

from services.roster import store
from services.roster.domain import (
    AgencySettings,
    Availability,
    Officer,
    Period,
    Preferences,
    TrainingArea,
    Weekday,
    WeeklyWindow,
)
from shared.db import create_engine, sessionmaker
from shared.tokens import Role
from shared.vocab import Category
from tests.conftest import bearer
from tests.roster.records import supporter

OTHER = "OTHER01"


async def load(roster, agencies):
    url = roster.runtime.engine.url.render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as session:
            return await store.load_index_inputs(session, agencies)
    finally:
        await engine.dispose()


@pytest.fixture
def small_chunks(monkeypatch):
    """Two rows per statement, so loading pages through every table."""
    monkeypatch.setattr(store, "CHUNK", 2)


async def test_the_roster_loads_as_domain_values(roster, agency, small_chunks):
    mine, theirs = bearer(agency, Role.COORDINATOR), bearer(OTHER, Role.COORDINATOR)
    async with httpx.AsyncClient(base_url=roster.url) as client:
        for n in range(3):
            await client.put(f"/v1/supporters/S-{n}", json=supporter(agency, f"P{n}"), headers=mine)
        await client.put(
            "/v1/supporters/S-2", json=supporter(agency, "P2", active=False), headers=mine
        )
        await client.put("/v1/supporters/S-X", json=supporter(OTHER, "PX"), headers=theirs)
        await client.put("/v1/supporters/S-GONE", json=supporter(agency, "PG"), headers=mine)
        await client.delete("/v1/supporters/S-GONE", headers=mine)
        await client.put(
            "/v1/supporters/S-0/training/self_care",
            json={"completed_on": "2026-01-10", "expires_on": "2028-01-10"},
            headers=mine,
        )
        for n in range(5):
            await client.put(
                f"/v1/officers/B{n}", json={"unit": "North", "supervisor_id": "L-1"}, headers=mine
            )
        await client.put("/v1/officers/B1/preferences", json={"languages": ["es"]}, headers=mine)
        await client.put("/v1/officers/Z9", json={}, headers=theirs)
        await client.put("/v1/settings", json={"use_regional_pool": True}, headers=mine)

    inputs = await load(roster, {agency})
    supporters = {s.supporter_id: s for s in inputs.supporters}
    assert set(supporters) == {"S-0", "S-1", "S-2"}  # removed left out, inactive kept
    s0 = supporters["S-0"]
    assert (s0.agency_id, s0.personnel_id, s0.active, s0.open_assignments) == (
        agency,
        "P0",
        True,
        0,
    )
    assert s0.certified_until == date(2030, 6, 30)
    assert s0.training == {TrainingArea.SELF_CARE: date(2028, 1, 10)}
    assert (s0.languages, s0.background) == (frozenset({"en", "es"}), frozenset({"military"}))
    assert s0.specialties == frozenset({Category.OFFICER_INVOLVED_SHOOTING})
    assert (s0.rank, s0.unit, s0.gender) == ("Sergeant", "Patrol North", "female")
    assert s0.availability == Availability(
        timezone="America/Chicago",
        weekly=(WeeklyWindow(Weekday.MON, time(8), time(18)),),
        on_call=(Period(datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)),),
    )
    assert supporters["S-2"].active is False
    assert len(inputs.officers) == 5
    assert inputs.officers[0] == Officer(agency, "B0", unit="North", supervisor_id="L-1")
    assert inputs.preferences == {(agency, "B1"): Preferences(languages=frozenset({"es"}))}
    assert inputs.settings == {agency: AgencySettings(agency_id=agency, use_regional_pool=True)}

    region = await load(roster, None)
    assert {s.supporter_id for s in region.supporters} == {"S-0", "S-1", "S-2", "S-X"}
    assert {o.agency_id for o in region.officers} == {agency, OTHER}
    assert region.settings[OTHER] == AgencySettings(agency_id=OTHER)  # the defaults

    nobody = await load(roster, {"EMPTY01"})
    assert nobody == ([], [], {}, {"EMPTY01": AgencySettings(agency_id="EMPTY01")})
