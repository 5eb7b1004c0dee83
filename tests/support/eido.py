"""NENA EIDO documents for tests, and what Peerline must read from them.

The fixtures in `eido/` follow the structure of the NENA EIDO-JSON sample and schema: a
shooting dispatched by the Springfield police (`pd.springfield.example`), whose calls the
regional PSAP (`psap.springfield.example`) takes, with a fire engine of another agency,
a caller, a suspect, a location, a note, a call, additional data and a vehicle.
"""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "eido"
PD, PSAP = "pd.springfield.example", "psap.springfield.example"
SHOOTING = "urn:emergency:uid:incidentid:7f3a9c21e4b:psap.springfield.example"
COLLISION = "urn:emergency:uid:incidentid:7f3a9c4402d:psap.springfield.example"
TRAFFIC = "urn:emergency:uid:incidentid:7f3a9c3301c:psap.springfield.example"

SHOOTING_INVOLVED = [
    (f"b1234@{PD}", "primary"),  # patrol unit on scene
    (f"b2345@{PD}", "primary"),
    (f"b3456@{PD}", "assisting"),  # backup unit en route
    (f"s0101@{PD}", "supervisor"),  # CommandLevel3
    (f"ctaylor@{PSAP}", "dispatcher"),  # call taking
    (f"dispatch4@{PD}", "dispatcher"),  # dispatching
]
# What the fixtures say that Peerline must never keep: names (caller, suspect, officers
# in jCards), the address, the note, a plate, a phone number.
CANARIES = (
    "Whitlock",
    "Achterberg",
    "Alex Doe",
    "Maple Hollow",
    "Bluebonnet",
    "Laundromat",
    "7KQM219",
    "2175550143",
)


def eido(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())
