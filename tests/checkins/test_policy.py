"""When offers come, as the policy lays them out: pure code, no bus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.checkins.domain import LAST_OFFER_GRACE, Plan, Policy, default_policy
from shared.vocab import Category

pytestmark = pytest.mark.unit

H = timedelta(hours=1)
D = timedelta(days=1)
T0 = datetime(2026, 11, 1, 22, 15, tzinfo=UTC)


def test_the_defaults_offer_at_24_hours_then_7_and_30_days():
    plan = Plan(default_policy(Category.FATAL_COLLISION), T0)
    first, week, month = (plan.offer(n, T0) for n in (1, 2, 3))
    assert (first.due_at, first.window_closes_at) == (T0 + 24 * H, T0 + 72 * H)
    assert first.expires_at == week.due_at == T0 + 7 * D
    assert week.window_closes_at == T0 + 7 * D + 48 * H
    assert month.due_at == T0 + 30 * D
    assert month.expires_at == month.window_closes_at + LAST_OFFER_GRACE
    assert plan.last == 3 and plan.ends_care(3) and not plan.ends_care(2)


def test_an_anniversary_comes_a_year_on_for_the_heaviest_incidents_without_holding_care():
    for category in (
        Category.LINE_OF_DUTY_DEATH,
        Category.OFFICER_INVOLVED_SHOOTING,
        Category.MASS_CASUALTY,
    ):
        plan = Plan(default_policy(category), T0)
        assert plan.last == 4
        anniversary = plan.offer(4, T0)
        assert anniversary.anniversary and anniversary.due_at == T0 + 365 * D
        assert plan.ends_care(3)  # the 30-day follow-up is the last of the care itself
        month = plan.offer(3, T0)
        assert month.expires_at == month.window_closes_at + LAST_OFFER_GRACE
    assert Plan(default_policy(Category.DEATH_OF_COLLEAGUE), T0).last == 3


def test_a_late_report_is_due_at_once_with_the_whole_window():
    plan = Plan(Policy(), T0)
    now = T0 + 50 * H  # reported two days late: the first offer was due a day ago
    first = plan.offer(1, now)
    assert first.due_at == now
    assert first.window_closes_at == now + 48 * H
    assert first.expires_at == T0 + 7 * D


def test_an_offer_planned_on_time_keeps_its_times():
    first = Plan(Policy(), T0).offer(1, T0 + H)
    assert (first.due_at, first.window_closes_at) == (T0 + 24 * H, T0 + 72 * H)


def test_a_follow_up_comes_no_sooner_than_the_gap_after_the_contact_before_it():
    plan = Plan(Policy(), T0)  # the default gap: 3 days
    late = T0 + 10 * D  # reported 10 days late: the first contact, and the +7 d is past
    week = plan.offer(2, late, contacted_at=late)
    assert (week.due_at, week.window_closes_at) == (late + 3 * D, late + 3 * D + 48 * H)
    assert week.expires_at == T0 + 30 * D  # still when the next offer falls due
    soon = T0 + 5 * D  # a contact 2 days before the follow-up's time holds it back a day
    assert plan.offer(2, soon, contacted_at=soon).due_at == T0 + 8 * D
    early = T0 + 2 * D  # one well before it changes nothing
    assert plan.offer(2, early, contacted_at=early).due_at == T0 + 7 * D


def test_without_a_contact_or_a_gap_a_late_follow_up_is_due_at_once():
    late = T0 + 10 * D
    assert Plan(Policy(), T0).offer(2, late).due_at == late  # the offer before expired
    no_gap = Plan(Policy(follow_up_min_gap=timedelta(0)), T0)
    assert no_gap.offer(2, late, contacted_at=late).due_at == late


def test_follow_ups_held_past_their_times_keep_their_windows_and_their_spacing():
    plan = Plan(Policy(), T0)
    late = T0 + 29 * D  # reported 29 days late: the +7 d comes 3 days on, the +30 d too
    week = plan.offer(2, late, contacted_at=late)
    assert week.expires_at == week.window_closes_at == late + 3 * D + 48 * H
    contacted = week.due_at + H
    month = plan.offer(3, contacted, contacted_at=contacted)
    assert month.due_at == contacted + 3 * D


def test_the_anniversary_keeps_its_date_after_a_contact():
    policy = Policy(follow_ups=(7 * D, 364 * D), anniversary_after=365 * D)
    contacted = T0 + 364 * D
    anniversary = Plan(policy, T0).offer(4, contacted, contacted_at=contacted)
    assert anniversary.anniversary and anniversary.due_at == T0 + 365 * D
