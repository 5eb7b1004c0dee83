"""The field types of the roster's records, shared by its routes.

Every text field has a shape: codes are lower-case tokens, labels are one short line,
languages are BCP 47 tags. Nothing here is a place for a narrative, and every request
model refuses fields it does not know, so what is not in the record is never stored.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from shared.vocab import Category, TrainingArea

_ONE_LINE = r"^[^\x00-\x1f\x7f]*$"

# The description of an optional `agency_id` in a body keyed by the caller's agency.
AGENCY_FIELD = "Optional; when given it must be the token's agency."

# A short label chosen by the agency: a rank, a unit.
Label = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=_ONE_LINE)
]
# A person's or a service's name as shown to coordinators.
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=_ONE_LINE)
]
# A code from the agency's own short vocabulary: a gender, a background.
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
# A BCP 47 language tag (en, es-MX), compared in lower case.
Language = Annotated[
    str,
    StringConstraints(max_length=35, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"),
    AfterValidator(str.lower),
]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 ().-]{2,31}$")]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]{1,64}@[^@\s]{1,189}$")]
# A notification URL in apprise form, e.g. json://host:port/path or mailto://...
NotifyUrl = Annotated[
    str, StringConstraints(max_length=2048, pattern=r"^[a-z][a-z0-9+.-]{1,31}://\S+$")
]
WebUrl = Annotated[str, StringConstraints(max_length=2048, pattern=r"^https?://\S+$")]


def _unique_sorted(values: list) -> list:
    return sorted(set(values))


def _set_of(item: object, max_items: int):
    """A list treated as a set: repeats dropped, sorted, so equal sets store equally."""
    return Annotated[list[item], Field(max_length=max_items), AfterValidator(_unique_sorted)]


Languages = _set_of(Language, 16)
Codes = _set_of(Code, 32)
Categories = _set_of(Category, len(Category))
TrainingAreas = _set_of(TrainingArea, len(TrainingArea))


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("not an IANA time zone") from None
    return name


TimeZone = Annotated[
    str,
    StringConstraints(max_length=64, pattern=r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$"),
    AfterValidator(_zone),
]


def _naive(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a time of day without an offset: the time zone is availability's")
    return value


TimeOfDay = Annotated[time, AfterValidator(_naive)]


def _whole_minute(value: time) -> time:
    if value.second or value.microsecond:
        raise ValueError("a time of day to the minute, such as 22:00")
    return value


# A time of day to the minute, written `22:00` in and out.
Clock = Annotated[
    time,
    AfterValidator(_naive),
    AfterValidator(_whole_minute),
    PlainSerializer(lambda value: value.strftime("%H:%M"), return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$"}),
]


class Body(BaseModel):
    """A request body: unknown fields are refused, not ignored (rule 1)."""

    model_config = ConfigDict(extra="forbid")


class QuietHours(Body):
    """When a person wants no non-urgent notification: times of day in their own time
    zone; `end` before `start` runs past midnight (22:00 to 07:00). Notify respects
    them for non-urgent messages (docs/product.md, the care timeline, step 5)."""

    start: Clock
    end: Clock

    @field_validator("end")
    @classmethod
    def _differs_from_start(cls, end: time, info) -> time:
        if end == info.data.get("start"):
            raise ValueError("end must differ from start")
        return end
