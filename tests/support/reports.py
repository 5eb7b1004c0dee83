"""Incident reports as a CAD sends them: a valid body to start from, and the bodies
hypothesis draws to try the intake's edges."""

from __future__ import annotations

from hypothesis import strategies as st


def report(external_id: str = "24-000123", **overrides) -> dict:
    body = {
        "external_id": external_id,
        "source_type": "SHOOT",
        "occurred_at": "2026-11-25T22:14:00-06:00",
        "involved": [
            {"personnel_id": "B1234", "role": "primary"},
            {"personnel_id": "D-77", "role": "dispatcher"},
        ],
    }
    body.update(overrides)
    return body


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
weird_text = st.text(max_size=200) | st.sampled_from(
    ["", " ", "\x00", "24-1\n", "é" * 200, "x" * 129, "9999-12-31T23:59:59-23:59", "0000-01-01"]
)
timestamps = (
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())
    | st.datetimes().map(lambda d: d.isoformat())
    | weird_text
    | st.integers()
)
officers = st.fixed_dictionaries(
    {},
    optional={
        "personnel_id": weird_text | st.integers() | st.none(),
        "role": st.sampled_from(["primary", "witness", "suspect", ""]) | json_scalars,
        "name": weird_text,
    },
)
near_valid = st.fixed_dictionaries(
    {},
    optional={
        "external_id": weird_text | st.integers() | st.none(),
        "category": st.sampled_from(["mass_casualty", "MASS_CASUALTY", ""]) | json_scalars,
        "source_type": st.sampled_from(["SHOOT", "shoot", "10-50", " "]) | weird_text,
        "occurred_at": timestamps,
        "involved": st.lists(officers, max_size=5) | json_values,
        "agency_id": st.sampled_from(["CA0190000", "a.b", ""]) | json_scalars,
        "narrative": weird_text,
    },
)
