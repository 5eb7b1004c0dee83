"""Which dispatch incident types are critical incidents, and of which category.

Defaults cover the APCO/NENA common incident types that signal a critical incident for
the responding officers. Each agency can override a code (including declaring a
default one not critical) or add its own CAD codes; anything unmapped is not critical
and is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shared.vocab import Category

DEFAULT_SOURCE_TYPES: Mapping[str, Category] = {
    "SHOOT": Category.OFFICER_INVOLVED_SHOOTING,
    "OIS": Category.OFFICER_INVOLVED_SHOOTING,
    "ACTSHOOT": Category.MASS_CASUALTY,
    "HLP1": Category.OFFICER_SERIOUSLY_INJURED,
    "OFFDOWN": Category.OFFICER_SERIOUSLY_INJURED,
    "MAYDAY": Category.OFFICER_SERIOUSLY_INJURED,
    "LODD": Category.LINE_OF_DUTY_DEATH,
    "HOMICIDE": Category.VIOLENT_DEATH_SCENE,
    "DEATH": Category.VIOLENT_DEATH_SCENE,
    "SUICIDE": Category.VIOLENT_DEATH_SCENE,
    "SIDS": Category.CHILD_DEATH_OR_SERIOUS_INJURY,
    "MCI": Category.MASS_CASUALTY,
    "HOSTAGE": Category.HOSTAGE_OR_BARRICADE,
    "BARICADE": Category.HOSTAGE_OR_BARRICADE,
    "BARRICADE": Category.HOSTAGE_OR_BARRICADE,
    "MVCFATAL": Category.FATAL_COLLISION,
}


def normalise(code: str) -> str:
    return code.strip().upper()


def categorise(code: str, agency_overrides: Mapping[str, Category | None]) -> Category | None:
    """The category of `code` for an agency, or None if it is not a critical incident.

    An agency's override wins over the default, and an override of None marks a code
    not critical for that agency.
    """
    key = normalise(code)
    if key in agency_overrides:
        return agency_overrides[key]
    return DEFAULT_SOURCE_TYPES.get(key)


def categorise_first(
    codes: Iterable[str | None], agency_overrides: Mapping[str, Category | None]
) -> Category | None:
    """The category of the first of `codes` that the agency's mapping knows (override or
    default), or None if none is known or the known one is not critical.

    An EIDO carries the agency's own code and the common registry's: the agency's, when
    mapped, says more about what this agency counts as critical.
    """
    for code in codes:
        if code and (
            normalise(code) in agency_overrides or normalise(code) in DEFAULT_SOURCE_TYPES
        ):
            return categorise(code, agency_overrides)
    return None
