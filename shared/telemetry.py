"""OpenTelemetry set-up that records no personal data (PRODUCT rule 10).

Traces follow a report from the CAD's HTTP call through the outbox and the bus to every
consumer. Instrumentations record more than we may keep (URL paths name officers,
exception messages echo inputs), so every span passes through `ScrubbingExporter`
before it leaves the process: only allow-listed attributes survive, exception events
keep their type and lose their message. Spans are exported by OTLP when
`OTEL_EXPORTER_OTLP_ENDPOINT` is set.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from fastapi import FastAPI
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event as SpanEvent
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from sqlalchemy.ext.asyncio import AsyncEngine

ALLOWED_ATTRIBUTES = frozenset(
    {
        "http.method",
        "http.request.method",
        "http.route",
        "http.status_code",
        "http.response.status_code",
        "http.scheme",
        "url.scheme",
        "network.protocol.version",
        "server.port",
        "net.host.port",
        "messaging.system",
        "messaging.operation",
        "messaging.operation.name",
        "messaging.operation.type",
        "messaging.destination.name",
        "messaging.destination_publish.name",
        "messaging.message.id",
        "messaging.message.conversation_id",
        "messaging.message.body.size",
        "messaging.batch.message_count",
        "db.system",
        "db.system.name",
        "db.operation",
        "db.operation.name",
        "db.statement",
        "db.query.text",
        "exception.type",
        "error.type",
    }
)
ALLOWED_PREFIXES = ("peerline.",)
NO_TRACE_URLS = "healthz,readyz,metrics"


def _allowed(key: str) -> bool:
    return key in ALLOWED_ATTRIBUTES or key.startswith(ALLOWED_PREFIXES)


def scrub(span: ReadableSpan) -> ReadableSpan:
    """A copy of `span` with only allow-listed attributes, on the span and its events."""
    attributes = {k: v for k, v in (span.attributes or {}).items() if _allowed(k)}
    events = [
        SpanEvent(
            e.name,
            {k: v for k, v in (e.attributes or {}).items() if _allowed(k)},
            e.timestamp,
        )
        for e in span.events
    ]
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=events,
        links=(),
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class ScrubbingExporter(SpanExporter):
    def __init__(self, inner: SpanExporter) -> None:
        self._inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._inner.export([scrub(s) for s in spans])

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)


class Telemetry:
    """One tracer provider per service process, handed to every instrumentation."""

    def __init__(self, service: str, exporter: SpanExporter | None = None) -> None:
        self.provider = TracerProvider(resource=Resource.create({"service.name": service}))
        if exporter is not None:
            self.provider.add_span_processor(SimpleSpanProcessor(ScrubbingExporter(exporter)))
        elif os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            self.provider.add_span_processor(
                BatchSpanProcessor(ScrubbingExporter(OTLPSpanExporter()))
            )

    def broker_middleware(self) -> NatsTelemetryMiddleware:
        return NatsTelemetryMiddleware(tracer_provider=self.provider)

    def instrument_app(self, app: FastAPI) -> None:
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=self.provider,
            excluded_urls=NO_TRACE_URLS,
            exclude_spans=["receive", "send"],  # one server span per request is enough
        )

    def instrument_engine(self, engine: AsyncEngine) -> None:
        SQLAlchemyInstrumentor().instrument(
            engine=engine.sync_engine, tracer_provider=self.provider, enable_commenter=False
        )

    def tracer(self, name: str):
        return self.provider.get_tracer(name)

    def shutdown(self) -> None:
        self.provider.shutdown()
