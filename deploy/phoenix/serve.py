"""Phoenix as the region runs it: `python serve.py serve` is `phoenix serve`, with each
span given its service's name.

Phoenix keeps a span's own attributes but drops the OTLP resource's, where
OpenTelemetry puts `service.name`, so a trace from five services would not say which
span came from which. Before Phoenix decodes an export (OTLP over HTTP or gRPC), this
copies the resource's `service.name` onto each of its spans as a span attribute. It
patches two internals of the pinned Phoenix release (decision 78) and refuses to start
when they are gone, rather than start without the services' names.
"""

from __future__ import annotations

import sys

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from phoenix.server import grpc_server
from phoenix.server.api.routers.v1 import traces
from phoenix.server.main import main

SERVICE_NAME = "service.name"


def name_services(request: ExportTraceServiceRequest) -> ExportTraceServiceRequest:
    """The request, each span carrying its resource's `service.name` (unless it has one)."""
    for resource_spans in request.resource_spans:
        names = [a for a in resource_spans.resource.attributes if a.key == SERVICE_NAME]
        if not names:
            continue
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if all(a.key != SERVICE_NAME for a in span.attributes):
                    span.attributes.add().CopyFrom(names[0])
    return request


def _patch() -> None:
    add_spans = getattr(traces, "_add_spans", None)
    export = getattr(grpc_server.Servicer, "Export", None)
    if add_spans is None or export is None:
        sys.exit("serve.py: this Phoenix release has no _add_spans or Servicer.Export")

    async def add_named_spans(req, *args, **kwargs):
        return await add_spans(name_services(req), *args, **kwargs)

    async def export_named(self, request, context):
        return await export(self, name_services(request), context)

    traces._add_spans = add_named_spans  # looked up at each request
    grpc_server.Servicer.Export = export_named


if __name__ == "__main__":
    _patch()
    sys.exit(main())
