"""A fired timer is read only on its own agency's subject (rule 11 on the bus):
a payload naming another agency is poison, dead-lettered, never applied."""

from __future__ import annotations

import uuid

import pytest

from services.checkins.timers import Fired, Kind, fired_key, fired_of
from shared.bus import Delivery, Poison

pytestmark = pytest.mark.unit


def _delivery(subject: str, fired: Fired) -> Delivery:
    return Delivery(subject, {}, fired.model_dump_json().encode(), 1, 1)


def test_a_timer_fired_on_its_agencys_subject_is_read():
    fired = Fired(agency_id="CA0190000", checkin_id=uuid.uuid4(), kind=Kind.DUE)
    assert fired_of(_delivery("ps.CA0190000.checkin.fired.due", fired)) == fired
    assert fired_key(fired) == fired_key(fired.model_copy())  # one inbox key per firing


def test_a_timer_naming_another_agency_is_poison():
    fired = Fired(agency_id="CA0190100", checkin_id=uuid.uuid4(), kind=Kind.DUE)
    with pytest.raises(Poison):
        fired_of(_delivery("ps.CA0190000.checkin.fired.due", fired))
