"""A node of a three-node NATS cluster dies: a service's `/metrics` shows the servers it
knows up go from 3 to 2, and back to 3 once the node returns (`shared.figures`), which
nats-py's own server pool, keeping every server it was told of, would never show."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from peerline.natsd import NatsServer, free_port
from tests.support.effects import effects_runtime
from tests.support.figures import scrape, value
from tests.support.server import ThreadedServer
from tests.support.waiting import await_until

pytestmark = pytest.mark.faults


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[list[NatsServer]]:
    """Three nats-servers with JetStream, routed to one another."""
    routes = [free_port() for _ in range(3)]
    nodes = []
    for i, route in enumerate(routes):
        others = ", ".join(f"nats://127.0.0.1:{r}" for r in routes if r != route)
        config = tmp_path / f"node-{i}.conf"
        config.write_text(
            f"cluster {{ name: peerline, listen: 127.0.0.1:{route}, routes: [{others}] }}\n"
        )
        nodes.append(NatsServer(tmp_path / f"node-{i}", config=config))
    try:
        for node in nodes:
            node.start()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


async def test_a_dead_node_is_one_server_fewer_until_it_returns(cluster, tmp_path):
    runtime = effects_runtime(
        ",".join(node.url for node in cluster),
        f"sqlite+aiosqlite:///{tmp_path / 'effects.db'}",
        tmp_path,
        stream_replicas=3,
        figures_interval=0.5,
    )
    server = ThreadedServer(runtime.create_app(title="Effects", description="Kernel")).start()

    async def known(count: int) -> bool:
        found = await scrape(server.url)
        return value(found, "peerline_nats_servers_known", service="effects") == count

    async def ready() -> bool:
        async with httpx.AsyncClient(base_url=server.url) as client:
            return (await client.get("/readyz")).status_code == 200

    try:
        await await_until(ready, timeout=60, what="the service on the cluster")
        await await_until(lambda: known(3), timeout=30, what="three servers known")
        connected = runtime.broker.connection.connected_url.netloc
        victim = next(node for node in cluster if not node.url.endswith(connected))
        victim.kill()
        await await_until(lambda: known(2), timeout=60, what="one server fewer")
        victim.start()
        await await_until(lambda: known(3), timeout=60, what="three servers again")
    finally:
        server.stop()
