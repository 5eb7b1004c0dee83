"""Logging that keeps personal data out of logs (rule 10).

Messages Peerline writes name no people by construction. Tracebacks are the risk: the
message of a database error quotes the row it failed on (PostgreSQL: "Failing row
contains (…)") and a validation error quotes the input. `RedactingFormatter` prints
every traceback with its frames and exception types, and withholds the messages of
exceptions that can quote data.
"""

from __future__ import annotations

import logging
import traceback

WITHHELD = "(message withheld: it may quote stored or submitted data)"
_QUOTING_MODULES = (
    "sqlalchemy",
    "asyncpg",
    "aiosqlite",
    "sqlite3",
    "psycopg",
    "pydantic",
    "pydantic_core",
)

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def _quotes_data(exc_type: type[BaseException] | None) -> bool:
    return exc_type is not None and exc_type.__module__.split(".")[0] in _QUOTING_MODULES


def _redact(te: traceback.TracebackException, seen: set[int]) -> None:
    if id(te) in seen:
        return
    seen.add(id(te))
    if _quotes_data(te.exc_type):
        te._str = WITHHELD  # the rendered message; frames and type stay
    for linked in (te.__cause__, te.__context__):
        if linked is not None:
            _redact(linked, seen)


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str = FORMAT, *args, **kwargs) -> None:
        super().__init__(fmt, *args, **kwargs)

    def formatException(self, ei) -> str:
        te = traceback.TracebackException(*ei)
        _redact(te, set())
        return "".join(te.format()).rstrip("\n")


def config(level: str = "INFO") -> dict:
    """A `logging.config.dictConfig` for a service process, uvicorn's loggers included."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"redacting": {"()": RedactingFormatter}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "redacting"},
        },
        "root": {"level": level, "handlers": ["console"]},
        "loggers": {
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
            # HTTP clients log every request's URL at INFO, and Peerline's URLs name
            # people (`/v1/officers/<personnel_id>/preferences`, `/v1/recipients/<id>`).
            "httpx": {"level": "WARNING", "handlers": [], "propagate": True},
            "httpcore": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }
