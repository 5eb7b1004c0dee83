"""`peerline demo`: a sample region in a running `peerline up`, so a newcomer sees the flow.

Three agencies, each with trained peer supporters (availability, languages, some with
quiet hours), officers in units under chains of supervisors (each with their own name,
phone, e-mail and preferred way to be reached, sealed by the roster and shown only to
the supporter assigned to them), resources with crisis
lines and a coordinator; three region-wide resources; then four critical incidents
reported as each agency's CAD would report them. One agency's check-in policy is
compressed to minutes, so its offers fall due, close and follow up while the newcomer
watches `peerline events tail`.

It uses the public HTTP APIs only, with tokens signed by the stack's secret as
`peerline token` signs them, so every step is one a real caller could take. The people
are made up, from a seeded generator and fixed ids, so every run writes the same
region: a second run finds the roster unchanged, replaces the other records with
themselves and is told `duplicate` for each incident.
"""

from __future__ import annotations

import csv
import http.client
import io
import itertools
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from peerline import natsclient
from peerline.roster_import import ImportFailed, send
from shared.tokens import Role, issue_token
from shared.vocab import Category, TrainingArea

Writer = Callable[[str], None]

PEOPLE_FILE = "demo-people.json"  # read by the portal's local sign-in
CALL_TTL = timedelta(minutes=10)  # the demo's own calls: a run takes seconds
TRY_TTL = timedelta(hours=1)  # the tokens printed for the newcomer
TIMEOUT = 30.0
ASSIGNMENT_WAIT = 20.0  # seconds to wait for the first assignment to show

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

# Calls go straight to the local stack, whatever HTTP proxy the environment names.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class DemoFailed(Exception):
    """A call the demo depends on failed; the message says which and why."""


# The region.


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
    ),
)
DEMO_AGENCY = AGENCIES[0]  # its check-ins are compressed to minutes
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
        supporting = {s.officer.personnel_id for s in self.supporters}
        line = [
            o
            for o in self.officers
            if o.unit == unit and o.personnel_id not in supporting and o.rank in _LINE_RANKS
        ]
        return line[:count]


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
    """One JSON request; its answer, or `DemoFailed` with the problem's detail."""
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with _DIRECT.open(request, timeout=TIMEOUT) as response:
            return json.load(response)
    except urllib.error.HTTPError as refused:
        try:
            problem = json.loads(refused.read())
            detail = problem.get("detail") or problem.get("title")
        except ValueError:
            detail = refused.reason
        raise DemoFailed(f"{method} {url} answered {refused.code}: {detail}") from None
    except (OSError, http.client.HTTPException) as exc:
        raise DemoFailed(f"cannot reach {url}: {exc}") from None


def run(info: dict, secret: str, data_dir: Path, out: Writer) -> None:
    """Write the sample region into the stack that `info` (the stack.json in `data_dir`)
    describes, report the incidents and print how to follow what happens next."""
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
    now = datetime.now(UTC).isoformat()
    reported = set()
    for incident in demo_incidents:
        body = {
            "external_id": incident.external_id,
            **incident.kind,
            "occurred_at": now,
            "involved": [{"personnel_id": p, "role": r} for p, r in incident.involved],
        }
        ingest = stack.token(incident.agency.agency_id, Role.INGEST)
        answer = call("POST", f"{stack.url('incidents')}/v1/incidents", ingest, body)
        reported.add(answer["incident_id"])
        status = answer["status"]
        out(f"  {incident.agency.agency_id}  {incident.external_id:<13} {incident.what}: {status}")

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


def _bearer(variable: str) -> str:
    return f'"Authorization: Bearer ${variable}"'
