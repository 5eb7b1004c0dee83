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
