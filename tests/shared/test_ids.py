"""Derived ids are HMACs under the deployment's key (decision 66): stable for one key,
unrelated across keys, and not the public UUIDv5 anyone could recompute."""

from __future__ import annotations

import uuid

import pytest

from shared import ids

pytestmark = pytest.mark.unit

OLD_NAMESPACE = uuid.UUID("5a0c3f8e-8f0e-4c55-9a4e-1f3b2d6c7e01")  # the public one


@pytest.fixture
def key():
    """Run a test under a key of its own, then give the tests' key back."""
    previous = ids._key
    yield lambda value: ids.use_key(lambda: value)
    ids.use_key(previous)


def test_a_replay_maps_to_one_id_under_one_key(key):
    key("region-a-" + "a" * 32)
    first = ids.incident_id_for("CA0110000", "24-001")
    assert ids.incident_id_for("CA0110000", "24-001") == first
    assert ids.derived_event_id("assignment", first, "B1") == ids.derived_event_id(
        "assignment", first, "B1"
    )
    assert first.version == 4


def test_without_the_key_an_id_cannot_be_recomputed(key):
    key("region-a-" + "a" * 32)
    a = ids.incident_id_for("CA0110000", "24-001")
    assignment = ids.derived_event_id("assignment", a, "B1")
    key("region-b-" + "b" * 32)
    assert ids.incident_id_for("CA0110000", "24-001") != a
    assert uuid.uuid5(OLD_NAMESPACE, "CA0110000\x1f24-001") != a
    guesses = {ids.derived_event_id("assignment", a, f"B{n}") for n in range(100)}
    assert assignment not in guesses  # another key: no guess matches


def test_no_key_no_id(key):
    ids.use_key(None)
    with pytest.raises(RuntimeError, match="PEERLINE_ID_KEY"):
        ids.incident_id_for("CA0110000", "24-001")
