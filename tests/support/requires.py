"""Tests that need something outside Python (a Docker engine, a browser, the contract's
schemas): skipped with the reason on a developer's machine without it, a failure in CI
(`CI=true`, set by `.ci/run`), which provides all of them."""

from __future__ import annotations

import os

import pytest


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)
