"""Tracebacks in logs keep their frames and types but not data quoted in messages."""

from __future__ import annotations

import logging
import logging.config

import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

from shared.logging import WITHHELD, RedactingFormatter, config

pytestmark = pytest.mark.unit


class _Officer(BaseModel):
    age: int


def _record(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except BaseException as raised:
        return logging.LogRecord(
            "t",
            logging.ERROR,
            __file__,
            1,
            "failed",
            None,
            (type(raised), raised, raised.__traceback__),
        )


def test_database_and_validation_messages_are_withheld_with_their_causes():
    personnel_id = "B" + "1234"  # not spelled out: tracebacks quote source lines
    original = ValueError(f"Failing row contains (c, {personnel_id}, null)")
    db_error = IntegrityError("INSERT INTO inbox …", {"event_id": personnel_id}, original)
    try:
        try:
            _Officer(age=personnel_id)
        except ValidationError as invalid:
            raise db_error from invalid
    except IntegrityError as exc:
        text = RedactingFormatter().format(_record(exc))
    assert "B1234" not in text
    assert "IntegrityError" in text and "ValidationError" in text
    assert text.count(WITHHELD) == 2


def test_other_messages_stay_useful():
    text = RedactingFormatter().format(_record(ConnectionRefusedError("nats at 127.0.0.1:4222")))
    assert "nats at 127.0.0.1:4222" in text


def test_http_clients_do_not_log_the_urls_they_call():
    """httpx logs each request's URL at INFO, and URLs name people
    (`/v1/officers/<personnel_id>/preferences`): a service's logging keeps them out."""
    saved = {name: logging.getLogger(name).level for name in ("", "httpx", "httpcore")}
    try:
        logging.config.dictConfig(config())
        assert logging.getLogger().isEnabledFor(logging.INFO)
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
        assert not logging.getLogger("httpcore").isEnabledFor(logging.INFO)
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
