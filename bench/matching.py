"""Matching benchmark: the roster index beside a naive scan of the whole region.

Generates a region (default: 200 agencies of varied size, 100,000 officers in supervisor
chains 3 to 5 deep, 10,000 peer supporters, about 50 per agency on average; a share of
agencies sharing with the region and using it; varied languages, genders, specialties,
backgrounds, ranks, time zones, weekly windows, on-call periods, leave, loads and
training, some of it expired) and prints, measured in the same run on the same machine:
- p50/p99 ms to match one officer of a small incident through `RosterIndex.assign`,
  beside a naive matcher that, for each officer, checks every rule against every
  supporter in the region;
- ms to assign a 500-officer incident of one agency in one call, beside the naive
  matcher serving the same officers one after another with loads rising the same way;
- how the sampled officers were served, so the mix can be judged realistic;
- end to end: seconds from publishing a 500-officer `IncidentReported` to the EVENTS
  stream (as the incidents service's outbox does) to the last `PeerAssigned` or
  `AssignmentUnfilled` of it seen by a subscriber on the bus, with the roster service
  running as its own process (as under `peerline up`) on a real nats-server, over the
  same region written into its database; the first incident after start (cold: the
  service loads the roster and builds its index) apart from later ones (warm, each
  retracted before the next so that all see the same loads), beside the naive matcher
  serving the same 500 officers in this process.
The two must agree: every officer the naive matcher serves, and the whole batch, is
asserted to get the same result from both; the outcomes on the bus are compared with
the index's answer for the same officers at the moment the service decided.

Single matches leave the index as they found it (the assignment is released at once),
so every sample sees the same roster; the index's per-supporter training dates fill in
during a short warm-up, as they would in a running service.

The roster database is SQLite (WAL, synchronous=FULL) in a temporary directory, or a
scratch database beside --database-url (PostgreSQL), dropped afterwards. The region is
written with bulk inserts after the roster's own migrations, the supporters' profiles
shaped by the roster's request model and their personal details sealed, as its routes
would store them.

    python bench/matching.py [--supporters 10000] [--officers 100000] [--agencies 200]
                             [--samples 3000] [--naive-samples 200] [--warmup 500]
                             [--batch 500] [--seed 7] [--rounds 4] [--database-url URL]
                             [--in-process-only]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time as clock
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy
from sqlalchemy import delete, insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scratch import scratch_database  # noqa: E402

from peerline.natsd import NatsServer, free_port  # noqa: E402
from peerline.process import spawn, terminate  # noqa: E402
from services.roster import store  # noqa: E402
from services.roster.app import MIGRATIONS  # noqa: E402
from services.roster.assigning import ROLE_ORDER  # noqa: E402
from services.roster.assignment_store import LoadRow  # noqa: E402
from services.roster.domain import (  # noqa: E402
    AgencySettings,
    Availability,
    Officer,
    Period,
    Preferences,
    Supporter,
    TrainingArea,
    Weekday,
    WeeklyWindow,
    earliest_available,
    rank_rung,
)
from services.roster.matching import (  # noqa: E402
    Assigned,
    Incident,
    OptedOut,
    Result,
    RosterIndex,
    Unfilled,
)
from services.roster.personal import Contact, Personal, Sealer  # noqa: E402
from services.roster.revision import RevisionRow  # noqa: E402
from services.roster.routes.supporters import PROFILE, SupporterRecord  # noqa: E402
from shared import bus, cloudevents, db  # noqa: E402
from shared.crypto import new_key  # noqa: E402
from shared.events import IncidentReported, IncidentRetracted, Involved  # noqa: E402
from shared.ids import incident_id_for  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.streams import EVENTS  # noqa: E402
from shared.vocab import (  # noqa: E402
    AssignmentReason,
    Category,
    InvolvedRole,
    RetractionReason,
    UnfilledReason,
)

START = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday; samples fall in the week after
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
LANGUAGES = ("es", "vi", "zh", "tl", "ar", "ht")
BACKGROUNDS = ("veteran", "k9", "swat", "narcotics", "traffic", "investigations", "dispatch")
LINE_RANKS = ("officer", "deputy", "trooper", "agent")
UNFILLED = (
    UnfilledReason.NO_ELIGIBLE_SUPPORTER,
    UnfilledReason.ALL_CONFLICTED,
    UnfilledReason.NO_PREFERENCE_MATCH,
    UnfilledReason.NONE_AVAILABLE,
)


@dataclass
class Region:
    settings: dict[str, AgencySettings]
    officers: dict[tuple[str, str], Officer]
    by_agency: dict[str, list[str]]  # personnel ids, line officers first
    supporters: list[Supporter]
    preferences: dict[tuple[str, str], Preferences] = field(default_factory=dict)


# The region.


def generate(args: argparse.Namespace, rng: random.Random) -> Region:
    weights = [rng.lognormvariate(0, 0.8) for _ in range(args.agencies)]
    total = sum(weights)
    region = Region({}, {}, {}, [])
    for number, weight in enumerate(weights):
        agency = f"AG{number:03d}"
        size = max(60, round(args.officers * weight / total))
        strict = rng.random() < 0.7
        region.settings[agency] = AgencySettings(
            agency,
            exclude_same_unit=rng.random() < 0.85,
            share_with_region=rng.random() < 0.35,
            use_regional_pool=rng.random() < 0.5,
            required_training=frozenset(TrainingArea)
            if strict
            else frozenset(rng.sample(list(TrainingArea), 3)),
        )
        zone = rng.choice(ZONES)
        line_rank = rng.choice(LINE_RANKS)
        people = officers_of(agency, size, line_rank, rng)
        region.officers.update({(agency, o.personnel_id): o for o in people})
        region.by_agency[agency] = [o.personnel_id for o in people]
        supporters = max(5, round(args.supporters * weight / total))
        for officer in rng.sample(people[: len(people) * 9 // 10], min(supporters, size // 2)):
            region.supporters.append(supporter_of(officer, zone, rng))
        for officer in people:
            wishes = preferences_of(rng)
            if wishes is not None:
                region.preferences[(agency, officer.personnel_id)] = wishes
    return region


def officers_of(agency: str, size: int, line_rank: str, rng: random.Random) -> list[Officer]:
    """An agency's officers, line officers first: a chief, then captains, lieutenants and
    sergeants as its size calls for (chains 3 to 5 deep), each reporting to someone on
    the rung above."""
    sergeants = max(1, size // 9)
    lieutenants = max(1, sergeants // 4) if size >= 150 else 0
    captains = max(1, lieutenants // 3) if size >= 1000 else 0
    rungs = [("chief", 1), ("captain", captains), ("lieutenant", lieutenants)]
    rungs += [("sergeant", sergeants), (line_rank, size - 1 - captains - lieutenants - sergeants)]
    units = [f"patrol-{i}" for i in range(1 + size // 60)] + ["traffic", "k9", "investigations"]
    made: list[Officer] = []
    above: list[str] = []
    for rank, count in (r for r in rungs if r[1] > 0):
        rung = []
        for _ in range(count):
            pid = f"E{len(made) + len(rung):05d}"
            rung.append(
                Officer(
                    agency,
                    pid,
                    unit=rng.choice(units),
                    rank=rank,
                    supervisor_id=rng.choice(above) if above else None,
                    background=frozenset(rng.sample(BACKGROUNDS, 1))
                    if rng.random() < 0.2
                    else frozenset(),
                )
            )
        made += rung
        above = [o.personnel_id for o in rung]
    return made[::-1]


def supporter_of(officer: Officer, zone: str, rng: random.Random) -> Supporter:
    def later(low: int, high: int) -> date:
        return (START + timedelta(days=rng.randint(low, high))).date()

    languages = {"en"}
    if rng.random() < 0.25:
        languages.add("es")
    if rng.random() < 0.08:
        languages.add(rng.choice(LANGUAGES))
    return Supporter(
        supporter_id=f"{officer.agency_id}-{officer.personnel_id}",
        agency_id=officer.agency_id,
        personnel_id=officer.personnel_id,
        active=rng.random() < 0.92,
        certified_until=None if rng.random() < 0.2 else later(-40, 900),
        training={area: later(-30, 1000) for area in TrainingArea},
        max_open_assignments=rng.choice((2, 3, 3, 3, 3, 3, 3, 3, 4)),
        open_assignments=rng.choice((0, 0, 0, 1, 1, 2)),
        accepts_cross_agency=rng.random() < 0.6,
        gender="female" if rng.random() < 0.22 else "male",
        languages=frozenset(languages),
        background=frozenset(rng.sample(BACKGROUNDS, rng.randint(0, 2))),
        specialties=frozenset(rng.sample(list(Category), rng.choice((1, 1, 2, 2, 3)))),
        rank=officer.rank,
        unit=officer.unit,
        availability=availability_of(zone, rng),
    )


def availability_of(zone: str, rng: random.Random) -> Availability:
    """No stated limits, weekday office hours, or shifts, some with on-call periods and
    leave, in the agency's time zone."""

    def period(low: int, high: int, hours: int) -> Period:
        start = START + timedelta(hours=rng.randint(low, high))
        return Period(start, start + timedelta(hours=hours))

    kind = rng.random()
    if kind < 0.35:
        weekly = []
    elif kind < 0.7:
        start = time(rng.choice((7, 8, 9)))
        end = time(rng.choice((16, 17, 18)))
        weekly = [WeeklyWindow(day, start, end) for day in list(Weekday)[:5]]
    else:
        start = rng.choice((6, 14, 22))
        days = rng.sample(list(Weekday), 4)
        weekly = [WeeklyWindow(day, time(start), time((start + 10) % 24)) for day in days]
    on_call = [period(0, 160, 24)] if weekly and rng.random() < 0.3 else []
    leave = [period(-200, 160, rng.choice((48, 168, 336)))] if rng.random() < 0.12 else []
    return Availability(zone, tuple(weekly), tuple(on_call), tuple(leave))


def preferences_of(rng: random.Random) -> Preferences | None:
    roll = rng.random()
    if roll < 0.02:
        return Preferences(opted_out=True)
    if roll < 0.06:
        return Preferences(outside_agency=True)
    if roll < 0.09:
        return Preferences(languages=frozenset({"es"}))
    if roll < 0.11:
        return Preferences(preferred_gender="female")
    return None


# The naive matcher: every rule against every supporter, for every officer.


def naive_match(
    region: Region, incident: Incident, pid: str, now: datetime, loads: dict[str, int]
) -> Result:
    agency = incident.agency_id
    mine = region.settings[agency]
    officer = region.officers.get((agency, pid)) or Officer(agency, pid)
    wishes = region.preferences.get((agency, pid), Preferences())
    if wishes.opted_out:
        return OptedOut(pid)
    day = max(incident.occurred_at.astimezone(UTC).date(), now.astimezone(UTC).date())
    chain_above = naive_above(region, agency, pid)
    furthest, candidates = 0, []
    for s in region.supporters:
        own = s.agency_id == agency
        theirs = region.settings[s.agency_id]
        if not own and not (
            (wishes.outside_agency or mine.use_regional_pool)
            and theirs.share_with_region
            and s.accepts_cross_agency
        ):
            continue
        required = mine.required_training | theirs.required_training
        if not s.active or (s.certified_until or date.max) < day:
            continue
        if any(s.training.get(area, date.min) < day for area in required):
            continue
        record = region.officers.get((s.agency_id, s.personnel_id))
        if own and (
            s.personnel_id == pid
            or s.personnel_id in incident.involved
            or s.personnel_id in chain_above
            or pid in naive_above(region, agency, s.personnel_id)
            or (
                mine.exclude_same_unit
                and officer.unit is not None
                and officer.unit in {s.unit, record.unit if record else None}
            )
        ):
            furthest = max(furthest, 1)
            continue
        if (
            (wishes.outside_agency and own)
            or (
                wishes.preferred_gender
                and (s.gender or "").casefold() != wishes.preferred_gender.casefold()
            )
            or (
                wishes.languages
                and {x.casefold() for x in s.languages}.isdisjoint(
                    x.casefold() for x in wishes.languages
                )
            )
        ):
            furthest = max(furthest, 2)
            continue
        furthest = 3
        when = earliest_available(s.availability, now)
        if loads[s.supporter_id] >= s.max_open_assignments or when is None:
            continue
        rung = rank_rung(s.rank or (record.rank if record else None))
        officer_rung = rank_rung(officer.rank)
        fit = (
            incident.category not in s.specialties,
            -len(officer.background & s.background),
            1 if rung is None or officer_rung is None else abs(rung - officer_rung),
        )
        tier = 0 if own or wishes.outside_agency else 1
        candidates.append((tier, fit, when > now, loads[s.supporter_id], s.supporter_id, s))
    if not candidates:
        return Unfilled(pid, UNFILLED[furthest])
    best = min(candidates, key=lambda c: c[:5])
    tier, fit, later, load, _, chosen = best
    less_loaded = any(c[:3] == (tier, fit, later) and c[3] > load for c in candidates)
    officer_rung = rank_rung(officer.rank)
    record = region.officers.get((chosen.agency_id, chosen.personnel_id))
    held = [
        (AssignmentReason.SPECIALTY_MATCH, not fit[0]),
        (
            AssignmentReason.LANGUAGE_MATCH,
            not {x.casefold() for x in wishes.languages}.isdisjoint(
                x.casefold() for x in chosen.languages
            ),
        ),
        (AssignmentReason.GENDER_PREFERENCE, bool(wishes.preferred_gender)),
        (AssignmentReason.OUTSIDE_AGENCY_PREFERENCE, wishes.outside_agency),
        (AssignmentReason.BACKGROUND_MATCH, fit[1] < 0),
        (
            AssignmentReason.RANK_PEER,
            officer_rung is not None
            and officer_rung == rank_rung(chosen.rank or (record.rank if record else None)),
        ),
        (AssignmentReason.AVAILABLE_NOW, not later),
        (AssignmentReason.LEAST_LOADED, less_loaded),
        (AssignmentReason.REGIONAL_POOL, chosen.agency_id != agency),
    ]
    reasons = tuple(reason for reason, holds in held if holds)
    return Assigned(pid, chosen.supporter_id, chosen.agency_id, reasons)


def naive_above(region: Region, agency: str, pid: str) -> set[str]:
    seen = [pid]
    record = region.officers.get((agency, pid))
    while record is not None and record.supervisor_id and record.supervisor_id not in seen:
        seen.append(record.supervisor_id)
        record = region.officers.get((agency, record.supervisor_id))
    return set(seen[1:])


# Measuring.


def small_incident(
    region: Region, everyone: list[tuple[str, str]], rng: random.Random
) -> tuple[Incident, str, datetime]:
    """One officer, drawn from the whole region, to serve from an incident with a few
    colleagues involved too."""
    agency, pid = rng.choice(everyone)
    colleagues = rng.sample(region.by_agency[agency], rng.randint(0, 3))
    involved = [pid, *(c for c in colleagues if c != pid)]
    now = START + timedelta(minutes=rng.randint(0, 7 * 24 * 60))
    incident = Incident(
        uuid.uuid4(),
        agency,
        rng.choice(list(Category)),
        now - timedelta(minutes=rng.randint(5, 360)),
        frozenset(involved),
    )
    return incident, involved[0], now


def measure(args: argparse.Namespace, region: Region, rng: random.Random) -> dict:
    started = clock.perf_counter()
    index = RosterIndex(
        region.supporters,
        region.officers.values(),
        region.preferences,
        region.settings.values(),
    )
    result: dict = {"build_ms": (clock.perf_counter() - started) * 1000}
    loads = {s.supporter_id: s.open_assignments for s in region.supporters}
    everyone = list(region.officers)

    def match_one(incident: Incident, pid: str, now: datetime) -> tuple[Result, float]:
        began = clock.perf_counter()
        [answer] = index.assign(incident, [pid], now)
        elapsed = (clock.perf_counter() - began) * 1000
        if isinstance(answer, Assigned):  # released at once: every sample sees one roster
            index.set_load(answer.supporter_id, index.load(answer.supporter_id) - 1)
        return answer, elapsed

    for _ in range(args.warmup):
        match_one(*small_incident(region, everyone, rng))
    result["index_ms"], result["outcomes"] = [], {}
    for _ in range(args.samples):
        answer, elapsed = match_one(*small_incident(region, everyone, rng))
        result["index_ms"].append(elapsed)
        kind = outcome(answer)
        result["outcomes"][kind] = result["outcomes"].get(kind, 0) + 1
    result["naive_ms"] = []
    for _ in range(args.naive_samples):
        incident, pid, now = small_incident(region, everyone, rng)
        began = clock.perf_counter()
        expected = naive_match(region, incident, pid, now, loads)
        result["naive_ms"].append((clock.perf_counter() - began) * 1000)
        answer, _ = match_one(incident, pid, now)
        assert answer == expected, (answer, expected)

    incident, officers, now = batch_incident(args, region, rng)
    began = clock.perf_counter()
    answers = index.assign(incident, officers, now)
    result["batch_ms"] = (clock.perf_counter() - began) * 1000
    began = clock.perf_counter()
    expected = []
    for pid in officers:
        expected.append(naive_match(region, incident, pid, now, loads))
        if isinstance(expected[-1], Assigned):
            loads[expected[-1].supporter_id] += 1
    result["naive_batch_ms"] = (clock.perf_counter() - began) * 1000
    assert answers == expected
    result["batch"] = {}
    for answer in answers:
        result["batch"][outcome(answer)] = result["batch"].get(outcome(answer), 0) + 1
    result["batch_agency"] = incident.agency_id
    return result


def batch_incident(
    args: argparse.Namespace, region: Region, rng: random.Random
) -> tuple[Incident, list[str], datetime]:
    """A mass casualty in the largest agency that draws on the region."""
    agency = batch_agency(region)
    officers = rng.sample(region.by_agency[agency], args.batch)
    now = START + timedelta(days=2, hours=3)
    incident = Incident(
        uuid.uuid4(), agency, Category.MASS_CASUALTY, now - timedelta(hours=1), frozenset(officers)
    )
    return incident, officers, now


def batch_agency(region: Region) -> str:
    """The largest agency that draws on the region."""
    return max(
        (a for a, s in region.settings.items() if s.use_regional_pool),
        key=lambda a: len(region.by_agency[a]),
    )


def outcome(answer: Result) -> str:
    if isinstance(answer, Assigned):
        regional = AssignmentReason.REGIONAL_POOL in answer.reasons
        return "assigned, regional pool" if regional else "assigned, own agency"
    if isinstance(answer, Unfilled):
        return f"unfilled, {answer.reason}"
    return "opted out"


# End to end: the roster service as its own process, on a real NATS server.

INCIDENTS = "peerline/incidents"  # the source the incidents service's outbox publishes as
DURABLE = "roster-incidents"  # the roster's consumer of incident events
ROWS_PER_STATEMENT = 5_000
# Roles in a mass casualty, with weights: the service serves them in `ROLE_ORDER`.
ROLES = {
    InvolvedRole.PRIMARY: 2,
    InvolvedRole.SUPERVISOR: 4,
    InvolvedRole.ASSISTING: 70,
    InvolvedRole.WITNESS: 20,
    InvolvedRole.DISPATCHER: 4,
}


def as_stored(region: Region, keeps_background: bool) -> Region:
    """The region as the roster's store hands it to matching: officer records lose their
    background where the store has no column for it."""
    if keeps_background:
        return region
    officers = {key: replace(o, background=frozenset()) for key, o in region.officers.items()}
    return replace(region, officers=officers)


def roster_rows(region: Region, field_key: str) -> dict[type, list[dict]]:
    """The region as rows of the roster's tables, as its routes would write them."""
    now = datetime.now(UTC)
    sealer = Sealer(Settings(service="roster", field_key=field_key))
    keeps_background = "background" in store.OfficerRow.__table__.c
    rows: dict[type, list[dict]] = {
        store.AgencySettingsRow: [
            {
                "agency_id": s.agency_id,
                "exclude_same_unit": s.exclude_same_unit,
                "share_with_region": s.share_with_region,
                "use_regional_pool": s.use_regional_pool,
                "required_training": sorted(s.required_training),
                "care_for_carers_after": s.care_for_carers_after,
                "updated_at": now,
            }
            for s in region.settings.values()
        ],
        store.OfficerRow: [
            {
                "agency_id": o.agency_id,
                "personnel_id": o.personnel_id,
                "unit": o.unit,
                "rank": o.rank,
                "supervisor_id": o.supervisor_id,
                "updated_at": now,
            }
            | ({"background": sorted(o.background) or None} if keeps_background else {})
            for o in region.officers.values()
        ],
        store.PreferencesRow: [
            {
                "agency_id": agency,
                "personnel_id": pid,
                "preferred_gender": p.preferred_gender,
                "languages": sorted(p.languages),
                "outside_agency": p.outside_agency,
                "opted_out": p.opted_out,
                "updated_at": now,
            }
            for (agency, pid), p in region.preferences.items()
        ],
        store.SupporterRow: [],
        store.TrainingRow: [],
        LoadRow: [],
        RevisionRow: [{"id": 1, "revision": 1}],  # moved: any index is stale
    }
    for s in region.supporters:
        availability = s.availability
        record = SupporterRecord(
            agency_id=s.agency_id,
            personnel_id=s.personnel_id,
            display_name=f"Supporter {s.supporter_id}",
            contact=Contact(email=f"{s.supporter_id.lower()}@bench.invalid"),
            rank=s.rank,
            unit=s.unit,
            gender=s.gender,
            languages=sorted(s.languages),
            background=sorted(s.background),
            specialties=sorted(s.specialties),
            certified_until=s.certified_until,
            active=s.active,
            max_open_assignments=s.max_open_assignments,
            accepts_cross_agency=s.accepts_cross_agency,
            availability={
                "timezone": availability.timezone,
                "weekly": [
                    {"day": w.day, "start": w.start, "end": w.end} for w in availability.weekly
                ],
                "on_call": [{"start": p.start, "end": p.end} for p in availability.on_call],
                "leave": [{"start": p.start, "end": p.end} for p in availability.leave],
            },
        )
        personal = Personal(display_name=record.display_name, contact=record.contact)
        rows[store.SupporterRow].append(
            {
                "supporter_id": s.supporter_id,
                "agency_id": s.agency_id,
                "personnel_id": s.personnel_id,
                "active": s.active,
                "certified_until": s.certified_until,
                "max_open_assignments": s.max_open_assignments,
                "accepts_cross_agency": s.accepts_cross_agency,
                "profile": record.model_dump(mode="json", include=PROFILE),
                "personal": sealer.seal(s.supporter_id, personal),
                "removed_at": None,
                "updated_at": now,
            }
        )
        rows[store.TrainingRow] += [
            {
                "supporter_id": s.supporter_id,
                "area": area.value,
                "agency_id": s.agency_id,
                "completed_on": expires - timedelta(days=730),
                "expires_on": expires,
                "updated_at": now,
            }
            for area, expires in s.training.items()
        ]
        if s.open_assignments:
            rows[LoadRow].append(
                {"supporter_id": s.supporter_id, "open_assignments": s.open_assignments}
            )
    return rows


async def fill(database_url: str, rows: dict[type, list[dict]]) -> dict:
    """Migrate a new roster database and write `rows` into it in one transaction; then
    load it back as the service does (`store.load_index_inputs`) and build the index,
    timing both."""
    engine = db.create_engine(database_url)
    try:
        began = clock.perf_counter()
        await db.migrate(engine, MIGRATIONS)
        async with engine.begin() as conn:
            await conn.execute(delete(RevisionRow.__table__))
            for model, table_rows in rows.items():
                for start in range(0, len(table_rows), ROWS_PER_STATEMENT):
                    chunk = table_rows[start : start + ROWS_PER_STATEMENT]
                    await conn.execute(insert(model.__table__), chunk)
        written = clock.perf_counter() - began
        began = clock.perf_counter()
        async with db.sessionmaker(engine)() as session:
            inputs = await store.load_index_inputs(session)
        loaded = clock.perf_counter() - began
    finally:
        await engine.dispose()
    began = clock.perf_counter()
    RosterIndex(inputs.supporters, inputs.officers, inputs.preferences, inputs.settings.values())
    built = clock.perf_counter() - began
    assert len(inputs.supporters) == len(rows[store.SupporterRow])
    assert len(inputs.officers) == len(rows[store.OfficerRow])
    return {"write_s": written, "load_s": loaded, "index_s": built}


def start_roster(workdir: Path, nats_url: str, database_url: str, field_key: str):
    """The roster service as `peerline up` starts it: `python -m services.roster`."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
        "PEERLINE_SERVICE": "roster",
        "PEERLINE_NATS_URL": nats_url,
        "PEERLINE_DATA_DIR": str(workdir),
        "PEERLINE_DATABASE_URL": database_url,
        "PEERLINE_HOST": "127.0.0.1",
        "PEERLINE_PORT": str(port),
        "PEERLINE_JWT_SECRET": "bench-" + "s" * 40,
        "PEERLINE_FIELD_KEY": field_key,
        "PEERLINE_ID_KEY": "bench-ids-" + "i" * 32,
    }
    process = spawn([sys.executable, "-m", "services.roster"], workdir / "roster.log", env)
    return process, port


async def wait_ready(port: int, process, timeout: float = 120.0) -> None:
    """Until `GET /readyz` answers 200: migrated, on the bus, its consumer bound."""
    deadline = clock.perf_counter() + timeout
    while clock.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the roster service exited with {process.returncode}")
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            status = await reader.readline()
            writer.close()
            if b" 200 " in status:
                return
        except OSError:
            pass
        await asyncio.sleep(0.05)
    raise TimeoutError("the roster service did not become ready")


async def drained(js, timeout: float = 120.0) -> None:
    """Until the roster's consumer has applied and acked everything on its subjects."""
    deadline = clock.perf_counter() + timeout
    while clock.perf_counter() < deadline:
        info = await js.consumer_info(EVENTS.name, DURABLE)
        if info.num_pending == 0 and info.num_ack_pending == 0:
            return
        await asyncio.sleep(0.02)
    raise TimeoutError("the roster's consumer did not drain")


def mass_casualty(
    region: Region, agency: str, n: int, rng: random.Random
) -> tuple[list[Involved], list[str]]:
    """`n` involved officers of `agency` with roles, and their personnel ids in the order
    the service serves them."""
    officers = rng.sample(region.by_agency[agency], n)
    roles = rng.choices(list(ROLES), weights=list(ROLES.values()), k=n)
    involved = [Involved(personnel_id=p, role=r) for p, r in zip(officers, roles, strict=True)]
    served = sorted(involved, key=lambda i: ROLE_ORDER.get(i.role, 9))
    return involved, [i.personnel_id for i in served]


def as_on_bus(answer: Result) -> tuple | None:
    """An index or naive result as its event on the bus shows it (None: no event)."""
    if isinstance(answer, Assigned):
        return ("made", answer.supporter_id, tuple(r.value for r in answer.reasons))
    if isinstance(answer, Unfilled):
        return ("unfilled", answer.reason.value)
    return None


async def on_the_bus(
    args: argparse.Namespace,
    region: Region,
    agency: str,
    involved: list[Involved],
    served: list[str],
    nats_url: str,
    port: int,
    process,
) -> dict:
    """Report the same mass casualty `1 + args.rounds` times (a new incident each time,
    retracted once answered) and time each from publish to its last outcome."""
    began = clock.perf_counter()
    await wait_ready(port, process)
    result: dict = {"ready_s": clock.perf_counter() - began, "rounds": []}
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    seen: dict[str, dict[str, tuple[float, str, dict]]] = {}

    async def on_msg(msg) -> None:
        arrived = clock.perf_counter()
        body = json.loads(msg.data)
        by_officer = seen.setdefault(body["incident_id"], {})
        by_officer.setdefault(body["personnel_id"], (arrived, msg.subject, body))

    await js.subscribe(
        f"ps.{agency}.assignment.*",
        stream=EVENTS.name,
        cb=on_msg,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW),
        pending_msgs_limit=100_000,
    )
    opted_out = {
        pid for pid in served if region.preferences.get((agency, pid), Preferences()).opted_out
    }
    expected = len(served) - len(opted_out)
    try:
        for n in range(1 + args.rounds):
            external_id = f"BENCH-MCI-{n:03d}-{uuid.uuid4().hex[:8]}"
            incident_id = incident_id_for(agency, external_id)
            event = IncidentReported(
                agency_id=agency,
                occurred_at=datetime.now(UTC) - timedelta(hours=1),
                incident_id=incident_id,
                external_id=external_id,
                category=Category.MASS_CASUALTY,
                involved=involved,
            )
            payload, headers = cloudevents.encode(event, source=INCIDENTS)
            sent = clock.perf_counter()
            await bus.publish_raw(js, event.subject, payload, headers, timeout=10)
            acked = clock.perf_counter()
            deadline = sent + 180
            while len(seen.get(str(incident_id), {})) < expected:
                if clock.perf_counter() > deadline or process.poll() is not None:
                    got = len(seen.get(str(incident_id), {}))
                    raise TimeoutError(f"saw {got} of {expected} outcomes; see the roster log")
                await asyncio.sleep(0.002)
            outcomes = seen[str(incident_id)]
            arrivals = sorted(t for t, _, _ in outcomes.values())
            result["rounds"].append(
                {
                    "ack_s": acked - sent,
                    "first_s": arrivals[0] - sent,
                    "last_s": arrivals[-1] - sent,
                    "event": event,
                    "outcomes": outcomes,
                }
            )
            retraction = IncidentRetracted(
                agency_id=agency, incident_id=incident_id, reason=RetractionReason.OTHER
            )
            payload, headers = cloudevents.encode(retraction, source=INCIDENTS)
            await bus.publish_raw(js, retraction.subject, payload, headers, timeout=10)
            await drained(js)
    finally:
        await nc.close()
    assert not any(pid in opted_out for r in result["rounds"] for pid in r["outcomes"])
    result["expected"] = expected
    return result


def compare(region: Region, served: list[str], rounds: list[dict]) -> int:
    """How many outcomes on the bus differ from the index's answer for the same officers
    and loads at the moment the service decided (its events' `occurred_at`)."""
    differ = 0
    for r in rounds:
        body = min((b for _, _, b in r["outcomes"].values()), key=lambda b: b["occurred_at"])
        decided = datetime.fromisoformat(body["occurred_at"])
        index = RosterIndex(
            region.supporters,
            region.officers.values(),
            region.preferences,
            region.settings.values(),
        )
        event = r["event"]
        incident = Incident(
            event.incident_id,
            event.agency_id,
            event.category,
            event.occurred_at,
            frozenset(i.personnel_id for i in event.involved),
        )
        for answer in index.assign(incident, served, decided):
            wanted = as_on_bus(answer)
            got = r["outcomes"].get(answer.personnel_id)
            if got is not None:
                _, subject, b = got
                verb = subject.rsplit(".", 1)[1]
                if verb == "made":
                    got = (verb, b["supporter_id"], tuple(b["reasons"]))
                else:
                    got = (verb, b["reason"])
            differ += got != wanted
    return differ


def end_to_end(args: argparse.Namespace, region: Region, rng: random.Random) -> dict:
    started = clock.perf_counter()
    agency = batch_agency(region)
    involved, served = mass_casualty(region, agency, args.batch, rng)
    field_key = new_key()
    rows = roster_rows(region, field_key)
    stored = as_stored(region, "background" in store.OfficerRow.__table__.c)
    result: dict = {"agency": agency, "rows": sum(len(r) for r in rows.values())}
    workdir = Path(tempfile.mkdtemp(prefix="peerline-bench-"))
    with (
        NatsServer(workdir / "nats") as server,
        scratch_database(args.database_url, workdir, "roster") as database_url,
    ):
        result |= asyncio.run(fill(database_url, rows))
        process, port = start_roster(workdir, server.url, database_url, field_key)
        try:
            result |= asyncio.run(
                on_the_bus(args, stored, agency, involved, served, server.url, port, process)
            )
        except BaseException:
            print(f"The roster service's log: {workdir / 'roster.log'}", file=sys.stderr)
            raise
        finally:
            terminate(process, timeout=15)
    # The baseline: the naive matcher serving the same officers, in the same order,
    # with the loads every round started from.
    first = result["rounds"][1]
    event = first["event"]
    incident = Incident(
        event.incident_id,
        agency,
        event.category,
        event.occurred_at,
        frozenset(i.personnel_id for i in event.involved),
    )
    now = datetime.now(UTC)
    loads = {s.supporter_id: s.open_assignments for s in stored.supporters}
    began = clock.perf_counter()
    expected = []
    for pid in served:
        expected.append(naive_match(stored, incident, pid, now, loads))
        if isinstance(expected[-1], Assigned):
            loads[expected[-1].supporter_id] += 1
    result["naive_s"] = clock.perf_counter() - began
    index = RosterIndex(
        stored.supporters, stored.officers.values(), stored.preferences, stored.settings.values()
    )
    assert index.assign(incident, served, now) == expected
    result["differ"] = compare(stored, served, result["rounds"])
    mix = result["mix"] = {"opted out": len(served) - result["expected"]}
    for _, subject, body in first["outcomes"].values():
        if subject.endswith(".made"):
            regional = AssignmentReason.REGIONAL_POOL.value in body["reasons"]
            kind = "assigned, regional pool" if regional else "assigned, own agency"
        else:
            kind = f"unfilled, {body['reason']}"
        mix[kind] = mix.get(kind, 0) + 1
    shutil.rmtree(workdir, ignore_errors=True)
    result["total_s"] = clock.perf_counter() - started
    return result


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(args: argparse.Namespace, region: Region, r: dict) -> None:
    regional = sum(
        1
        for s in region.supporters
        if s.active and s.accepts_cross_agency and region.settings[s.agency_id].share_with_region
    )
    print(
        f"\nMatching ({os.cpu_count()} cores; {len(region.settings)} agencies, "
        f"{len(region.officers):,} officers, {len(region.supporters):,} supporters, "
        f"{regional:,} in the regional pool; index built in {r['build_ms']:.0f} ms)"
    )
    samples = f"{args.samples} / {args.naive_samples} officers"
    rows = [
        (f"p50 ms, match one officer ({samples})", "index_ms", "naive_ms", 50),
        (f"p99 ms, match one officer ({samples})", "index_ms", "naive_ms", 99),
    ]
    print(f"{'measure':<52}{'index':>10}{'naive':>10}{'ratio':>8}")
    for label, ours, base, p in rows:
        a, b = percentile(r[ours], p), percentile(r[base], p)
        print(f"{label:<52}{a:>10.2f}{b:>10.2f}{a / b:>8.3f}")
    label = f"ms, assign a {args.batch}-officer incident in one call"
    a, b = r["batch_ms"], r["naive_batch_ms"]
    print(f"{label:<52}{a:>10.1f}{b:>10.1f}{a / b:>8.3f}")
    print("\nHow the sampled officers were served:")
    for kind, count in sorted(r["outcomes"].items()):
        print(f"  {kind:<44}{count:>8}{count / args.samples:>8.1%}")
    print(f"The {args.batch}-officer incident ({r['batch_agency']}):")
    for kind, count in sorted(r["batch"].items()):
        print(f"  {kind:<44}{count:>8}")
    print("Index and naive matcher agreed on every compared officer and on the whole batch.")


def report_end_to_end(args: argparse.Namespace, r: dict) -> None:
    where = "PostgreSQL" if args.database_url else "SQLite (WAL, synchronous=FULL)"
    cold, warm = r["rounds"][0], r["rounds"][1:]
    median = statistics.median(w["last_s"] for w in warm)
    best = min(w["last_s"] for w in warm)
    print(
        f"\nEnd to end (the roster service as its own process on {where}, a nats-server; "
        f"{r['agency']}, {args.batch} officers, {r['expected']} outcomes on the bus)"
    )
    print(
        f"Region written in {r['write_s']:.1f} s ({r['rows']:,} rows, bulk inserts after the "
        f"migrations); read back as the service does in {r['load_s']:.1f} s, index built in "
        f"{r['index_s'] * 1000:.0f} ms (both in this process); service ready "
        f"{r['ready_s']:.1f} s after start"
    )
    rows = [
        (f"s, report to last outcome, warm (median of {len(warm)})", median),
        (f"s, report to last outcome, warm (best of {len(warm)})", best),
        ("s, report to last outcome, cold (first after start)", cold["last_s"]),
    ]
    print(f"{'measure':<52}{'service':>10}{'naive':>10}{'ratio':>8}")
    for label, ours in rows:
        print(f"{label:<52}{ours:>10.2f}{r['naive_s']:>10.2f}{ours / r['naive_s']:>8.3f}")
    print(
        f"\n{'incident':<16}{'publish acked ms':>18}{'first outcome ms':>18}{'last outcome ms':>18}"
    )
    for n, round_ in enumerate(r["rounds"]):
        label = "cold" if n == 0 else f"warm {n}"
        times = (round_["ack_s"], round_["first_s"], round_["last_s"])
        print(f"{label:<16}" + "".join(f"{t * 1000:>18.0f}" for t in times))
    print(f"How the {args.batch} officers were served (first warm incident):")
    for kind, count in sorted(r["mix"].items()):
        print(f"  {kind:<44}{count:>8}")
    if r["differ"]:
        print(
            f"{r['differ']} outcomes on the bus differed from the index's answer at the "
            "moment the service decided (a window opening or closing in between?)."
        )
    else:
        print(
            "Every outcome on the bus was the index's answer for the same officers, loads "
            "and moment; the naive matcher agreed with the index on the batch."
        )
    print(
        f"\nend to end {args.batch}-officer incident: {median:.2f} s (cold "
        f"{cold['last_s']:.2f} s); naive in-process matching of the same {args.batch}: "
        f"{r['naive_s']:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agencies", type=int, default=200)
    parser.add_argument("--officers", type=int, default=100_000)
    parser.add_argument("--supporters", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--naive-samples", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--rounds", type=int, default=4, help="warm end-to-end incidents after the cold one"
    )
    parser.add_argument("--database-url", default=None, help="PostgreSQL: a scratch database")
    parser.add_argument(
        "--in-process-only", action="store_true", help="skip the end-to-end measurement"
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds: at least one warm incident")
    load = os.getloadavg()[0]  # others' work on these cores shows in every figure
    began = clock.perf_counter()
    rng = random.Random(args.seed)
    region = generate(args, rng)
    generated = clock.perf_counter()
    report(args, region, measure(args, region, rng))
    measured = clock.perf_counter()
    if not args.in_process_only:
        e2e = end_to_end(args, region, rng)
        report_end_to_end(args, e2e)
    print(
        f"\nBench run: {clock.perf_counter() - began:.0f} s (region generated in "
        f"{generated - began:.0f} s, in process {measured - generated:.0f} s"
        + (
            ""
            if args.in_process_only
            else f", end to end {e2e['total_s']:.0f} s of which the naive baseline "
            f"{e2e['naive_s']:.0f} s"
        )
        + f"; load average {load:.1f} at start)"
    )


if __name__ == "__main__":
    main()
