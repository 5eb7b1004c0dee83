"""What operators rely on: health, readiness, metrics, and traces that follow a report
across the bus while carrying no personal data."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from services.incidents.app import create_app
from shared.events import IncidentReported
from shared.streams import EVENTS
from shared.tokens import Role
from tests.conftest import bearer
from tests.support.bus import EventLog
from tests.support.reports import report
from tests.support.running import incidents_settings
from tests.support.server import ThreadedServer
from tests.support.waiting import wait_until


async def test_health_readiness_and_metrics(incidents, agency):
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{incidents.url}/healthz")).json() == {"status": "ok"}
        ready = (await client.get(f"{incidents.url}/readyz")).json()
        assert ready["checks"] == {"database": True, "bus": True}
        await client.post(
            f"{incidents.url}/v1/incidents", json=report(), headers=bearer(agency, Role.INGEST)
        )
        metrics = (await client.get(f"{incidents.url}/metrics")).text
    assert 'peerline_intake_reports_total{status="accepted",via="http"}' in metrics
    assert agency not in metrics and "B1234" not in metrics


async def test_the_event_continues_the_trace_of_the_report(incidents, agency):
    async with EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        async with httpx.AsyncClient() as client:
            await client.post(
                f"{incidents.url}/v1/incidents", json=report(), headers=bearer(agency, Role.INGEST)
            )
        await log.wait_for(IncidentReported)
    traceparent = log.raw[0][1]["traceparent"]
    trace_id = int(traceparent.split("-")[1], 16)
    [server_span] = [
        s for s in incidents.spans.get_finished_spans() if s.name == "POST /v1/incidents"
    ]
    assert server_span.context.trace_id == trace_id


@pytest.fixture
def otlp_receiver():
    """An OTLP/HTTP trace endpoint on a real port, keeping what it receives."""
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()


def test_exported_traces_carry_no_personnel_id(
    otlp_receiver, nats_url, tmp_path, agency, monkeypatch
):
    endpoint, received = otlp_receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    settings = incidents_settings(nats_url, f"sqlite+aiosqlite:///{tmp_path / 'i.db'}", tmp_path)
    server = ThreadedServer(create_app(settings)).start()
    try:
        body = report()
        body["involved"][0]["name"] = "Officer Alex Doe"
        answer = httpx.post(
            f"{server.url}/v1/incidents", json=body, headers=bearer(agency, Role.INGEST)
        )
        assert answer.status_code == 202
        httpx.get(
            f"{server.url}/v1/incidents/{answer.json()['incident_id']}",
            headers=bearer(agency, Role.COORDINATOR),
        )
    finally:
        server.stop()  # flushes the batch exporter
    wait_until(lambda: received, timeout=10, what="an OTLP export")
    spans = []
    for blob in received:
        assert b"B1234" not in blob and b"D-77" not in blob and b"Alex Doe" not in blob
        request = ExportTraceServiceRequest.FromString(blob)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                spans += [s.name for s in scope_spans.spans]
    assert "POST /v1/incidents" in spans
    assert "GET /v1/incidents/{incident_id}" in spans
