"""Spans leave a service with allow-listed attributes only (rule 10)."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.telemetry import Telemetry

pytestmark = pytest.mark.unit


def test_paths_queries_and_exception_messages_never_leave_the_process():
    exported = InMemorySpanExporter()
    telemetry = Telemetry("unit", exporter=exported)
    tracer = telemetry.tracer("test")
    with tracer.start_as_current_span("GET /v1/officers/{personnel_id}") as span:
        span.set_attribute("http.route", "/v1/officers/{personnel_id}")
        span.set_attribute("url.path", "/v1/officers/B1234")
        span.set_attribute("http.target", "/v1/officers/B1234?x=1")
        span.set_attribute("url.query", "name=Alex+Doe")
        span.set_attribute("client.address", "10.1.2.3")
        span.set_attribute("peerline.status", "accepted")
        span.record_exception(ValueError("personnel_id B1234 is unknown"))
    [out] = exported.get_finished_spans()
    assert dict(out.attributes) == {
        "http.route": "/v1/officers/{personnel_id}",
        "peerline.status": "accepted",
    }
    [event] = out.events
    assert dict(event.attributes) == {"exception.type": "ValueError"}
    assert "B1234" not in repr((out.name, out.attributes, [e.attributes for e in out.events]))
