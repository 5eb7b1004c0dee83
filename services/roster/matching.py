"""Matching: the right peer support officer (PSO) for each officer involved in an incident.

Pure code over `domain` values. A `RosterIndex` keeps the region's roster grouped so that
an officer is matched against their own agency's supporters and, when needed, only the
regional pool, specialists of the incident's category first, and serves a mass-casualty
incident in one call (`bench/matching.py` measures it beside a scan of every supporter).

For each officer, in order (docs/product.md, the care timeline, step 2):
1. Pools. The officer's own agency first; the regional pool only when it holds nobody
   and the officer's agency uses the region (`use_regional_pool`). An officer who asked
   for someone outside their agency (`Preferences.outside_agency`) is served from the
   regional pool alone. The regional pool holds the supporters of agencies that share
   with the region (`share_with_region`) who themselves accept cross-agency work
   (`accepts_cross_agency`); an agency's own supporters are never "regional" to it.
2. Eligible (rule 6): active, certified (`certified_until`) and trained in every area
   that the supporter's agency or the officer's agency requires, through the later of
   the incident's day and today (UTC): current on the incident date and not expired
   since.
3. No conflict (rule 5): not the officer themself (same agency and personnel_id); not
   involved in the incident in any role; not in the officer's chain of command; not in
   the officer's unit when the officer's agency excludes the same unit. An officer with no
   record has no known unit, rank or supervisor, but supporters whose records name them
   as their supervisor are still excluded.
4. Preferences: the preferred gender, one of the preferred languages, another agency.
5. Free: below their cap (`open_assignments < max_open_assignments`) and reachable now or
   within the offer window (`domain.OFFER_WINDOW`).
6. Best fit, compared in this order: experience with the incident's category; most shared
   background codes; the closest rank (rungs of `domain.RANK_LADDER`; an unknown rank
   counts as one rung away, neither a peer nor a boss). Then reachable now before later,
   then the least loaded, then the smallest `supporter_id`, so equal inputs always give
   equal answers.

Why preferences are hard filters, how far "outside the agency" goes, which way the
chain of command runs, and how the reason for an unfilled assignment is chosen:
decision 59.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from services.roster.domain import (
    OFFER_WINDOW,
    AgencySettings,
    Officer,
    Preferences,
    Supporter,
    TrainingArea,
    draws_on_region,
    earliest_available,
    in_regional_pool,
    qualified_until,
    rank_rung,
)
from shared.vocab import AssignmentReason, Category, UnfilledReason

# Why nobody fits, by how far the furthest candidate got (see the module docstring).
_UNFILLED = (
    UnfilledReason.NO_ELIGIBLE_SUPPORTER,
    UnfilledReason.ALL_CONFLICTED,
    UnfilledReason.NO_PREFERENCE_MATCH,
    UnfilledReason.NONE_AVAILABLE,
)


@dataclass(frozen=True)
class Incident:
    """What matching needs of an incident. `involved` holds the personnel_id of everyone
    involved in any role; all of them belong to `agency_id`."""

    incident_id: uuid.UUID
    agency_id: str
    category: Category | None
    occurred_at: datetime
    involved: frozenset[str]


@dataclass(frozen=True)
class Assigned:
    personnel_id: str
    supporter_id: str
    supporter_agency_id: str
    reasons: tuple[AssignmentReason, ...]


@dataclass(frozen=True)
class Unfilled:
    personnel_id: str
    reason: UnfilledReason


@dataclass(frozen=True)
class OptedOut:
    """The officer opted out: no assignment and no event, only an anonymous count."""

    personnel_id: str


Result = Assigned | Unfilled | OptedOut


class _Entry:
    """One supporter as the index keeps them: the record, the live load, and what matching
    compares, normalised once rather than per officer."""

    __slots__ = (
        "_through",
        "gender",
        "languages",
        "load",
        "required",
        "rung",
        "supporter",
        "units",
    )

    def __init__(
        self, supporter: Supporter, record: Officer | None, required: frozenset[TrainingArea]
    ) -> None:
        self.supporter = supporter
        self.load = supporter.open_assignments
        self.gender = _fold(supporter.gender)
        self.languages = frozenset(language.casefold() for language in supporter.languages)
        self.required = required
        self._through: dict[frozenset[TrainingArea], date] = {}
        self.describe(record)

    def describe(self, record: Officer | None) -> None:
        """Take rank and unit from the supporter record, and from the officer record kept
        for the same person, which a coordinator may update on its own."""
        rank = self.supporter.rank or (record.rank if record else None)
        self.rung = rank_rung(rank)
        self.units = frozenset(u for u in (self.supporter.unit, record and record.unit) if u)

    def hold_to(self, required: frozenset[TrainingArea]) -> None:
        """Hold the supporter to their agency's (new) training requirements."""
        self.required = required
        self._through.clear()

    def qualified_through(self, required: frozenset[TrainingArea]) -> date:
        """The last day this supporter meets their own agency's training requirements and
        `required` (the officer's agency's); remembered per requirement, as agencies
        rarely change theirs."""
        through = self._through.get(required)
        if through is None:
            through = qualified_until(self.supporter, required | self.required) or date.min
            self._through[required] = through
        return through


class _Pool:
    """Active supporters a tier draws from, with the specialists of each category apart:
    any specialist outranks every non-specialist, so they are searched first."""

    __slots__ = ("members", "specialists")

    def __init__(self) -> None:
        self.members: dict[str, _Entry] = {}
        self.specialists: dict[Category, dict[str, _Entry]] = {c: {} for c in Category}

    def add(self, entry: _Entry) -> None:
        self.members[entry.supporter.supporter_id] = entry
        for category in entry.supporter.specialties:
            self.specialists[category][entry.supporter.supporter_id] = entry

    def discard(self, entry: _Entry) -> None:
        self.members.pop(entry.supporter.supporter_id, None)
        for category in entry.supporter.specialties:
            self.specialists[category].pop(entry.supporter.supporter_id, None)

    def bands(self, category: Category | None) -> Iterator[Iterable[_Entry]]:
        """The pool in bands of falling fit: specialists of `category`, then the rest."""
        if category is None:
            yield self.members.values()
            return
        yield self.specialists[category].values()
        yield (e for e in self.members.values() if category not in e.supporter.specialties)


class _Agency:
    """An agency's settings, officer records and supporters, and its own pool."""

    __slots__ = ("_above", "officers", "pool", "settings", "supporters")

    def __init__(self, settings: AgencySettings) -> None:
        self.settings = settings
        self.officers: dict[str, Officer] = {}
        self.supporters: dict[str, _Entry] = {}
        self.pool = _Pool()
        self._above: dict[str, frozenset[str]] = {}

    def forget_chains(self) -> None:
        self._above.clear()

    def above(self, personnel_id: str) -> frozenset[str]:
        """Everyone above `personnel_id` in the chain of command. The walk stops at a
        repeat, so a cycle in the records cannot hang it; remembered until an officer
        record of this agency changes."""
        chain = self._above.get(personnel_id)
        if chain is None:
            seen = [personnel_id]
            record = self.officers.get(personnel_id)
            while record is not None and record.supervisor_id and record.supervisor_id not in seen:
                seen.append(record.supervisor_id)
                record = self.officers.get(record.supervisor_id)
            chain = self._above[personnel_id] = frozenset(seen[1:])
        return chain


@dataclass(frozen=True)
class _Need:
    """One officer to serve, as matching compares them (names and codes normalised)."""

    agency: _Agency
    agency_id: str
    personnel_id: str
    unit: str | None
    rung: int | None
    background: frozenset[str]
    above: frozenset[str]
    gender: str | None
    languages: frozenset[str]
    outside: bool


class _Call:
    """What holds for one call: the moment, the day training must cover, the incident, and
    each supporter's earliest reachable moment, worked out once per call."""

    __slots__ = (
        "_earliest",
        "category",
        "day",
        "excluded",
        "incident_agency",
        "involved",
        "now",
        "within",
    )

    def __init__(
        self,
        now: datetime,
        day: date,
        category: Category | None = None,
        incident_agency: str | None = None,
        involved: frozenset[str] = frozenset(),
        excluded: frozenset[str] = frozenset(),
        within: timedelta = OFFER_WINDOW,
    ) -> None:
        self.now = now
        self.day = day
        self.category = category
        self.incident_agency = incident_agency
        self.involved = involved
        self.excluded = excluded  # supporter ids already tried for this officer
        self.within = within  # how soon a supporter must be reachable
        self._earliest: dict[str, datetime | None] = {}

    def earliest(self, entry: _Entry) -> datetime | None:
        supporter_id = entry.supporter.supporter_id
        if supporter_id not in self._earliest:
            self._earliest[supporter_id] = earliest_available(
                entry.supporter.availability, self.now, self.within
            )
        return self._earliest[supporter_id]


class RosterIndex:
    """The region's roster in memory, for matching.

    Load it with every supporter, officer record, officer's preferences (keyed by
    `(agency_id, personnel_id)`) and agency's settings; keep it current with the `put_*`
    and `remove_supporter` methods as records change, and with `set_load` whenever an
    assignment opens or closes outside this index. `assign` and `care_for_carer` raise
    the loads of the supporters they choose, so a batch never overfills anyone.
    """

    def __init__(
        self,
        supporters: Iterable[Supporter] = (),
        officers: Iterable[Officer] = (),
        preferences: Mapping[tuple[str, str], Preferences] | None = None,
        agencies: Iterable[AgencySettings] = (),
    ) -> None:
        self._agencies: dict[str, _Agency] = {}
        self._entries: dict[str, _Entry] = {}
        self._regional = _Pool()
        self._preferences: dict[tuple[str, str], Preferences] = dict(preferences or {})
        for settings in agencies:
            self.put_agency(settings)
        for officer in officers:
            self.put_officer(officer)
        for supporter in supporters:
            self.put_supporter(supporter)

    # Keeping the index current.

    def put_supporter(self, supporter: Supporter) -> None:
        """Add or replace a supporter; their load becomes `supporter.open_assignments`."""
        self.remove_supporter(supporter.supporter_id)
        agency = self._agency(supporter.agency_id)
        entry = _Entry(
            supporter,
            agency.officers.get(supporter.personnel_id),
            agency.settings.required_training,
        )
        self._entries[supporter.supporter_id] = entry
        agency.supporters[supporter.supporter_id] = entry
        self._pool(agency, entry)

    def remove_supporter(self, supporter_id: str) -> None:
        entry = self._entries.pop(supporter_id, None)
        if entry is not None:
            agency = self._agency(entry.supporter.agency_id)
            del agency.supporters[supporter_id]
            agency.pool.discard(entry)
            self._regional.discard(entry)

    def put_officer(self, officer: Officer) -> None:
        agency = self._agency(officer.agency_id)
        agency.officers[officer.personnel_id] = officer
        agency.forget_chains()  # a new supervisor moves everyone below this officer too
        for entry in agency.supporters.values():
            if entry.supporter.personnel_id == officer.personnel_id:
                entry.describe(officer)

    def put_preferences(self, agency_id: str, personnel_id: str, preferences: Preferences) -> None:
        self._preferences[(agency_id, personnel_id)] = preferences

    def put_agency(self, settings: AgencySettings) -> None:
        """Replace an agency's settings; its supporters join or leave the regional pool
        and are held to its training requirements from now on."""
        agency = self._agency(settings.agency_id)
        agency.settings = settings
        for entry in agency.supporters.values():
            entry.hold_to(settings.required_training)
            self._regional.discard(entry)
            self._pool(agency, entry)

    def set_load(self, supporter_id: str, open_assignments: int) -> None:
        """Set a supporter's open assignments, as committed in the store."""
        self._entries[supporter_id].load = open_assignments

    def load(self, supporter_id: str) -> int:
        return self._entries[supporter_id].load

    # Matching.

    def assign(
        self, incident: Incident, personnel_ids: Iterable[str], now: datetime
    ) -> list[Result]:
        """One result per distinct officer of `incident`, in the order given (see the
        module docstring on order). `now` must be timezone-aware."""
        call = self._call(incident, now)
        agency = self._agency(incident.agency_id)
        return [
            self._serve(call, agency.officers.get(pid) or Officer(incident.agency_id, pid))
            for pid in dict.fromkeys(personnel_ids)
        ]

    def assign_again(
        self,
        incident: Incident,
        personnel_id: str,
        now: datetime,
        *,
        excluded: frozenset[str],
        asked: Preferences | None = None,
        within: timedelta = OFFER_WINDOW,
    ) -> Assigned | Unfilled:
        """The best supporter for one officer but those `excluded` (already tried): an
        officer's request, or an assignment moving on. `asked` replaces the officer's
        stored preferences (a request's own wishes, where an opt-out does not apply: the
        officer is asking), and the supporter must be reachable `within` from now."""
        call = self._call(incident, now, excluded, within)
        officer = self._agency(incident.agency_id).officers.get(personnel_id)
        result = self._serve(call, officer or Officer(incident.agency_id, personnel_id), asked)
        assert not isinstance(result, OptedOut)  # asked preferences never opt out
        return result

    def fits(self, incident: Incident, personnel_id: str, supporter_id: str, now: datetime) -> bool:
        """Whether `supporter_id` may serve the officer at all (eligible, no conflict,
        below their cap), whatever their hours: a coordinator choosing a peer by hand."""
        entry = self._entries.get(supporter_id)
        if entry is None or not entry.supporter.active:
            return False
        if entry.load >= entry.supporter.max_open_assignments:
            return False
        call = self._call(incident, now)
        officer = self._agency(incident.agency_id).officers.get(personnel_id)
        need = self._need(officer or Officer(incident.agency_id, personnel_id), Preferences())
        return _qualified(call, need, entry) and not _conflicted(call, need, entry)

    def _call(
        self,
        incident: Incident,
        now: datetime,
        excluded: frozenset[str] = frozenset(),
        within: timedelta = OFFER_WINDOW,
    ) -> _Call:
        day = max(incident.occurred_at.astimezone(UTC).date(), now.astimezone(UTC).date())
        return _Call(
            now, day, incident.category, incident.agency_id, incident.involved, excluded, within
        )

    def supporter(self, supporter_id: str) -> Supporter:
        return self._entries[supporter_id].supporter

    def known(self, supporter_id: str) -> Supporter | None:
        entry = self._entries.get(supporter_id)
        return entry.supporter if entry is not None else None

    def care_for_carer(
        self, supporter_id: str, now: datetime, incident: Incident | None = None
    ) -> Result:
        """A peer for a supporter: the same rules, with the supporter as the officer.
        Care after an `incident` keeps everyone involved in it out, and prefers peers
        experienced with its category."""
        supporter = self._entries[supporter_id].supporter
        record = self._agency(supporter.agency_id).officers.get(supporter.personnel_id)
        officer = record or Officer(
            supporter.agency_id, supporter.personnel_id, unit=supporter.unit, rank=supporter.rank
        )
        officer = replace(officer, background=officer.background | supporter.background)
        day = now.astimezone(UTC).date()
        if incident is None:
            return self._serve(_Call(now, day), officer)
        return self._serve(
            _Call(now, day, incident.category, incident.agency_id, incident.involved), officer
        )

    # Inside.

    def _agency(self, agency_id: str) -> _Agency:
        agency = self._agencies.get(agency_id)
        if agency is None:
            agency = self._agencies[agency_id] = _Agency(AgencySettings(agency_id))
        return agency

    def _pool(self, agency: _Agency, entry: _Entry) -> None:
        """Put an entry in the pools its record and its agency's settings allow."""
        if not entry.supporter.active:
            return
        agency.pool.add(entry)
        if in_regional_pool(entry.supporter, agency.settings):
            self._regional.add(entry)

    def _serve(self, call: _Call, officer: Officer, asked: Preferences | None = None) -> Result:
        preferences = asked or self._preferences.get((officer.agency_id, officer.personnel_id))
        preferences = preferences or Preferences()
        if preferences.opted_out:
            return OptedOut(officer.personnel_id)
        need = self._need(officer, preferences)
        for pool in self._tiers(need):
            found = self._best(call, need, pool)
            if found is not None:
                entry, reasons = found
                entry.load += 1
                supporter = entry.supporter
                return Assigned(
                    officer.personnel_id, supporter.supporter_id, supporter.agency_id, reasons
                )
        return Unfilled(officer.personnel_id, self._why_unfilled(call, need))

    def _need(self, officer: Officer, preferences: Preferences) -> _Need:
        agency = self._agency(officer.agency_id)
        return _Need(
            agency=agency,
            agency_id=officer.agency_id,
            personnel_id=officer.personnel_id,
            unit=officer.unit,
            rung=rank_rung(officer.rank),
            background=officer.background,
            above=agency.above(officer.personnel_id),
            gender=_fold(preferences.preferred_gender),
            languages=frozenset(language.casefold() for language in preferences.languages),
            outside=preferences.outside_agency,
        )

    def _tiers(self, need: _Need) -> tuple[_Pool, ...]:
        if need.outside:
            return (self._regional,)
        if draws_on_region(need.agency.settings, need.outside):
            return (need.agency.pool, self._regional)
        return (need.agency.pool,)

    def _best(
        self, call: _Call, need: _Need, pool: _Pool
    ) -> tuple[_Entry, tuple[AssignmentReason, ...]] | None:
        """The best free candidate of `pool` and the reasons for it, or None.

        Cheap tests come first and a candidate's availability is worked out only when it
        could still beat the best so far: most of a pool is passed over in a few
        comparisons."""
        best: _Entry | None = None
        best_key: tuple = ()
        rivals: list[tuple[tuple, _Entry]] = []
        for band in pool.bands(call.category):
            for entry in band:
                if entry.load >= entry.supporter.max_open_assignments:
                    continue
                if entry.supporter.supporter_id in call.excluded:
                    continue
                if not _acceptable(call, need, entry):
                    continue
                fit = _fit(call, need, entry)
                rivals.append((fit, entry))
                sid = entry.supporter.supporter_id
                if best is not None and (fit, False, entry.load, sid) >= best_key:
                    continue
                when = call.earliest(entry)
                if when is None:
                    continue
                key = (fit, when > call.now, entry.load, sid)
                if best is None or key < best_key:
                    best, best_key = entry, key
            if best is not None:
                break
        if best is None:
            return None
        fit, later, load, _ = best_key
        less_loaded = any(
            rival_fit == fit
            and rival.load > load
            and (when := call.earliest(rival)) is not None
            and (when > call.now) == later
            for rival_fit, rival in rivals
        )
        return best, _reasons(call, need, best, later, less_loaded)

    def _why_unfilled(self, call: _Call, need: _Need) -> UnfilledReason:
        """The step at which the candidate who got furthest was turned away."""
        pools = [need.agency.pool]
        if draws_on_region(need.agency.settings, need.outside):
            pools.append(self._regional)
        furthest = 0
        for pool in pools:
            for entry in pool.members.values():
                if not _qualified(call, need, entry):
                    continue
                if _conflicted(call, need, entry):
                    furthest = max(furthest, 1)
                elif not _preferred(need, entry):
                    furthest = max(furthest, 2)
                else:
                    return _UNFILLED[3]
        return _UNFILLED[furthest]


def _acceptable(call: _Call, need: _Need, entry: _Entry) -> bool:
    """Eligible, unconflicted and as the officer asked: everything but being free."""
    return (
        _preferred(need, entry)
        and _qualified(call, need, entry)
        and not _conflicted(call, need, entry)
    )


def _qualified(call: _Call, need: _Need, entry: _Entry) -> bool:
    return entry.qualified_through(need.agency.settings.required_training) >= call.day


def _conflicted(call: _Call, need: _Need, entry: _Entry) -> bool:
    """Rule 5. Personnel ids, chains and units mean something only within one agency."""
    supporter = entry.supporter
    if supporter.agency_id != need.agency_id:
        return False
    pid = supporter.personnel_id
    return (
        pid == need.personnel_id
        or (supporter.agency_id == call.incident_agency and pid in call.involved)
        or pid in need.above
        or need.personnel_id in need.agency.above(pid)
        or (
            need.agency.settings.exclude_same_unit
            and need.unit is not None
            and need.unit in entry.units
        )
    )


def _preferred(need: _Need, entry: _Entry) -> bool:
    if need.outside and entry.supporter.agency_id == need.agency_id:
        return False
    if need.gender is not None and entry.gender != need.gender:
        return False
    return not need.languages or not need.languages.isdisjoint(entry.languages)


def _fit(call: _Call, need: _Need, entry: _Entry) -> tuple[bool, int, int]:
    """How well a supporter fits, smaller being better: experience with the category,
    shared background, rank distance (an unknown rank as one rung)."""
    supporter = entry.supporter
    unknown = need.rung is None or entry.rung is None
    distance = 1 if unknown else abs(need.rung - entry.rung)
    return (
        call.category not in supporter.specialties,
        -len(need.background & supporter.background),
        distance,
    )


def _reasons(
    call: _Call, need: _Need, entry: _Entry, later: bool, less_loaded: bool
) -> tuple[AssignmentReason, ...]:
    """Why this supporter, in the vocabulary's order."""
    supporter = entry.supporter
    held = {
        AssignmentReason.SPECIALTY_MATCH: call.category in supporter.specialties,
        AssignmentReason.LANGUAGE_MATCH: not need.languages.isdisjoint(entry.languages),
        AssignmentReason.GENDER_PREFERENCE: need.gender is not None,
        AssignmentReason.OUTSIDE_AGENCY_PREFERENCE: need.outside,
        AssignmentReason.BACKGROUND_MATCH: not need.background.isdisjoint(supporter.background),
        AssignmentReason.RANK_PEER: need.rung is not None and need.rung == entry.rung,
        AssignmentReason.AVAILABLE_NOW: not later,
        AssignmentReason.LEAST_LOADED: less_loaded,
        AssignmentReason.REGIONAL_POOL: supporter.agency_id != need.agency_id,
    }
    return tuple(reason for reason in AssignmentReason if held.get(reason))


def _fold(text: str | None) -> str | None:
    return text.casefold() if text else None
