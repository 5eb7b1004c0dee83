"""`peerline demo`: a sample region in a running `peerline up`, so a newcomer sees the flow.

Three agencies, each with trained peer supporters (availability, languages, some with
quiet hours), officers in units under chains of supervisors (each with their own name,
phone, e-mail and preferred way to be reached, sealed by the roster and shown only to
the supporter assigned to them), resources with crisis
lines and a coordinator; three region-wide resources; then four critical incidents
reported as each agency's CAD would report them. One agency's check-in policy is
compressed to minutes, so its offers fall due, close and follow up while the newcomer
watches `peerline events tail`.

Then a year of history, so a chief has figures to see: incidents of the twelve months
before this one, reported late (dated when they occurred) through the same API, a few
at a time. The metrics service releases a month once it has closed, and withholds an
agency's month with fewer than 20 officers involved (docs/metrics.md): Harbor City, the
demo agency, is busy enough that every month of its history is released, with most
cells of 5 or more; the others are smaller, some of their months withheld. Only the
incidents are back-dated: the services match them now, so the assignments, offers,
contacts and feedback they set off count in the month still open. The demo waits until
the metrics service has counted the history (each month is frozen the first time anyone
asks for it), then prints the dashboard's address and the leadership report's.

It uses the public HTTP APIs only, with tokens signed by the stack's secret as
`peerline token` signs them, so every step is one a real caller could take; its one
other look is at the metrics service's consumer on the bus, read-only, to know when the
history is counted. The people and incidents are made up, from seeded generators and
fixed ids (a history month's generator is seeded with the month), so every run writes
the same region: a second run finds the roster unchanged, replaces the other records
with themselves and is told `duplicate` for each incident.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import http.client
import io
import itertools
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import nats.errors
from nats.js.api import ConsumerConfig, DeliverPolicy

from peerline import natsclient
from peerline.roster_import import ImportFailed, send
from shared.cloudevents import decode
from shared.events import IncidentReported
from shared.settings import Settings
from shared.streams import EVENTS
from shared.tokens import Role, issue_token
from shared.vocab import Category, TrainingArea

Writer = Callable[[str], None]

PEOPLE_FILE = "demo-people.json"  # read by the portal's local sign-in
CALL_TTL = timedelta(minutes=10)  # the demo's own calls: a run takes seconds
TRY_TTL = timedelta(hours=1)  # the tokens printed for the newcomer
TIMEOUT = 30.0
ASSIGNMENT_WAIT = 20.0  # seconds to wait for the first assignment to show
HISTORY_MONTHS = 12  # closed months of back-dated incidents, for the metrics to release
HISTORY_WORKERS = 8  # history reports in flight at once
COUNT_WAIT = 30.0  # seconds to wait for the metrics service to count the history
METRICS_DURABLE = "metrics-events"  # its consumer of PEERLINE_EVENTS (docs/metrics.md)

# The one agency whose offers come in minutes rather than days: minutes after the
# incident when the first offer falls due, when its window closes, when a follow-up is due.
FIRST_OFFER, WINDOW_CLOSES, FOLLOW_UP = 1, 6, 10
COMPRESSED_POLICY = {
    "first_offer_after": f"PT{FIRST_OFFER}M",
    "window_closes_after": f"PT{WINDOW_CLOSES}M",
    "follow_ups": [f"PT{FOLLOW_UP}M"],
    "anniversary_after": None,
    "follow_up_min_gap": "PT1M",
}

# Calls go straight to the local stack, whatever HTTP proxy the environment names, each
# thread keeping its connection to each service open from one call to the next.
_KEPT = threading.local()


class DemoFailed(Exception):
    """A call the demo depends on failed; the message says which and why."""


# The region.


@dataclass(frozen=True)
class Pace:
    """How busy an agency is in a month of the demo's history: per category, a least
    number of critical incidents and up to `more` on top, at random; each involving from
    `crew[0]` to `crew[1]` officers of one unit, their sergeant among them."""

    categories: tuple[tuple[Category, int, int], ...]
    crew: tuple[int, int]


@dataclass(frozen=True)
class Agency:
    agency_id: str  # an ORI
    name: str
    place: str
    prefix: str  # of its personnel and record ids
    domain: str  # of its e-mail addresses, under the reserved `.example`
    area_code: str  # of its (fictional, 555-01xx) phone numbers
    ranks: tuple[str, ...]  # line, senior line, sergeant, lieutenant, captain, deputy, head
    units: tuple[str, ...]
    officers: int
    supporters: int
    coordinator: str
    share_with_region: bool
    use_regional_pool: bool
    pace: Pace


POLICE = ("Officer", "Corporal", "Sergeant", "Lieutenant", "Captain", "Deputy Chief", "Chief")
SHERIFF = ("Deputy", "Corporal", "Sergeant", "Lieutenant", "Captain", "Undersheriff", "Sheriff")

AGENCIES = (
    Agency(
        "CA0190000",
        "Harbor City Police Department",
        "Harbor City",
        "HC",
        "harborcity-pd.example",
        "209",
        POLICE,
        ("Patrol North", "Patrol South", "Patrol Central", "Traffic", "Investigations", "K9"),
        officers=160,
        supporters=16,
        coordinator="Dana Whitfield",
        share_with_region=True,
        use_regional_pool=True,
        pace=Pace(
            (
                (Category.FATAL_COLLISION, 5, 2),
                (Category.VIOLENT_DEATH_SCENE, 5, 1),
                (Category.OFFICER_SERIOUSLY_INJURED, 0, 3),
                (Category.CHILD_DEATH_OR_SERIOUS_INJURY, 0, 1),
                (Category.OFFICER_INVOLVED_SHOOTING, 0, 1),
            ),
            crew=(3, 4),
        ),
    ),
    Agency(
        "CA0190100",
        "Mesa County Sheriff's Office",
        "Mesa County",
        "MC",
        "mesacounty-so.example",
        "559",
        SHERIFF,
        ("Patrol East", "Patrol West", "Patrol Desert", "Traffic", "Investigations", "SWAT"),
        officers=140,
        supporters=14,
        coordinator="Renee Castillo",
        share_with_region=True,
        use_regional_pool=True,
        pace=Pace(
            (
                (Category.FATAL_COLLISION, 2, 3),
                (Category.VIOLENT_DEATH_SCENE, 1, 3),
                (Category.HOSTAGE_OR_BARRICADE, 0, 2),
            ),
            crew=(2, 4),
        ),
    ),
    Agency(
        "CA0190200",
        "Lakeview Police Department",
        "Lakeview",
        "LV",
        "lakeview-pd.example",
        "530",
        POLICE,
        ("Patrol Days", "Patrol Nights", "Traffic", "Investigations"),
        officers=100,
        supporters=10,
        coordinator="Tom Becker",
        share_with_region=False,
        use_regional_pool=True,
        pace=Pace(
            ((Category.FATAL_COLLISION, 1, 2), (Category.VIOLENT_DEATH_SCENE, 0, 2)),
            crew=(2, 3),
        ),
    ),
)
DEMO_AGENCY = AGENCIES[0]  # check-ins in minutes; the busiest, its chief shown the figures
TIMEZONE = "America/Los_Angeles"

FIRST_NAMES = {
    "female": ("Maria", "Jasmine", "Linh", "Rosa", "Kelly", "Aisha", "Priya", "Grace", "Erin"),
    "male": ("Marcus", "David", "Luis", "Kevin", "Andre", "Tomas", "Brian", "Jamal", "Ethan"),
}
LAST_NAMES = (
    *("Rivera", "Nguyen", "Johnson", "Garcia", "Okafor", "Patel", "Kim", "Washington", "Morales"),
    *("Chen", "Brooks", "Romero", "Hayes", "Reyes", "Murphy", "Ortiz", "Bennett", "Alvarez"),
    *("Tran", "Sullivan"),
)
OTHER_LANGUAGES = ("es", "es", "es", "vi", "tl", "zh", "ko")
BACKGROUNDS = ("military", "dispatch", "tactical", "investigations", "family_of_officer")
SPECIALTIES = [category.value for category in Category if category is not Category.OTHER_CRITICAL]
# How officers would rather be reached by their supporter, as often as officers choose them.
WAYS = ("text", "text", "call", "call", "email", "in_person")
# Officers' own (fictional, 555-01xx) numbers: 60 per area code, the agency's own first,
# then its neighbours', since people keep the number they had when they joined.
OFFICER_NUMBERS = range(120, 180)
AREA_CODES = ("209", "559", "530", "916", "707", "661")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
# Weekly windows in the roster CSV's form; blank: no stated limits, reachable any time.
SHIFTS = {
    "any time": "",
    "days": "; ".join(f"{day} 07:00-17:00" for day in WEEKDAYS),
    "swings": "; ".join(f"{day} 15:00-01:00" for day in WEEKDAYS),
    "nights": "; ".join(f"{day} 21:00-07:00" for day in ("sun", "mon", "tue", "wed", "thu")),
}


@dataclass(frozen=True)
class Officer:
    personnel_id: str
    rank: str
    unit: str
    supervisor_id: str | None
    background: tuple[str, ...]


@dataclass(frozen=True)
class Supporter:
    supporter_id: str
    officer: Officer
    first: str
    last: str
    gender: str
    languages: tuple[str, ...]
    background: tuple[str, ...]
    specialties: tuple[str, ...]
    shift: str
    max_open_assignments: int
    accepts_cross_agency: bool
    trained_on: date


class Roster(NamedTuple):
    officers: list[Officer]
    supporters: list[Supporter]

    def crew(self, unit: str, count: int) -> list[Officer]:
        """The first `count` line officers of `unit` who are not supporters."""
        return self.line(unit)[:count]

    def line(self, unit: str) -> list[Officer]:
        """The line officers of `unit` who are not supporters."""
        supporting = {s.officer.personnel_id for s in self.supporters}
        return [
            o
            for o in self.officers
            if o.unit == unit and o.personnel_id not in supporting and o.rank in _LINE_RANKS
        ]


_LINE_RANKS = {rank for ranks in (POLICE, SHERIFF) for rank in ranks[:2]}


def roster(agency: Agency) -> Roster:
    """The agency's officers, command first, each unit a lieutenant over two sergeants
    over its line officers; and its supporters, chosen among line officers, sergeants
    and lieutenants. The same every time: the generator is seeded with the agency."""
    rng = random.Random(agency.agency_id)
    line, senior, sergeant, lieutenant, captain, deputy, head = agency.ranks
    numbers = itertools.count(1001)
    officers: list[Officer] = []

    def hire(rank: str, unit: str, supervisor: Officer | None) -> Officer:
        background = tuple(b for b in BACKGROUNDS if rng.random() < 0.08)
        officer = Officer(
            f"{agency.prefix}{next(numbers)}",
            rank,
            unit,
            supervisor.personnel_id if supervisor else None,
            background,
        )
        officers.append(officer)
        return officer

    chief = hire(head, "Command Staff", None)
    second = hire(deputy, "Command Staff", chief)
    captains = [
        hire(captain, "Field Operations", second),
        hire(captain, "Support Services", second),
    ]
    sergeants = {}
    for index, unit in enumerate(agency.units):
        unit_lieutenant = hire(lieutenant, unit, captains[index % 2])
        sergeants[unit] = [hire(sergeant, unit, unit_lieutenant) for _ in range(2)]
    command = len(officers)
    for index in range(agency.officers - command):
        unit = agency.units[index % len(agency.units)]
        rank = senior if rng.random() < 0.15 else line
        hire(rank, unit, sergeants[unit][(index // len(agency.units)) % 2])

    candidates = [o for o in officers if o.rank in (line, senior, sergeant, lieutenant)]
    chosen = sorted(rng.sample(candidates, agency.supporters), key=lambda o: o.personnel_id)
    names = rng.sample(
        [(g, f, la) for g, firsts in FIRST_NAMES.items() for f in firsts for la in LAST_NAMES],
        len(chosen),
    )
    supporters = [
        Supporter(
            supporter_id=f"{agency.prefix}-PSO-{number:02d}",
            officer=officer,
            first=first,
            last=last,
            gender=gender,
            languages=("en", *sorted({rng.choice(OTHER_LANGUAGES)} if rng.random() < 0.4 else ())),
            background=tuple(sorted(rng.sample(BACKGROUNDS, rng.randint(0, 2)))),
            specialties=tuple(sorted(rng.sample(SPECIALTIES, rng.randint(1, 3)))),
            shift=rng.choice(list(SHIFTS)),
            max_open_assignments=rng.choice((2, 3, 3, 3, 4)),
            accepts_cross_agency=rng.random() < 0.7,
            trained_on=date(2025, rng.randint(1, 12), rng.randint(1, 28)),
        )
        for number, (officer, (gender, first, last)) in enumerate(
            zip(chosen, names, strict=True), start=1
        )
    ]
    return Roster(officers, supporters)


class Reach(NamedTuple):
    """An officer's own name and how the supporter assigned to them reaches them."""

    name: str
    phone: str
    email: str
    preferred: str


def officer_details(agency: Agency, region: Roster) -> dict[str, Reach]:
    """Every officer's name and contact details, by personnel_id: a supporter's are the
    ones on their supporter record (they are one person); the others are made up from a
    generator seeded apart from the roster's, so the roster stays what it was."""
    rng = random.Random(f"{agency.agency_id}/officers")
    supporters = {
        s.officer.personnel_id: (number, s) for number, s in enumerate(region.supporters, start=1)
    }
    taken = {(s.first, s.last) for s in region.supporters}
    free = [
        (first, last)
        for firsts in FIRST_NAMES.values()
        for first in firsts
        for last in LAST_NAMES
        if (first, last) not in taken
    ]
    names = iter(rng.sample(free, len(region.officers) - len(supporters)))
    codes = (agency.area_code, *(code for code in AREA_CODES if code != agency.area_code))
    details = {}
    for index, officer in enumerate(region.officers):
        preferred = rng.choice(WAYS)
        if officer.personnel_id in supporters:
            number, s = supporters[officer.personnel_id]
            first, last, phone = s.first, s.last, _phone(agency, number)
        else:
            first, last = next(names)
            code = codes[index // len(OFFICER_NUMBERS)]
            phone = f"+1 {code} 555 {OFFICER_NUMBERS[index % len(OFFICER_NUMBERS)]:04d}"
        email = f"{first}.{last}@{agency.domain}".lower()
        details[officer.personnel_id] = Reach(f"{first} {last}", phone, email, preferred)
    return details


def roster_csv(agency: Agency, region: Roster) -> bytes:
    """The agency's roster as `POST /v1/imports` takes it: a row per supporter (with
    their training) and per officer (with their own contact details)."""
    training = [f"training_{area}" for area in TrainingArea]
    columns = [
        *("kind", "supporter_id", "personnel_id", "display_name", "email", "phone"),
        *("rank", "unit", "gender", "languages", "background", "specialties"),
        *("certified_until", "max_open_assignments", "accepts_cross_agency", "timezone"),
        *("weekly", "quiet_start", "quiet_end", *training, "supervisor_id"),
        *("officer_name", "officer_phone", "officer_email", "officer_preferred"),
    ]
    details = officer_details(agency, region)
    out = io.StringIO()
    writer = csv.DictWriter(out, columns)
    writer.writeheader()
    for number, s in enumerate(region.supporters, start=1):
        expires = s.trained_on.replace(year=s.trained_on.year + 2)
        quiet = ("22:00", "06:00") if s.shift == "days" else ("", "")
        writer.writerow(
            {
                "kind": "supporter",
                "supporter_id": s.supporter_id,
                "personnel_id": s.officer.personnel_id,
                "display_name": f"{s.first} {s.last}",
                "email": f"{s.first}.{s.last}@{agency.domain}".lower(),
                "phone": _phone(agency, number),
                "rank": s.officer.rank,
                "unit": s.officer.unit,
                "gender": s.gender,
                "languages": "; ".join(s.languages),
                "background": "; ".join(s.background),
                "specialties": "; ".join(s.specialties),
                "certified_until": expires.isoformat(),
                "max_open_assignments": s.max_open_assignments,
                "accepts_cross_agency": str(s.accepts_cross_agency).lower(),
                "timezone": TIMEZONE,
                "weekly": SHIFTS[s.shift],
                "quiet_start": quiet[0],
                "quiet_end": quiet[1],
                **dict.fromkeys(training, f"{s.trained_on}/{expires}"),
            }
        )
    for o in region.officers:
        reach = details[o.personnel_id]
        writer.writerow(
            {
                "kind": "officer",
                "personnel_id": o.personnel_id,
                "rank": o.rank,
                "unit": o.unit,
                "background": "; ".join(o.background),
                "supervisor_id": o.supervisor_id or "",
                "officer_name": reach.name,
                "officer_phone": reach.phone,
                "officer_email": reach.email,
                "officer_preferred": reach.preferred,
            }
        )
    return out.getvalue().encode()


def _phone(agency: Agency, number: int) -> str:
    return f"+1 {agency.area_code} 555 {100 + number:04d}"


def resources(agency: Agency) -> dict[str, dict]:
    """The agency's own resources, its peer support line among them."""
    p = agency.prefix
    return {
        f"{p}-eap": {
            "name": f"{agency.place} Employee Assistance Program",
            "resource_type": "eap",
            "phone": _phone(agency, 90),
            "url": f"https://eap.{agency.domain}",
        },
        f"{p}-chaplain": {
            "name": f"{agency.name} Chaplains",
            "resource_type": "chaplain",
            "phone": _phone(agency, 91),
        },
        f"{p}-clinicians": {
            "name": f"First responder clinicians near {agency.place}",
            "resource_type": "clinician",
            "url": f"https://clinicians.{agency.domain}",
        },
        f"{p}-peer-line": {
            "name": f"{agency.name} Peer Support Line",
            "resource_type": "crisis_line",
            "phone": _phone(agency, 92),
            "crisis_line": True,
            "always_open": True,
        },
    }


REGION_RESOURCES = {
    "region-988": {
        "name": "988 Suicide & Crisis Lifeline",
        "resource_type": "crisis_line",
        "phone": "988",
        "url": "https://988lifeline.org",
        "crisis_line": True,
        "always_open": True,
    },
    "region-first-responder-line": {
        "name": "Regional First Responder Support Line",
        "resource_type": "crisis_line",
        "phone": "+1 916 555 0190",
        "crisis_line": True,
        "always_open": True,
    },
    "region-families": {
        "name": "Law Enforcement Families Network",
        "resource_type": "family",
        "url": "https://families.region.example",
    },
}


def coordinator_id(agency: Agency) -> str:
    """The id of the agency's peer support coordinator, and the `sub` of their token."""
    return f"{agency.prefix}-COORD-1"


def coordinator(agency: Agency) -> dict:
    """The coordinator's record. No notification URL, like the supporters: with no
    e-mail relay either, a local stack's notify delivers to its console at once, where
    an unreachable URL would be retried for minutes first."""
    first, last = agency.coordinator.split()
    return {
        "agency_id": agency.agency_id,
        "display_name": agency.coordinator,
        "contact": {
            "email": f"{first}.{last}@{agency.domain}".lower(),
            "phone": _phone(agency, 80),
        },
        "timezone": TIMEZONE,
        "active": True,
    }


# The incidents.


@dataclass(frozen=True)
class Incident:
    agency: Agency
    external_id: str
    what: str
    kind: dict[str, str]  # {"category": ...} or, as a CAD sends it, {"source_type": ...}
    involved: list[tuple[str, str]]  # (personnel_id, role)
    preferences: dict[str, dict]  # officers' own wishes, set before the report
    occurred_at: datetime | None = None  # None: as the demo runs


def incidents(region: dict[str, Roster]) -> list[Incident]:
    """Four incidents across the agencies, with officers from the generated roster: an
    officer-involved shooting (one officer wants a peer from outside the agency), a
    mass casualty with 30 deputies (one has opted out), a fatal collision and a child's
    death."""
    hc, mc, lv = (region[a.agency_id] for a in AGENCIES)

    def roles(officers: list[Officer], role: str) -> list[tuple[str, str]]:
        return [(o.personnel_id, role) for o in officers]

    ois = hc.crew("Patrol North", 2)
    east, west, swat = mc.crew("Patrol East", 8), mc.crew("Patrol West", 8), mc.crew("SWAT", 5)
    witnesses = mc.crew("Patrol Desert", 4)
    sergeants = [o.supervisor_id for o in (east[0], west[0], swat[0])]
    collision = lv.crew("Traffic", 2)
    child = hc.crew("Patrol South", 2)
    return [
        Incident(
            DEMO_AGENCY,
            "DEMO-OIS-1",
            "officer-involved shooting (CAD code OIS), 4 officers",
            {"source_type": "OIS"},
            [
                (ois[0].personnel_id, "primary"),
                (ois[1].personnel_id, "assisting"),
                (ois[0].supervisor_id, "supervisor"),
                (hc.crew("K9", 1)[0].personnel_id, "assisting"),
            ],
            {ois[1].personnel_id: {"outside_agency": True}},
        ),
        Incident(
            AGENCIES[1],
            "DEMO-MCI-1",
            "mass casualty, 30 deputies",
            {"category": "mass_casualty"},
            [
                *roles(east[:3], "primary"),
                *roles(east[3:] + west + swat, "assisting"),
                *((sergeant, "supervisor") for sergeant in sergeants),
                *roles(witnesses, "witness"),
                *roles(mc.crew("Investigations", 2), "investigator"),
            ],
            {witnesses[0].personnel_id: {"opted_out": True}},
        ),
        Incident(
            AGENCIES[2],
            "DEMO-MVC-1",
            "fatal collision (CAD code MVCFATAL), 3 officers",
            {"source_type": "MVCFATAL"},
            [
                (collision[0].personnel_id, "primary"),
                (collision[1].personnel_id, "assisting"),
                (lv.crew("Investigations", 1)[0].personnel_id, "investigator"),
            ],
            {},
        ),
        Incident(
            DEMO_AGENCY,
            "DEMO-CHILD-1",
            "child death, 2 officers",
            {"category": "child_death_or_serious_injury"},
            [(child[0].personnel_id, "primary"), (child[1].personnel_id, "assisting")],
            {},
        ),
    ]


# The history: a year of incidents, each agency's CAD reporting them late.


def history_months(today: date) -> list[date]:
    """The first days of the `HISTORY_MONTHS` months before `today`'s, oldest first."""
    months, first = [], today.replace(day=1)
    for _ in range(HISTORY_MONTHS):
        first = (first - timedelta(days=1)).replace(day=1)
        months.append(first)
    return months[::-1]


def history(region: dict[str, Roster], today: date) -> list[Incident]:
    """The incidents of every agency in the twelve months before `today`'s, as its
    `pace` says. A month's are the same whenever the demo runs (its generator is seeded
    with the agency and the month), so a second run is told `duplicate` for each."""
    return [
        incident
        for month in history_months(today)
        for agency in AGENCIES
        for incident in _month(agency, region[agency.agency_id], month)
    ]


def _month(agency: Agency, region: Roster, first: date) -> list[Incident]:
    rng = random.Random(f"{agency.agency_id}/{first:%Y-%m}")
    days = ((first + timedelta(days=31)).replace(day=1) - first).days
    supervisors = {o.personnel_id: o for o in region.officers}
    happened = []
    for category, least, more in agency.pace.categories:
        for _ in range(least + rng.randint(0, more)):
            unit = rng.choice(agency.units)
            crew = rng.sample(region.line(unit), rng.randint(*agency.pace.crew) - 1)
            sergeant = supervisors[crew[0].supervisor_id]
            involved = [
                (crew[0].personnel_id, "primary"),
                *((o.personnel_id, "assisting") for o in crew[1:]),
                (sergeant.personnel_id, "supervisor"),
            ]
            moment = datetime(
                first.year,
                first.month,
                rng.randint(1, days),
                rng.randint(0, 23),
                rng.randint(0, 59),
                tzinfo=UTC,
            )
            happened.append((moment, category, unit, involved))
    happened.sort(key=lambda h: h[0])
    return [
        Incident(
            agency,
            f"HIST-{first:%Y-%m}-{number:02d}",
            f"{category.value.replace('_', ' ')}, {unit}, {len(involved)} officers",
            {"category": category.value},
            involved,
            {},
            moment,
        )
        for number, (moment, category, unit, involved) in enumerate(happened, start=1)
    ]


# Running it.


class Stack(NamedTuple):
    """The running stack's addresses (from stack.json) and the secret tokens are
    signed with."""

    info: dict
    secret: str

    def url(self, service: str) -> str:
        url = self.info.get("services", {}).get(service)
        if not url:
            raise DemoFailed(f"the running stack has no {service} service")
        return url.rstrip("/")

    def token(
        self, agency: str, role: Role, sub: str | None = None, ttl: timedelta = CALL_TTL
    ) -> str:
        return issue_token(self.secret, agency=agency, role=role, sub=sub, ttl=ttl)

    def coordinator_token(self, agency: Agency, ttl: timedelta = CALL_TTL) -> str:
        return self.token(agency.agency_id, Role.COORDINATOR, coordinator_id(agency), ttl)


def call(method: str, url: str, token: str, body: Any = None) -> Any:
    """One JSON request; its answer, or `DemoFailed` with the problem's detail. Every
    call is one a second run repeats harmlessly, so a kept connection the service has
    closed meanwhile is simply tried again on a new one."""
    parts = urlsplit(url)
    target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for fresh in (False, True):
        connection = _connection(parts.scheme, parts.netloc, fresh)
        try:
            connection.request(method, target, data, headers)
            response = connection.getresponse()
            payload = response.read()
            break
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
            connection.close()
            if fresh:
                raise DemoFailed(f"cannot reach {url}: {exc}") from None
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise DemoFailed(f"cannot reach {url}: {exc}") from None
    if response.status >= 400:
        try:
            problem = json.loads(payload)
            detail = problem.get("detail") or problem.get("title")
        except (ValueError, AttributeError):
            detail = response.reason
        raise DemoFailed(f"{method} {url} answered {response.status}: {detail}")
    return json.loads(payload)


def _connection(scheme: str, netloc: str, fresh: bool) -> http.client.HTTPConnection:
    """This thread's connection to `netloc`: the one kept, unless `fresh`."""
    kept: dict = _KEPT.__dict__.setdefault("connections", {})
    if fresh or (scheme, netloc) not in kept:
        if (scheme, netloc) in kept:
            kept[scheme, netloc].close()
        kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        kept[scheme, netloc] = kind(netloc, timeout=TIMEOUT)
    return kept[scheme, netloc]


def run(info: dict, secret: str, data_dir: Path, out: Writer) -> None:
    """Write the sample region into the stack that `info` (the stack.json in `data_dir`)
    describes, report the incidents and the year before, and print how to follow what
    happens next and where the figures are."""
    stack = Stack(info, secret)
    for service in ("roster", "checkins", "incidents"):
        stack.url(service)  # each is there, before anything is written
    region = {agency.agency_id: roster(agency) for agency in AGENCIES}
    demo_incidents = incidents(region)

    out("Peerline demo: a sample region on the running stack\n")
    records = dict.fromkeys(("created", "updated", "unchanged"), 0)
    for agency in AGENCIES:
        imported = _write_agency(stack, agency, region[agency.agency_id], demo_incidents)
        for kind in ("supporters", "training", "officers"):
            for outcome, count in imported[kind].items():
                records[outcome] += count
        out(_agency_line(agency, region[agency.agency_id]))
    regional = stack.token(DEMO_AGENCY.agency_id, Role.REGIONAL, "regional-coordinator")
    for resource_id, resource in REGION_RESOURCES.items():
        body = {**resource, "region_wide": True}
        call("PUT", f"{stack.url('roster')}/v1/resources/{resource_id}", regional, body)
    out(f"  region     {len(REGION_RESOURCES)} region-wide resources, crisis lines among them")
    out(
        f"  The roster import: {records['created']} records new, {records['updated']} updated, "
        f"{records['unchanged']} unchanged."
    )
    policy_url = f"{stack.url('checkins')}/v1/policies/default"
    call("PUT", policy_url, stack.coordinator_token(DEMO_AGENCY), COMPRESSED_POLICY)

    out("\nIncidents, reported as each agency's CAD would:")
    now = datetime.now(UTC)
    reported = set()
    for incident in demo_incidents:
        answer = _report(stack, incident, now)
        reported.add(answer["incident_id"])
        status = answer["status"]
        out(f"  {incident.agency.agency_id}  {incident.external_id:<13} {incident.what}: {status}")

    months = history_months(now.date())
    past = history(region, now.date())
    out(
        f"\nA year of history, {months[0]:%b %Y} to {months[-1]:%b %Y}, reported late as "
        "each CAD would, for the\nmetrics to release month by month. One more than 30 "
        "days old is history: counted,\nmatched with no one; a recent one is matched as any "
        "late report is."
    )
    answers = _report_all(stack, past, now)
    for agency in AGENCIES:
        mine = [(i, a) for i, a in zip(past, answers, strict=True) if i.agency is agency]
        officers = sum(len(i.involved) for i, _ in mine)
        statuses = Counter(a["status"] for _, a in mine)
        out(
            f"  {agency.agency_id}  {len(mine)} incidents, {officers} officers involved: "
            + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
        )
    accepted = {a["incident_id"] for a in answers if a["status"] == "accepted"}
    counted = "metrics" not in stack.info.get("services", {}) or _await_counted(stack, accepted)

    out("")
    assignment = _first_assignment(stack, reported)
    for line in _next_steps(stack, assignment, data_dir):
        out(line)
    chosen = people(region, assignment)
    write_people(data_dir, chosen)
    if "portal" in stack.info.get("services", {}):
        out(f"\nOpen {stack.url('portal')} and sign in as one of:")
        for person in chosen:
            out(f"  {person['label']}")
    if "metrics" in stack.info.get("services", {}):
        out("")
        for line in _figures(stack, months, now, counted):
            out(line)


def _report(stack: Stack, incident: Incident, now: datetime) -> dict:
    """`POST /v1/incidents` as the agency's CAD; the answer (`status`, `incident_id`)."""
    body = {
        "external_id": incident.external_id,
        **incident.kind,
        "occurred_at": (incident.occurred_at or now).isoformat(),
        "involved": [{"personnel_id": p, "role": r} for p, r in incident.involved],
    }
    ingest = stack.token(incident.agency.agency_id, Role.INGEST)
    return call("POST", f"{stack.url('incidents')}/v1/incidents", ingest, body)


def _report_all(stack: Stack, reports: list[Incident], now: datetime) -> list[dict]:
    """Every report, `HISTORY_WORKERS` at a time (the incidents service commits the
    reports waiting together); the answers in order. The first refusal stops the rest."""
    with ThreadPoolExecutor(HISTORY_WORKERS) as pool:
        futures = [pool.submit(_report, stack, incident, now) for incident in reports]
        try:
            return [future.result() for future in futures]
        except DemoFailed:
            pool.shutdown(cancel_futures=True)
            raise


def people(region: dict[str, Roster], assignment: dict | None) -> list[dict]:
    """The demo's people to sign in to the portal as, on a local stack: a coordinator of
    each agency, the supporter of the first assignment (or the first supporter), an
    officer, a chief and the regional coordinator."""
    agency = DEMO_AGENCY
    roster_of = region[agency.agency_id]
    by_id = {s.supporter_id: s for r in region.values() for s in r.supporters}
    pso = by_id.get(assignment["supporter_id"]) if assignment else None
    pso = pso or roster_of.supporters[0]
    pso_agency = next(a for a in AGENCIES if pso in region[a.agency_id].supporters)
    officer = roster_of.crew("Patrol South", 3)[-1]
    reach = officer_details(agency, roster_of)[officer.personnel_id]
    chosen = [
        _person(
            f"{a.place} coordinator ({a.coordinator})",
            a,
            Role.COORDINATOR,
            coordinator_id(a),
            a.coordinator,
        )
        for a in AGENCIES
    ]
    chosen += [
        _person(
            f"PSO {pso.first} {pso.last} (supporter)",
            pso_agency,
            Role.SUPPORTER,
            pso.supporter_id,
            f"{pso.first} {pso.last}",
        ),
        _person(
            f"Officer {reach.name} ({agency.place}, officer)",
            agency,
            Role.OFFICER,
            officer.personnel_id,
            reach.name,
        ),
        _person(
            f"{agency.place} chief (leadership)",
            agency,
            Role.LEADERSHIP,
            f"{agency.prefix}-CHIEF",
            f"{agency.place} chief",
        ),
        _person(
            "Regional program lead (regional)",
            agency,
            Role.REGIONAL,
            "regional-lead",
            "Regional program lead",
        ),
    ]
    return chosen


def _person(label: str, agency: Agency, role: Role, subject: str, name: str) -> dict:
    return {
        "label": label,
        "agency": agency.agency_id,
        "role": role.value,
        "subject": subject,
        "name": name,
    }


def write_people(data_dir: Path, chosen: list[dict]) -> None:
    """Where the portal's local sign-in finds them (readable by this user only)."""
    path = data_dir / PEOPLE_FILE
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(json.dumps(chosen, indent=2) + "\n")


def _write_agency(
    stack: Stack, agency: Agency, region: Roster, demo_incidents: list[Incident]
) -> dict:
    """The agency's roster (one CSV import), settings, resources, coordinator and the
    wishes of officers in its incidents, as its coordinator keeps them; the import's
    counts."""
    roster_url = stack.url("roster")
    token = stack.coordinator_token(agency)
    try:
        imported = send(
            roster_url, token, roster_csv(agency, region), agency=agency.agency_id, dry_run=False
        )
    except ImportFailed as exc:
        raise DemoFailed("\n".join(["the roster refused the demo's CSV:", *exc.lines])) from None
    settings = {
        "share_with_region": agency.share_with_region,
        "use_regional_pool": agency.use_regional_pool,
    }
    call("PUT", f"{roster_url}/v1/settings", token, settings)
    for resource_id, resource in resources(agency).items():
        call("PUT", f"{roster_url}/v1/resources/{resource_id}", token, resource)
    call(
        "PUT", f"{roster_url}/v1/coordinators/{coordinator_id(agency)}", token, coordinator(agency)
    )
    for incident in demo_incidents:
        if incident.agency is agency:
            for personnel_id, wishes in incident.preferences.items():
                call("PUT", f"{roster_url}/v1/officers/{personnel_id}/preferences", token, wishes)
    return imported


def _agency_line(agency: Agency, region: Roster) -> str:
    flags = [
        "shares its supporters with the region" if agency.share_with_region else "",
        "uses the regional pool" if agency.use_regional_pool else "",
        "check-ins in minutes" if agency is DEMO_AGENCY else "",
    ]
    return (
        f"  {agency.agency_id}  {agency.name}: {len(region.supporters)} supporters, "
        f"{len(region.officers)} officers, {len(resources(agency))} resources, a coordinator\n"
        f"             {', '.join(flag for flag in flags if flag)}"
    )


def _first_assignment(stack: Stack, reported: set[str]) -> dict | None:
    """An assignment of a demo incident of the demo agency, once check-ins has it (a
    supporter to hand a token to); None if none shows within `ASSIGNMENT_WAIT`."""
    token = stack.coordinator_token(DEMO_AGENCY)
    deadline = time.monotonic() + ASSIGNMENT_WAIT
    while time.monotonic() < deadline:
        for assignment in call("GET", f"{stack.url('checkins')}/v1/assignments", token):
            if assignment["incident_id"] in reported:
                return assignment
        time.sleep(0.5)
    return None


def _next_steps(stack: Stack, assignment: dict | None, data_dir: Path) -> list[str]:
    """How to watch the flow, tokens to try the APIs with, and where everything runs."""
    lines = [
        "Watch the flow (events from now on):",
        "  peerline events tail 'ps.>'",
        f"  In {DEMO_AGENCY.agency_id} a check-in offer falls due {FIRST_OFFER} min after each",
        f"  incident, its window closes at {WINDOW_CLOSES} min and a follow-up is due at "
        f"{FOLLOW_UP} min;",
        "  the other agencies keep the program's policy (first offer after 24 hours).",
    ]
    if "notify" in stack.info.get("services", {}):
        lines.append(f"  Notifications go to notify's log: {data_dir / 'logs' / 'notify.log'}")
    coordinator_token = stack.coordinator_token(DEMO_AGENCY, TRY_TTL)
    roster_url, checkins_url = stack.url("roster"), stack.url("checkins")
    lines += ["", "Try the APIs (tokens valid for an hour; `peerline token` makes more):"]
    if assignment is None:
        lines.append("  (no assignment yet: matching is still at work; ask again in a moment)")
    else:
        supporter_token = stack.token(
            assignment["supporter_agency_id"],
            Role.SUPPORTER,
            assignment["supporter_id"],
            ttl=TRY_TTL,
        )
        officer_url = f"{roster_url}/v1/assignments/{assignment['assignment_id']}/officer"
        lines += [
            f"  Supporter {assignment['supporter_id']}, who has an assignment:",
            f"    export SUPPORTER_TOKEN={supporter_token}",
            f"    curl -s {checkins_url}/v1/assignments -H {_bearer('SUPPORTER_TOKEN')}",
            "    # how to reach the officer they were assigned (only they may; audited):",
            f"    curl -s {officer_url} -H {_bearer('SUPPORTER_TOKEN')}",
            f"    curl -s {roster_url}/v1/me -H {_bearer('SUPPORTER_TOKEN')}",
        ]
    lines += [
        f"  Coordinator {coordinator_id(DEMO_AGENCY)} of {DEMO_AGENCY.agency_id}:",
        f"    export COORDINATOR_TOKEN={coordinator_token}",
        f"    curl -s {roster_url}/v1/supporters -H {_bearer('COORDINATOR_TOKEN')}",
        f"    curl -s {checkins_url}/v1/assignments -H {_bearer('COORDINATOR_TOKEN')}",
        "",
        "Where everything runs:",
        *(f"  {name:<10} {url}" for name, url in sorted(stack.info["services"].items())),
        f"  {'NATS':<10} {natsclient.shown(stack.info['nats_url'])}",
    ]
    return lines


def _await_counted(stack: Stack, incident_ids: set[str]) -> bool:
    """Whether the metrics service has counted the reports of `incident_ids` within
    `COUNT_WAIT`: a month's figures are frozen the first time anyone asks for them, so
    the dashboard is not worth opening before."""
    if not incident_ids:
        return True
    try:
        return asyncio.run(
            asyncio.wait_for(_counted(stack.info["nats_url"], incident_ids), COUNT_WAIT)
        )
    except (TimeoutError, OSError, nats.errors.Error):
        return False


async def _counted(nats_url: str, incident_ids: set[str]) -> bool:
    """Reads where each report is stored in `PEERLINE_EVENTS`, then waits until the
    metrics service's durable has acknowledged everything up to the last of them."""
    nc = await natsclient.connect(nats_url, name="peerline demo")
    try:
        js = nc.jetstream()
        reports = await js.subscribe(
            IncidentReported.subject_pattern(),
            stream=EVENTS.name,
            ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )
        waiting, last = set(incident_ids), 0
        while waiting:
            msg = await reports.next_msg(timeout=COUNT_WAIT)
            with contextlib.suppress(ValueError):
                incident_id = str(decode(msg.headers or {}, msg.data).incident_id)
                if incident_id in waiting:
                    waiting.discard(incident_id)
                    last = max(last, msg.metadata.sequence.stream)
        await reports.unsubscribe()
        while True:
            durable = await js.consumer_info(EVENTS.name, METRICS_DURABLE)
            if durable.ack_floor.stream_seq >= last or not (
                durable.num_pending or durable.num_ack_pending
            ):
                return True
            await asyncio.sleep(0.2)
    finally:
        await nc.close()


def _figures(stack: Stack, months: list[date], now: datetime, counted: bool) -> list[str]:
    """Where the chief of the demo agency sees the program's figures: the dashboard and
    the leadership report of the last quarter whose months are all released."""
    metrics = stack.url("metrics")
    agency = DEMO_AGENCY.agency_id
    leader = stack.token(agency, Role.LEADERSHIP, f"{DEMO_AGENCY.prefix}-CHIEF", TRY_TTL)
    quarter = last_closed_quarter(now)
    lines = [
        f"The program's figures, as {DEMO_AGENCY.place}'s chief sees them (role leadership):",
        f"  Each month is released once it has closed: {months[0]:%b %Y} to {months[-1]:%b %Y} "
        "show the history's",
        "  incidents and officers involved; the offers, contacts and feedback it sets off "
        "happen now",
        f"  and count in {now:%B %Y}, released when it ends.",
        "  The dashboard (the token after # stays in your browser; valid for an hour, and",
        f"  `peerline token --agency {agency} --role leadership` makes another):",
        f"    {metrics}/dashboard#token={leader}",
        f"  The leadership report of {quarter}, the last quarter released (a page of HTML; "
        "add ?format=pdf for a PDF):",
        f"    export LEADER_TOKEN={leader}",
        f"    curl -s {metrics}/v1/reports/{quarter} -H {_bearer('LEADER_TOKEN')} "
        f"-o report-{quarter}.html",
    ]
    if not counted:
        lines.insert(
            1,
            "  (The metrics service is still counting the history: give it a minute before "
            "you ask; each month is frozen the first time anyone does.)",
        )
    return lines


def last_closed_quarter(now: datetime) -> str:
    """The last quarter whose months the metrics service releases by `now` (each once
    closed, `metrics_release_after_hours` after its end)."""
    closed = now - timedelta(hours=Settings().metrics_release_after_hours)
    year, quarter = closed.year, (closed.month - 1) // 3  # the one before `closed`'s
    if quarter == 0:
        year, quarter = year - 1, 4
    return f"{year}-Q{quarter}"


def _bearer(variable: str) -> str:
    return f'"Authorization: Bearer ${variable}"'
