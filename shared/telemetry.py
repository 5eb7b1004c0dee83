"""OpenTelemetry set-up that records no personal data (rule 10).

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
from opentelemetry import context, propagate, trace
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
NO_TRACE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_TRACE_HEADERS = (b"traceparent", b"tracestate")


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

    def instrument_app(self, app: FastAPI) -> None:
        app.add_middleware(TracingMiddleware, tracer=self.tracer("peerline.http"))

    def instrument_engines(self, *engines: AsyncEngine) -> None:
        """One call for all of the process's engines: the instrumentor instruments once."""
        SQLAlchemyInstrumentor().instrument(
            engines=[e.sync_engine for e in dict.fromkeys(engines)],
            tracer_provider=self.provider,
            enable_commenter=False,
        )

    def tracer(self, name: str):
        return self.provider.get_tracer(name)

    def shutdown(self) -> None:
        self.provider.shutdown()


class TracingMiddleware:
    """One server span per request, named by method and route template, continuing the
    caller's W3C trace.

    It records only what may leave the process (method, route template, status), and
    nothing it would have to scrub: recording attributes is most of a span's cost, and
    a general-purpose ASGI instrumentation records a dozen per request.
    """

    def __init__(self, app, tracer: trace.Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] in NO_TRACE_PATHS:
            await self.app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in _TRACE_HEADERS
        }
        method = scope["method"]
        span = self.tracer.start_span(
            method, context=propagate.extract(carrier), kind=trace.SpanKind.SERVER
        )
        status = 500

        async def send_and_note_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        token = context.attach(trace.set_span_in_context(span))
        try:
            await self.app(scope, receive, send_and_note_status)
        except Exception as exc:
            span.record_exception(exc)
            raise
        finally:
            context.detach(token)
            route = getattr(scope.get("route"), "path", None)
            span.update_name(f"{method} {route}" if route else method)
            span.set_attributes(
                {
                    "http.request.method": method,
                    "http.route": route or "",
                    "http.response.status_code": status,
                }
            )
            if status >= 500:
                span.set_status(trace.StatusCode.ERROR)
            span.end()
