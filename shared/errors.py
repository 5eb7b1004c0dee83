"""What a use case says when it will not do what was asked: errors of the domain, with
no HTTP in them. Routes let them through; `shared.problems` turns each kind into its
problem document in one place, so a use case reads the same whether HTTP, a bus
handler or a command called it.

A message says what is wrong without echoing the input, which may be the very personal
data Peerline refuses to keep.
"""

from __future__ import annotations


class DomainError(Exception):
    """`field`, when given, names the field at fault: the answer lists it in `errors`,
    as a request model names its fields (a taken `personnel_id`, say)."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """No such record (or none this caller may know of)."""


class NotAllowed(DomainError):
    """The caller may not do this: another agency's record, another supporter's case."""


class Conflict(DomainError):
    """The request contradicts what is stored (an id another record has, say)."""


class Invalid(DomainError):
    """A field breaks a rule that its type alone cannot check; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)
