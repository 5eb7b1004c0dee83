"""The metrics service end to end on real NATS and both databases: events counted from
the bus, a release protected before it leaves, and who may see what."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.metrics import aggregation
from services.metrics.store import IncidentRow
from shared.bus import Received
from shared.db import create_engine, sessionmaker
from shared.events import IncidentReported, IncidentRetracted, PeerAssigned
from shared.tokens import Role
from shared.vocab import Category, RetractionReason
from tests.metrics.scenario import (
    JAN,
    WINDOW,
    cell,
    counted,
    incident,
    january_counted,
    lines_giving_a_cell_away,
    offered_and_contacted,
    published_cells,
    table,
)
from tests.support.bus import publish
from tests.support.clients import client


async def test_a_release_counts_what_happened_and_shows_no_small_cell(metrics, agency):
    await january_counted(metrics, agency)
    async with client(metrics, agency, Role.LEADERSHIP) as leader:
        answer = (await leader.get("/v1/metrics", params=WINDOW)).json()
    assert (answer["scope"], answer["agency"], answer["withheld"]) == ("agency", agency, None)
    assert answer["periods"] == ["2026-01", "2026-02", "2026-03"]
    # The fatal collision is 1: suppressed, and the shootings with it, or the column
    # total (7) would give it away. The retracted shooting is not counted.
    assert cell(answer, "incidents", "fatal_collision")["suppressed"]
    assert cell(answer, "incidents", "officer_involved_shooting")["suppressed"]
    assert table(answer, "incidents")["totals"][0] == {"value": 7, "suppressed": False}
    assert table(answer, "officers_involved")["totals"][0]["value"] == 31
    assert cell(answer, "first_offers", "within_72h") == {"value": 5, "suppressed": False}
    assert cell(answer, "contacts_by_channel", "phone") == {"value": 5, "suppressed": False}
    assert cell(answer, "officers_supported", "officers") == {"value": 5, "suppressed": False}
    assert cell(answer, "referrals", "eap")["suppressed"]  # beside the 2 chaplain referrals
    assert cell(answer, "referrals", "chaplain")["suppressed"]
    assert cell(answer, "ratings", "5") == {"value": 6, "suppressed": False}
    assert cell(answer, "exceptions", "imminent_harm")["suppressed"]
    indicators = {i["name"]: i["cells"][0] for i in answer["indicators"]}
    assert indicators["median_hours_to_first_contact"] == {"value": 30.0, "suppressed": False}
    assert indicators["share_first_contact_within_72h"] == {"value": 1.0, "suppressed": False}
    assert indicators["share_would_recommend"] == {"value": 1.0, "suppressed": False}
    assert not [v for v in published_cells(answer) if 0 < v < 5]
    assert lines_giving_a_cell_away(answer) == []


async def test_a_replayed_stream_changes_no_number(metrics, agency):
    """A new consumer replaying the stream (no inbox marks) writes the same rows."""
    events = await january_counted(metrics, agency)
    async with client(metrics, agency, Role.LEADERSHIP) as leader:
        before = (await leader.get("/v1/metrics", params=WINDOW)).json()
    url = metrics.runtime.engine.url.render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as session:
            await aggregation.apply_events(session, [Received(None, e) for e in events])
            await session.commit()
    finally:
        await engine.dispose()
    async with client(metrics, agency, Role.LEADERSHIP) as leader:
        after = (await leader.get("/v1/metrics", params=WINDOW)).json()
    assert after == before


async def test_the_csv_carries_the_same_release(metrics, agency):
    await january_counted(metrics, agency)
    async with client(metrics, agency, Role.REGIONAL) as regional:
        answer = (await regional.get("/v1/metrics", params={**WINDOW, "agency": agency})).json()
        sheet = await regional.get("/v1/metrics.csv", params={**WINDOW, "agency": agency})
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(sheet.text)))
    by_key = {(r["measure"], r["row"], r["period"]): r for r in lines}
    assert by_key["contacts_by_channel", "phone", "2026-01"]["value"] == "5"
    collision = by_key["incidents", "fatal_collision", "2026-01"]
    assert (collision["value"], collision["suppressed"]) == ("", "true")
    assert by_key["incidents", "total", "2026-01"]["value"] == "7"
    assert len([r for r in lines if r["suppressed"] == "true"]) == sum(
        c["suppressed"]
        for t in answer["tables"]
        for c in [
            *(x for r in t["rows"] for x in [*r["cells"], r["total"]] if x),
            *(t["totals"] or []),
            *([t["total"]] if t["total"] else []),
        ]
    ) + sum(c["suppressed"] for i in answer["indicators"] for c in i["cells"])


async def test_leadership_sees_its_own_agency_and_the_region_sees_all(metrics, agency):
    other = "O" + uuid.uuid4().hex[:12].upper()
    await january_counted(metrics, agency)
    async with client(metrics, other, Role.LEADERSHIP) as stranger:
        refused = await stranger.get("/v1/metrics", params={**WINDOW, "agency": agency})
        refused_csv = await stranger.get("/v1/metrics.csv", params={**WINDOW, "agency": agency})
    for answer in (refused, refused_csv):
        assert answer.status_code == 403
        assert answer.headers["content-type"] == "application/problem+json"
    for role in (Role.COORDINATOR, Role.SUPPORTER, Role.OFFICER, Role.INGEST, Role.SERVICE):
        async with client(metrics, agency, role) as someone:
            assert (await someone.get("/v1/metrics", params=WINDOW)).status_code == 403
    async with client(metrics, other, Role.REGIONAL) as regional:
        region = (await regional.get("/v1/metrics", params=WINDOW)).json()
        theirs = (await regional.get("/v1/metrics", params={**WINDOW, "agency": agency})).json()
    assert (region["scope"], region["agency"]) == ("region", None)
    assert table(region, "incidents")["totals"][0]["value"] == 7
    assert theirs["agency"] == agency


async def test_a_small_agency_is_shown_only_in_the_regional_rollup(metrics, agency):
    small = "S" + uuid.uuid4().hex[:12].upper()
    await january_counted(metrics, agency)
    reported: list[IncidentReported] = [incident(small, Category.LINE_OF_DUTY_DEATH, 3)]
    await publish(metrics.nats_url, *reported)
    await counted(metrics, 9, 5, 5, 21)
    async with client(metrics, small, Role.LEADERSHIP) as leader:
        own = (await leader.get("/v1/metrics", params=WINDOW)).json()
    assert own["withheld"] and own["withheld_months"] == ["2026-01"]
    assert [v for v in published_cells(own) if v] == []  # no figure of its own
    async with client(metrics, small, Role.REGIONAL) as regional:
        region = (await regional.get("/v1/metrics", params=WINDOW)).json()
        big = (await regional.get("/v1/metrics", params={**WINDOW, "agency": agency})).json()
    # The region minus the other agency would be the small one's 3 officers: the two are
    # never both published.
    totals = [table(answer, "officers_involved")["totals"][0] for answer in (region, big)]
    assert any(total["suppressed"] for total in totals)
    published = [t["value"] for t in totals if not t["suppressed"]]
    assert published and published[0] in (31, 34)


async def test_a_bad_window_is_refused(metrics, agency):
    async with client(metrics, agency, Role.LEADERSHIP) as leader:
        backwards = await leader.get(
            "/v1/metrics", params={"from": "2026-03-01", "to": "2026-01-01"}
        )
        unknown = await leader.get("/v1/metrics", params={"granularity": "week"})
        # Dates at the calendar's ends, which widening to whole periods would overflow.
        edges = [
            await leader.get(path, params=window)
            for path in ("/v1/metrics", "/v1/metrics.csv", "/dashboard/charts")
            for window in ({"to": "9999-12-31"}, {"from": "9999-12-01"}, {"to": "0001-01-01"})
        ]
    assert (backwards.status_code, unknown.status_code) == (422, 422)
    for edge in edges:
        assert edge.status_code == 422, edge.text
        assert edge.json()["errors"][0]["loc"][-1] in ("from", "to")


async def test_a_late_event_leaves_the_frozen_months_and_counts_in_the_next_open_one(
    metrics, agency
):
    """January to March are released (and frozen) when first asked for; a January
    incident that arrives afterwards counts in April, the first month not frozen."""
    await january_counted(metrics, agency)
    async with client(metrics, agency, Role.REGIONAL) as regional:
        before = (await regional.get("/v1/metrics", params=WINDOW)).json()
        late = incident(agency, Category.FATAL_COLLISION, 4)
        await publish(metrics.nats_url, late)
        await counted(metrics, 9, 5, 5, 21)
        after = (await regional.get("/v1/metrics", params=WINDOW)).json()
    assert after == before
    engine = create_engine(metrics.runtime.engine.url.render_as_string(hide_password=False))
    try:
        async with sessionmaker(engine)() as session:
            counted_at = await session.scalar(
                select(IncidentRow.occurred_at).where(
                    IncidentRow.incident_id == str(late.incident_id)
                )
            )
    finally:
        await engine.dispose()
    assert counted_at == datetime(2026, 4, 1, tzinfo=UTC)


async def test_a_retracted_incidents_offers_are_not_counted(metrics, agency):
    await january_counted(metrics, agency)
    reported = incident(agency, Category.OFFICER_INVOLVED_SHOOTING, 5)
    events, offers = offered_and_contacted(agency, 5, timedelta(hours=30))
    assigned = [e for e in events if isinstance(e, PeerAssigned)]
    assigned = [a.model_copy(update={"incident_id": reported.incident_id}) for a in assigned]
    retracted = IncidentRetracted(
        agency_id=agency,
        occurred_at=JAN,
        incident_id=reported.incident_id,
        reason=RetractionReason.ENTERED_IN_ERROR,
    )
    await publish(metrics.nats_url, reported, *assigned, retracted)
    await publish(metrics.nats_url, *offers)
    await counted(metrics, 9, 5, 10, 21)
    async with client(metrics, agency, Role.REGIONAL) as regional:
        answer = (await regional.get("/v1/metrics", params=WINDOW)).json()
    assert cell(answer, "first_offers", "within_72h") == {"value": 5, "suppressed": False}
    assert cell(answer, "first_offers", "no_contact_yet") == {"value": 0, "suppressed": False}
