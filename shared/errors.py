"""What a use case says when it will not do what was asked: errors of the domain, with
no HTTP in them. Routes let them through; `shared.problems` turns each kind into its
problem document in one place, so a use case reads the same whether HTTP, a bus
handler or a command called it.

A message says what is wrong without echoing the input, which may be the very personal
data Peerline refuses to keep.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """`field`, when given, names the one field at fault; `errors` lists several
    (`{"loc": [...], "msg": ...}` each, as a request model's would: a CSV's rows, an
    EIDO's paths). `details` are further facts the caller can act on (the spent
    periods of a refused release, say)."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors if errors is not None else _field_error(field, message)
        self.details = details


def _field_error(field: str | None, message: str) -> list[dict[str, Any]] | None:
    return None if field is None else [{"loc": [field], "msg": message}]


class Malformed(DomainError):
    """The input cannot be read at all (a body that is not JSON, say)."""


class NotFound(DomainError):
    """No such record (or none this caller may know of)."""


class NotAllowed(DomainError):
    """The caller may not do this: another agency's record, another supporter's case."""


class Conflict(DomainError):
    """The request contradicts what is stored (an id another record has, say)."""


class Invalid(DomainError):
    """A field breaks a rule that its type alone cannot check; `field` names it, or
    `errors` names every part at fault (and `field` is None)."""

    def __init__(
        self, field: str | None, message: str, *, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message, field=field, errors=errors)
