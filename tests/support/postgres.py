"""PostgreSQL for the tests where none is given: a container of the locally built image
(`make images`), started by testcontainers once per test process, so that a newcomer's
`make test` covers both databases as CI's does. `PEERLINE_TEST_POSTGRES_URL` (CI sets
it) always wins; with no Docker engine or no image, the tests run on SQLite alone."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import time

IMAGE = os.environ.get("POSTGRES_IMAGE", "local/postgres:15")


def container_possible() -> bool:
    """Whether a Docker engine answers and has the image (no pulling: there may be no
    registry)."""
    if shutil.which("docker") is None:
        return False
    try:
        done = subprocess.run(
            ["docker", "image", "inspect", IMAGE], capture_output=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


class PostgresContainer:
    """The container and the admin URL of its server, once it takes connections."""

    def __init__(self) -> None:
        # The reaper image cannot be pulled here, and this machine looks like a
        # container to testcontainers (decision 61).
        os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
        os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")
        from testcontainers.core.container import DockerContainer

        self.password = secrets.token_urlsafe(16)
        self.container = (
            DockerContainer(IMAGE)
            .with_env("POSTGRES_PASSWORD", self.password)
            .with_env("PEERLINE_DATABASES", "")
            .with_exposed_ports(5432)
        )

    def start(self, timeout: float = 60.0) -> str:
        self.container.start()
        host = self.container.get_container_host_ip()
        port = self.container.get_exposed_port(5432)
        url = f"postgresql+asyncpg://postgres:{self.password}@{host}:{port}/postgres"
        deadline = time.monotonic() + timeout
        while not asyncio.run(_answers(url)):
            if time.monotonic() > deadline:
                raise TimeoutError("the PostgreSQL container did not take connections")
            time.sleep(0.5)
        return url

    def stop(self) -> None:
        self.container.stop()


async def _answers(url: str) -> bool:
    import asyncpg

    try:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"), timeout=2)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True
