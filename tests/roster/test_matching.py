"""Matching, rule by rule: who may support an officer, who fits best, and why nobody does.

Times: NOW is Wednesday 2026-11-25 15:00 UTC, 09:00 in Chicago.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from services.roster.domain import (
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
from services.roster.matching import (
    Assigned,
    Incident,
    OptedOut,
    Result,
    RosterIndex,
    Unfilled,
)
from shared.vocab import AssignmentReason as Why
from shared.vocab import Category, UnfilledReason

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
TODAY = NOW.date()
LATER = date(2030, 1, 1)
TRAINED = {area: LATER for area in TrainingArea}
OIS = Category.OFFICER_INVOLVED_SHOOTING
SHARING = [  # A draws on the region, B shares with it
    AgencySettings("A", use_regional_pool=True),
    AgencySettings("B", share_with_region=True),
]


def supporter(sid: str, agency: str = "A", **fields) -> Supporter:
    """A trained, active supporter of `agency` whose personnel id is `p-<sid>`."""
    fields.setdefault("personnel_id", f"p-{sid}")
    fields.setdefault("training", TRAINED)
    return Supporter(supporter_id=sid, agency_id=agency, **fields)


def incident(involved=("O1",), agency: str = "A", **fields) -> Incident:
    fields.setdefault("category", OIS)
    fields.setdefault("occurred_at", NOW - timedelta(hours=2))
    return Incident(uuid.uuid4(), agency, involved=frozenset(involved), **fields)


def match(
    supporters,
    officer: str = "O1",
    *,
    officers=(),
    preferences=None,
    agencies=(),
    involved=None,
    now: datetime = NOW,
    **incident_fields,
) -> Result:
    """Build an index and match one officer of agency A (or of the incident's agency)."""
    index = RosterIndex(supporters, officers, preferences, agencies)
    reported = incident(involved or (officer,), **incident_fields)
    [result] = index.assign(reported, [officer], now)
    return result


def chosen(result: Result) -> str:
    assert isinstance(result, Assigned), result
    return result.supporter_id


def unfilled(result: Result) -> UnfilledReason:
    assert isinstance(result, Unfilled), result
    return result.reason


def weekly(zone: str, *windows: tuple[Weekday, time, time]) -> Availability:
    return Availability(timezone=zone, weekly=tuple(WeeklyWindow(*w) for w in windows))


def period(start_hours: float, end_hours: float) -> Period:
    return Period(NOW + timedelta(hours=start_hours), NOW + timedelta(hours=end_hours))


# Eligibility (rule 6).


def test_an_inactive_supporter_is_never_assigned():
    result = match([supporter("S1", active=False)])
    assert unfilled(result) == UnfilledReason.NO_ELIGIBLE_SUPPORTER


def test_an_empty_roster_leaves_the_officer_unfilled():
    assert unfilled(match([])) == UnfilledReason.NO_ELIGIBLE_SUPPORTER


def test_every_area_the_agency_requires_must_be_trained():
    partial = {TrainingArea.ACTIVE_LISTENING: LATER, TrainingArea.SELF_CARE: LATER}
    lenient = AgencySettings("A", required_training=frozenset(partial))
    assert unfilled(match([supporter("S1", training=partial)])) == (
        UnfilledReason.NO_ELIGIBLE_SUPPORTER
    )
    assert chosen(match([supporter("S1", training=partial)], agencies=[lenient])) == "S1"


def test_training_expiring_on_the_incident_day_still_counts_but_not_the_day_before():
    on_the_day = {**TRAINED, TrainingArea.CRISIS_DEESCALATION: TODAY}
    day_before = {**TRAINED, TrainingArea.CRISIS_DEESCALATION: TODAY - timedelta(days=1)}
    assert chosen(match([supporter("S1", training=on_the_day)])) == "S1"
    assert unfilled(match([supporter("S1", training=day_before)])) == (
        UnfilledReason.NO_ELIGIBLE_SUPPORTER
    )


def test_training_that_lapsed_since_the_incident_no_longer_counts():
    lapsed = {**TRAINED, TrainingArea.SELF_CARE: TODAY - timedelta(days=3)}
    result = match([supporter("S1", training=lapsed)], occurred_at=NOW - timedelta(days=5), now=NOW)
    assert unfilled(result) == UnfilledReason.NO_ELIGIBLE_SUPPORTER


def test_an_expired_certification_excludes_and_none_means_no_expiry():
    expired = supporter("S1", certified_until=TODAY - timedelta(days=1))
    current = supporter("S2", certified_until=TODAY)
    uncertified_date = supporter("S3")
    assert chosen(match([expired, current])) == "S2"
    assert chosen(match([expired, uncertified_date])) == "S3"


def test_a_regional_supporter_must_meet_the_officers_agency_requirements_too():
    partial = {area: LATER for area in TrainingArea if area != TrainingArea.SELF_CARE}
    agencies = [
        AgencySettings("A", use_regional_pool=True),
        AgencySettings("B", share_with_region=True, required_training=frozenset(partial)),
    ]  # B itself does not require self care
    regional = supporter("S1", agency="B", training=partial, accepts_cross_agency=True)
    assert unfilled(match([regional], agencies=agencies)) == UnfilledReason.NO_ELIGIBLE_SUPPORTER
    trained = supporter("S2", agency="B", accepts_cross_agency=True)
    assert chosen(match([regional, trained], agencies=agencies)) == "S2"


def test_a_supporter_at_their_cap_is_not_assigned():
    full = supporter("S1", open_assignments=3, max_open_assignments=3)
    assert unfilled(match([full])) == UnfilledReason.NONE_AVAILABLE
    assert chosen(match([full, supporter("S2", open_assignments=2)])) == "S2"


# Availability: weekly windows in the supporter's own zone, on call, leave.


def test_weekly_windows_are_read_in_the_supporters_own_time_zone():
    morning = (Weekday.WED, time(8), time(10))
    chicago = supporter("S1", availability=weekly("America/Chicago", morning))
    utc = supporter("S2", availability=weekly("UTC", morning))
    result = match([chicago])
    assert chosen(result) == "S1" and Why.AVAILABLE_NOW in result.reasons
    assert unfilled(match([utc])) == UnfilledReason.NONE_AVAILABLE  # next Wed: 7 days away


def test_a_window_that_ends_before_it_starts_runs_past_midnight():
    night = weekly("UTC", (Weekday.TUE, time(22), time(6)))
    now = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 02:00
    assert earliest_available(night, now) == now


def test_a_window_later_within_the_offer_window_counts_but_not_as_available_now():
    friday = supporter("S1", availability=weekly("UTC", (Weekday.FRI, time(9), time(17))))
    result = match([friday])
    assert chosen(result) == "S1" and Why.AVAILABLE_NOW not in result.reasons


def test_a_window_beyond_the_offer_window_does_not_count():
    monday = supporter("S1", availability=weekly("UTC", (Weekday.MON, time(9), time(17))))
    assert unfilled(match([monday])) == UnfilledReason.NONE_AVAILABLE


def test_weekly_windows_follow_daylight_saving_time():
    sunday = weekly("America/New_York", (Weekday.SUN, time(8), time(9)))
    saturday = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)  # clocks go back on Sunday 1 Nov
    assert earliest_available(sunday, saturday) == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)


def test_an_on_call_period_adds_to_the_weekly_windows():
    on_call = Availability(
        weekly=(WeeklyWindow(Weekday.MON, time(9), time(17)),), on_call=(period(10, 20),)
    )
    assert earliest_available(on_call, NOW) == NOW + timedelta(hours=10)
    assert chosen(match([supporter("S1", availability=on_call)])) == "S1"


def test_no_stated_limits_means_available_unless_on_leave():
    assert earliest_available(Availability(), NOW) == NOW
    away = supporter("S1", availability=Availability(leave=(period(-24, 100),)))
    assert unfilled(match([away])) == UnfilledReason.NONE_AVAILABLE


def test_leave_ending_within_the_offer_window_makes_a_supporter_available_later():
    back_soon = Availability(leave=(period(-24, 30),))
    assert earliest_available(back_soon, NOW) == NOW + timedelta(hours=30)
    result = match([supporter("S1", availability=back_soon)])
    assert chosen(result) == "S1" and Why.AVAILABLE_NOW not in result.reasons


def test_leave_over_every_window_leaves_nobody():
    covered = Availability(on_call=(period(5, 10),), leave=(period(4, 11),))
    assert earliest_available(covered, NOW) is None


# Conflicts of interest (rule 5).


def test_anyone_involved_in_the_incident_in_any_role_is_excluded():
    witness = supporter("S1", personnel_id="W9")
    result = match([witness], involved=("O1", "W9"))
    assert unfilled(result) == UnfilledReason.ALL_CONFLICTED


def test_the_same_personnel_id_in_another_agency_is_someone_else():
    namesake = supporter("S1", agency="B", personnel_id="W9", accepts_cross_agency=True)
    assert chosen(match([namesake], involved=("O1", "W9"), agencies=SHARING)) == "S1"


def test_the_officer_is_never_their_own_supporter():
    themself = supporter("S1", personnel_id="O1")
    assert unfilled(match([themself], involved=("X",))) == UnfilledReason.ALL_CONFLICTED


CHAIN = [
    Officer("A", "CHIEF"),
    Officer("A", "LT", supervisor_id="CHIEF"),
    Officer("A", "SGT", supervisor_id="LT"),
    Officer("A", "O1", supervisor_id="SGT"),
    Officer("A", "CPL", supervisor_id="O1"),
    Officer("A", "NEW", supervisor_id="CPL"),
    Officer("A", "OTHER", supervisor_id="LT"),
]


@pytest.mark.parametrize("pid", ["SGT", "LT", "CHIEF"])
def test_anyone_above_the_officer_in_the_chain_of_command_is_excluded(pid):
    boss = supporter("S1", personnel_id=pid)
    assert unfilled(match([boss], officers=CHAIN)) == UnfilledReason.ALL_CONFLICTED


@pytest.mark.parametrize("pid", ["CPL", "NEW"])
def test_anyone_below_the_officer_in_the_chain_of_command_is_excluded(pid):
    report = supporter("S1", personnel_id=pid)
    assert unfilled(match([report], officers=CHAIN)) == UnfilledReason.ALL_CONFLICTED


def test_someone_beside_the_chain_of_command_may_support():
    assert chosen(match([supporter("S1", personnel_id="OTHER")], officers=CHAIN)) == "S1"


def test_a_cycle_in_supervisor_records_ends_the_walk_and_excludes_the_cycle():
    loop = [
        Officer("A", "O1", supervisor_id="X"),
        Officer("A", "X", supervisor_id="Y"),
        Officer("A", "Y", supervisor_id="O1"),
    ]
    both = [supporter("S1", personnel_id="X"), supporter("S2", personnel_id="Y")]
    assert unfilled(match(both, officers=loop)) == UnfilledReason.ALL_CONFLICTED


def test_a_new_supervisor_takes_effect_at_once():
    index = RosterIndex([supporter("S1", personnel_id="SGT")], CHAIN)
    assert isinstance(index.assign(incident(), ["O1"], NOW)[0], Unfilled)
    index.put_officer(Officer("A", "O1", supervisor_id="OTHER"))
    assert chosen(index.assign(incident(), ["O1"], NOW)[0]) == "S1"


def test_the_officers_unit_is_excluded_when_the_agency_says_so():
    officers = [Officer("A", "O1", unit="K9")]
    same_unit = supporter("S1", unit="K9")
    assert unfilled(match([same_unit], officers=officers)) == UnfilledReason.ALL_CONFLICTED
    allows = [AgencySettings("A", exclude_same_unit=False)]
    assert chosen(match([same_unit], officers=officers, agencies=allows)) == "S1"


def test_the_unit_on_a_supporters_officer_record_counts_too():
    officers = [Officer("A", "O1", unit="K9"), Officer("A", "p-S1", unit="K9")]
    assert unfilled(match([supporter("S1")], officers=officers)) == UnfilledReason.ALL_CONFLICTED


def test_a_unit_of_the_same_name_in_another_agency_is_another_unit():
    officers = [Officer("A", "O1", unit="K9")]
    other = supporter("S1", agency="B", unit="K9", accepts_cross_agency=True)
    assert chosen(match([other], officers=officers, agencies=SHARING)) == "S1"


# Preferences: hard filters.


def test_the_preferred_gender_is_required_ignoring_case():
    prefs = {("A", "O1"): Preferences(preferred_gender="female")}
    men = [supporter("S1", gender="male")]
    assert unfilled(match(men, preferences=prefs)) == UnfilledReason.NO_PREFERENCE_MATCH
    result = match([*men, supporter("S2", gender="Female")], preferences=prefs)
    assert chosen(result) == "S2" and Why.GENDER_PREFERENCE in result.reasons


def test_one_of_the_preferred_languages_is_required():
    prefs = {("A", "O1"): Preferences(languages=frozenset({"es", "vi"}))}
    english = supporter("S1", languages=frozenset({"en"}))
    assert unfilled(match([english], preferences=prefs)) == UnfilledReason.NO_PREFERENCE_MATCH
    result = match([english, supporter("S2", languages=frozenset({"en", "VI"}))], preferences=prefs)
    assert chosen(result) == "S2" and Why.LANGUAGE_MATCH in result.reasons


def test_an_opted_out_officer_gets_no_assignment_and_uses_no_capacity():
    index = RosterIndex([supporter("S1")], preferences={("A", "O1"): Preferences(opted_out=True)})
    assert index.assign(incident(), ["O1"], NOW) == [OptedOut("O1")]
    assert index.load("S1") == 0


# Fit: experience, background, rank; then available now, then load, then id.


def test_experience_with_the_category_comes_first():
    officers = [Officer("A", "O1", rank="officer", background=frozenset({"veteran"}))]
    peer = supporter("S1", rank="officer", background=frozenset({"veteran"}))
    specialist = supporter("S2", rank="captain", specialties=frozenset({OIS}), open_assignments=2)
    result = match([peer, specialist], officers=officers)
    assert chosen(result) == "S2" and Why.SPECIALTY_MATCH in result.reasons


def test_shared_background_comes_before_rank():
    officers = [Officer("A", "O1", rank="deputy", background=frozenset({"veteran", "k9"}))]
    peer = supporter("S1", rank="deputy", background=frozenset({"k9"}))
    closer = supporter("S2", rank="sergeant", background=frozenset({"k9", "veteran"}))
    result = match([peer, closer], officers=officers)
    assert chosen(result) == "S2" and Why.BACKGROUND_MATCH in result.reasons


def test_the_closest_rank_wins_and_an_unknown_rank_is_neutral():
    officers = [Officer("A", "O1", rank="Deputy Sheriff")]
    peer = supporter("S1", rank="trooper")
    unknown = supporter("S2", rank="Inspector General")
    two_up = supporter("S3", rank="sergeant")
    result = match([two_up, unknown, peer], officers=officers)
    assert chosen(result) == "S1" and Why.RANK_PEER in result.reasons
    assert chosen(match([two_up, unknown], officers=officers)) == "S2"
    assert chosen(match([two_up, supporter("S4", rank="chief")], officers=officers)) == "S3"


def test_the_rank_ladder_ignores_spelling():
    assert rank_rung("Deputy-Chief") == rank_rung("deputy  chief") == 6
    assert rank_rung("SGT.") is None and rank_rung(None) is None
    assert rank_rung("Police Officer") == rank_rung("agent") == 0


def test_available_now_comes_before_less_loaded():
    later = supporter("S1", availability=Availability(leave=(period(-1, 5),)))
    now_but_busier = supporter("S2", open_assignments=2)
    result = match([later, now_but_busier])
    assert chosen(result) == "S2" and Why.AVAILABLE_NOW in result.reasons


def test_the_least_loaded_of_equals_is_chosen_and_told():
    result = match([supporter("S1", open_assignments=1), supporter("S2")])
    assert chosen(result) == "S2" and Why.LEAST_LOADED in result.reasons


def test_ties_are_broken_by_supporter_id_without_claiming_least_loaded():
    result = match([supporter("S2"), supporter("S1"), supporter("S3")])
    assert chosen(result) == "S1" and Why.LEAST_LOADED not in result.reasons


def test_a_sole_candidate_without_any_fit_gets_no_reason():
    later = supporter("S1", availability=Availability(leave=(period(-1, 5),)))
    assert match([later]) == Assigned("O1", "S1", "A", ())


# The regional pool.


@pytest.mark.parametrize(
    ("uses_region", "shares", "accepts", "assigned"),
    [
        (True, True, True, True),
        (False, True, True, False),
        (True, False, True, False),
        (True, True, False, False),
    ],
)
def test_the_regional_pool_needs_both_agencies_and_the_supporter(
    uses_region, shares, accepts, assigned
):
    agencies = [
        AgencySettings("A", use_regional_pool=uses_region),
        AgencySettings("B", share_with_region=shares),
    ]
    result = match([supporter("S1", agency="B", accepts_cross_agency=accepts)], agencies=agencies)
    if assigned:
        assert result == Assigned("O1", "S1", "B", (Why.AVAILABLE_NOW, Why.REGIONAL_POOL))
    else:
        assert unfilled(result) == UnfilledReason.NO_ELIGIBLE_SUPPORTER


def test_the_own_agency_comes_before_a_better_fitting_regional_supporter():
    regional = supporter("S1", agency="B", accepts_cross_agency=True, specialties=frozenset({OIS}))
    own = supporter("S2", open_assignments=2)
    assert chosen(match([regional, own], agencies=SHARING)) == "S2"
    full = supporter("S2", open_assignments=3)
    assert chosen(match([regional, full], agencies=SHARING)) == "S1"


def test_outside_agency_is_served_from_the_region_first_even_where_the_agency_does_not_use_it():
    prefs = {("A", "O1"): Preferences(outside_agency=True)}
    agencies = [AgencySettings("A"), AgencySettings("B", share_with_region=True)]
    regional = supporter("S9", agency="B", accepts_cross_agency=True)
    result = match([supporter("S1"), regional], preferences=prefs, agencies=agencies)
    assert chosen(result) == "S9"
    assert {Why.OUTSIDE_AGENCY_PREFERENCE, Why.REGIONAL_POOL} <= set(result.reasons)


def test_outside_agency_does_not_fall_back_to_the_own_agency():
    prefs = {("A", "O1"): Preferences(outside_agency=True)}
    result = match([supporter("S1")], preferences=prefs)
    assert unfilled(result) == UnfilledReason.NO_PREFERENCE_MATCH


def test_outside_agency_still_needs_a_sharing_agency_and_an_accepting_supporter():
    prefs = {("A", "O1"): Preferences(outside_agency=True)}
    agencies = [AgencySettings("A"), AgencySettings("B", share_with_region=True)]
    refuses = supporter("S1", agency="B", accepts_cross_agency=False)
    unshared = supporter("S2", agency="C", accepts_cross_agency=True)
    assert isinstance(match([refuses, unshared], preferences=prefs, agencies=agencies), Unfilled)


# Why nobody fits: the furthest step any candidate reached.


def test_the_reason_is_where_the_furthest_candidate_stopped():
    untrained = supporter("S1", training={})
    involved = supporter("S2", personnel_id="W")
    female_only = {("A", "O1"): Preferences(preferred_gender="f")}
    male = supporter("S3", personnel_id="M", gender="m")
    full_female = supporter("S4", gender="f", open_assignments=3)
    roster = [untrained, involved]
    assert unfilled(match(roster[:1])) == UnfilledReason.NO_ELIGIBLE_SUPPORTER
    assert unfilled(match(roster, involved=("O1", "W"))) == UnfilledReason.ALL_CONFLICTED
    roster.append(male)
    result = match(roster, involved=("O1", "W"), preferences=female_only)
    assert unfilled(result) == UnfilledReason.NO_PREFERENCE_MATCH
    roster.append(full_female)
    result = match(roster, involved=("O1", "W"), preferences=female_only)
    assert unfilled(result) == UnfilledReason.NONE_AVAILABLE


def test_the_regional_pool_counts_towards_the_reason():
    own = supporter("S1", personnel_id="W")
    regional = supporter("S2", agency="B", accepts_cross_agency=True, open_assignments=3)
    result = match([own, regional], involved=("O1", "W"), agencies=SHARING)
    assert unfilled(result) == UnfilledReason.NONE_AVAILABLE


# Mass casualty: one call, loads rising as it goes.


def test_a_mass_casualty_spreads_evenly_and_overflow_is_unfilled_never_dropped():
    index = RosterIndex([supporter(f"S{i}", max_open_assignments=2) for i in range(5)])
    officers = [f"O{i:02}" for i in range(12)]
    results = index.assign(incident(officers), officers, NOW)
    assert [r.personnel_id for r in results] == officers
    assert all(isinstance(r, Assigned) for r in results[:10])
    assert results[10:] == [Unfilled(p, UnfilledReason.NONE_AVAILABLE) for p in officers[10:]]
    assert {index.load(f"S{i}") for i in range(5)} == {2}


def test_a_partial_batch_leaves_loads_within_one_of_each_other():
    index = RosterIndex([supporter(f"S{i}") for i in range(4)])
    officers = ["O1", "O2", "O3", "O4", "O5", "O6"]
    index.assign(incident(officers), officers, NOW)
    assert sorted(index.load(f"S{i}") for i in range(4)) == [1, 1, 2, 2]


def test_an_officer_listed_twice_gets_one_result():
    index = RosterIndex([supporter("S1"), supporter("S2")])
    results = index.assign(incident(["O1"]), ["O1", "O1"], NOW)
    assert len(results) == 1 and index.load("S1") + index.load("S2") == 1


# Keeping the index current.


def test_set_load_frees_or_fills_a_supporter():
    index = RosterIndex([supporter("S1", open_assignments=3)])
    assert isinstance(index.assign(incident(), ["O1"], NOW)[0], Unfilled)
    index.set_load("S1", 2)
    assert chosen(index.assign(incident(), ["O1"], NOW)[0]) == "S1"
    assert index.load("S1") == 3


def test_records_and_settings_can_be_replaced_and_removed():
    index = RosterIndex([supporter("S1"), supporter("S2", agency="B", accepts_cross_agency=True)])
    index.put_supporter(supporter("S1", active=False))
    assert isinstance(index.assign(incident(), ["O1"], NOW)[0], Unfilled)
    for settings in SHARING:
        index.put_agency(settings)
    assert chosen(index.assign(incident(), ["O1"], NOW)[0]) == "S2"
    index.remove_supporter("S2")
    assert isinstance(index.assign(incident(), ["O1"], NOW)[0], Unfilled)
    index.put_preferences("A", "O1", Preferences(opted_out=True))
    assert index.assign(incident(), ["O1"], NOW) == [OptedOut("O1")]


def test_a_stricter_agency_requirement_applies_to_its_supporters_at_once():
    index = RosterIndex([supporter("S1", training={TrainingArea.SELF_CARE: LATER})])
    index.put_agency(AgencySettings("A", required_training=frozenset({TrainingArea.SELF_CARE})))
    assert chosen(index.assign(incident(), ["O1"], NOW)[0]) == "S1"
    index.put_agency(AgencySettings("A"))
    assert isinstance(index.assign(incident(), ["O1"], NOW)[0], Unfilled)


# Care for the carers.


def test_a_supporter_gets_a_peer_by_the_same_rules():
    carer = supporter("S1", personnel_id="P1", unit="K9", gender="f")
    officers = [Officer("A", "P1", unit="K9", supervisor_id="SGT")]
    roster = [
        carer,
        supporter("S2", personnel_id="SGT"),  # their sergeant
        supporter("S3", unit="K9"),  # their unit
        supporter("S4", gender="m"),
        supporter("S5", gender="f", open_assignments=1),
    ]
    prefs = {("A", "P1"): Preferences(preferred_gender="F")}
    index = RosterIndex(roster, officers, prefs)
    result = index.care_for_carer("S1", NOW)
    assert chosen(result) == "S5" and Why.GENDER_PREFERENCE in result.reasons
    assert index.load("S5") == 2


def test_a_carer_without_an_officer_record_is_described_by_their_supporter_record():
    index = RosterIndex(
        [supporter("S1", unit="K9", rank="sergeant"), supporter("S2", unit="K9"), supporter("S3")]
    )
    assert chosen(index.care_for_carer("S1", NOW)) == "S3"


def test_a_carer_who_opted_out_gets_no_peer():
    index = RosterIndex(
        [supporter("S1", personnel_id="P1"), supporter("S2")],
        preferences={("A", "P1"): Preferences(opted_out=True)},
    )
    assert index.care_for_carer("S1", NOW) == OptedOut("P1")
