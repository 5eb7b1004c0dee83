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
- how the sampled officers were served, so the mix can be judged realistic.
The two must agree: every officer the naive matcher serves, and the whole batch, is
asserted to get the same result from both.

Single matches leave the index as they found it (the assignment is released at once),
so every sample sees the same roster; the index's per-supporter training dates fill in
during a short warm-up, as they would in a running service.

    python bench/matching.py [--supporters 10000] [--officers 100000] [--agencies 200]
                             [--samples 3000] [--naive-samples 200] [--warmup 500]
                             [--batch 500] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time as clock
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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
from shared.vocab import AssignmentReason, Category, UnfilledReason  # noqa: E402

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
    agency = max(
        (a for a, s in region.settings.items() if s.use_regional_pool),
        key=lambda a: len(region.by_agency[a]),
    )
    officers = rng.sample(region.by_agency[agency], args.batch)
    now = START + timedelta(days=2, hours=3)
    incident = Incident(
        uuid.uuid4(), agency, Category.MASS_CASUALTY, now - timedelta(hours=1), frozenset(officers)
    )
    return incident, officers, now


def outcome(answer: Result) -> str:
    if isinstance(answer, Assigned):
        regional = AssignmentReason.REGIONAL_POOL in answer.reasons
        return "assigned, regional pool" if regional else "assigned, own agency"
    if isinstance(answer, Unfilled):
        return f"unfilled, {answer.reason}"
    return "opted out"


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
    args = parser.parse_args()
    rng = random.Random(args.seed)
    region = generate(args, rng)
    report(args, region, measure(args, region, rng))


if __name__ == "__main__":
    main()
