"""The time to acknowledgment and the share within the deadline, as a release builds
them from counts: a median is suppressed below `min_cell` values, as a count is, and a
share whenever a count it is made of is."""

from __future__ import annotations

import pytest

from services.metrics.charts import dashboard
from services.metrics.domain import INCIDENT, REQUEST, Counts
from services.metrics.report import build

pytestmark = pytest.mark.unit

PERIODS = ["2026-01", "2026-02"]
MEDIAN = {
    REQUEST: "median_minutes_to_acknowledge_request",
    INCIDENT: "median_minutes_to_acknowledge_incident_assignment",
}
SHARE = {
    REQUEST: ("acknowledged_requests", "share_requests_acknowledged_within_deadline"),
    INCIDENT: (
        "acknowledged_incident_assignments",
        "share_incident_assignments_acknowledged_within_deadline",
    ),
}


def _indicator(answer: dict, name: str) -> list[dict]:
    return next(i["cells"] for i in answer["indicators"] if i["name"] == name)


def _waits(kind: str, january: list[float], february: list[float]) -> Counts:
    counts = Counts(PERIODS)
    for period, minutes in zip(PERIODS, (january, february), strict=True):
        counts.minutes_to_acknowledge[kind][period] = list(minutes)
    return counts


@pytest.mark.parametrize("kind", [REQUEST, INCIDENT])
def test_a_median_of_fewer_than_min_cell_values_is_suppressed(kind):
    answer = build(_waits(kind, [2, 3, 4, 30], [1, 2, 3, 4, 50]), min_cell=5)
    january, february = _indicator(answer, MEDIAN[kind])
    assert january == {"value": None, "suppressed": True}  # four waits: one each
    assert february == {"value": 3.0, "suppressed": False}
    nothing = build(_waits(kind, [], [7.25] * 5), min_cell=5)
    assert _indicator(nothing, MEDIAN[kind]) == [
        {"value": None, "suppressed": False},  # no acknowledgment: nothing to hide
        {"value": 7.2, "suppressed": False},
    ]


@pytest.mark.parametrize("kind", [REQUEST, INCIDENT])
def test_no_median_is_released_with_differential_privacy(kind):
    answer = build(_waits(kind, [1] * 50, []), min_cell=5, noise=lambda n: n)
    assert _indicator(answer, MEDIAN[kind])[0] == {"value": None, "suppressed": True}


@pytest.mark.parametrize("kind", [REQUEST, INCIDENT])
def test_the_share_within_the_deadline_hides_with_its_counts(kind):
    measure, share = SHARE[kind]
    counts = Counts(PERIODS)
    counts.add(measure, "within_deadline", "2026-01", 19)
    counts.add(measure, "late", "2026-01", 1)  # shown with 19 it would say who was late
    counts.add(measure, "within_deadline", "2026-02", 12)
    counts.add(measure, "late", "2026-02", 0)
    cells = _indicator(build(counts, min_cell=5), share)
    assert cells == [
        {"value": None, "suppressed": True},
        {"value": 1.0, "suppressed": False},
    ]


def test_the_dashboard_shows_the_requests_answered_in_time_as_a_percentage():
    counts = Counts(PERIODS)
    counts.add("acknowledged_requests", "within_deadline", "2026-01", 19)
    counts.add("acknowledged_requests", "late", "2026-01", 6)
    counts.add("requests_made", "made", "2026-01", 25)
    counts.minutes_to_acknowledge[REQUEST]["2026-01"] = [4.0] * 25
    answer = {"withheld": None, "periods": PERIODS, **build(counts, min_cell=5)}
    html = dashboard(answer)
    assert "Officers&#x27; requests for a peer answered within the deadline (%)" in html
    assert "2026-01: 76%" in html
    assert "Median minutes from an officer&#x27;s request to a supporter&#x27;s answer" in html
