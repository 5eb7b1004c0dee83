"""The contract files, generated from the code that implements the contract.

`peerline schema export DIR` writes a JSON Schema per event, an AsyncAPI document of
the bus and an OpenAPI document per HTTP service. They are committed under
`docs/contract/` and a test regenerates them, so a change to an event model or a route
shows up in review as a diff of the contract instead of slipping through. Every byte is
a function of the code (sorted keys, no timestamps), which makes that comparison exact.
"""

from __future__ import annotations

import importlib
import json
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from services.incidents.domain import IncidentReport
from shared import cloudevents, subjects
from shared.events import ALL_EVENTS, Event
from shared.ids import AGENCY_ID_PATTERN
from shared.settings import Settings
from shared.streams import stream_for_subject

Document = dict[str, Any]

SCHEMA_BASE = "https://peerline.example/schemas/"
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
COMPONENT_REF = "#/components/schemas/{model}"
# Any valid agency: it only serves to find a subject's stream, the same for every agency.
EXAMPLE_AGENCY = "CA0190000"

# The HTTP services and where their app factory lives: a new service is one line. The
# portal serves pages to people, not an API, and has no OpenAPI document.
HTTP_SERVICES: dict[str, str] = {
    "incidents": "services.incidents.app:create_app",
    "roster": "services.roster.app:create_app",
    "checkins": "services.checkins.app:create_app",
    "notify": "services.notify.app:create_app",
    "metrics": "services.metrics.app:create_app",
}

# The folders an export owns: a file there that the code no longer produces is deleted.
OWNED_FOLDERS = ("events", "openapi")


def export(directory: Path) -> tuple[list[Path], list[Path]]:
    """Write every contract file under `directory`; returns the files written and the
    stale ones removed (an event or service that no longer exists)."""
    written = []
    for relative, document in contract().items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(document), encoding="utf-8")
        written.append(path)
    removed = [
        stale
        for folder in OWNED_FOLDERS
        for stale in sorted((directory / folder).glob("*.json"))
        if stale not in written
    ]
    for stale in removed:
        stale.unlink()
    return written, removed


def contract() -> dict[str, Document]:
    """Every contract file, by its path relative to the export directory."""
    files = {f"events/{cls.ce_type()}.json": event_schema(cls) for cls in ALL_EVENTS}
    files["asyncapi.json"] = asyncapi()
    files.update({f"openapi/{name}.json": openapi(name) for name in HTTP_SERVICES})
    return files


def render(document: Document) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def event_schema(cls: type[Event]) -> Document:
    """The event's payload as a standalone JSON Schema, with the subject it travels on."""
    return {
        "$schema": DRAFT_2020_12,
        "$id": f"{SCHEMA_BASE}{cls.ce_type()}.json",
        **cls.model_json_schema(mode="serialization"),
        "x-peerline-subject": _address(cls.subject_pattern()),
    }


def asyncapi() -> Document:
    """The bus as AsyncAPI 3.0: every event Peerline sends, and the intake it receives."""
    document: Document = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Peerline events",
            "version": "1",
            "description": (
                "Events on NATS JetStream. Subjects are ps.<agency_id>.<noun>.<verb>; "
                "events carry CloudEvents 1.0 headers (NATS binding, binary mode) and "
                "a JSON payload. Consumers ignore unknown fields; a breaking change is "
                "a new ce-type (.v2)."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {
                "host": "127.0.0.1:4222",
                "protocol": "nats",
                "description": (
                    "The NATS server of `peerline up`. It picks a free port when 4222 is "
                    "taken and writes the URL it chose to ./.peerline/stack.json."
                ),
            }
        },
        "channels": {},
        "operations": {},
        "components": {
            "messages": {},
            "schemas": {},
            "parameters": {
                "agency_id": {
                    "description": (
                        "The agency whose officer or incident the message concerns; "
                        f"matches {AGENCY_ID_PATTERN.pattern}"
                    )
                }
            },
        },
    }
    _add_channel(
        document,
        IncidentReport,
        subjects.intake_subject(subjects.ALL_AGENCIES),
        action="receive",
        message={
            "title": "Raw incident report",
            "description": (
                "Untrusted input from an agency's dispatch or records system, the same "
                "body as POST /v1/incidents. The incidents service validates it and "
                "publishes IncidentReported, IncidentUpdated or IntakeRejected. No "
                "headers are required: the agency is the subject's."
            ),
        },
    )
    for cls in ALL_EVENTS:
        _add_channel(
            document,
            cls,
            cls.subject_pattern(),
            action="send",
            message={"title": cls.ce_type(), "headers": _cloudevents_headers(cls.ce_type())},
        )
    return document


def openapi(service: str) -> Document:
    """The service's OpenAPI document. Building the app connects to nothing; a throwaway
    data directory keeps it away from the local stack's databases all the same."""
    module, _, factory = HTTP_SERVICES[service].partition(":")
    create_app = getattr(importlib.import_module(module), factory)
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(Settings(service=service, data_dir=Path(data_dir)))
        return app.openapi()


def _address(pattern: str) -> str:
    """`ps.*.incident.reported` as a channel address, `ps.{agency_id}.incident.reported`."""
    return pattern.replace(subjects.ALL_AGENCIES, "{agency_id}", 1)


def _add_channel(
    document: Document, model: type[BaseModel], pattern: str, *, action: str, message: Document
) -> None:
    """One channel for the subjects matching `pattern`, its message, and the operation
    Peerline performs on it."""
    name = model.__name__
    channel_id = pattern.split(".", 2)[2].replace(".", "-")
    components = document["components"]
    components["messages"][name] = {
        "name": name,
        "contentType": "application/json",
        "payload": {"$ref": COMPONENT_REF.format(model=name)},
        **message,
    }
    # What Peerline sends is described as it appears on the wire; what it receives, as
    # what it accepts.
    mode = "serialization" if action == "send" else "validation"
    _add_schemas(components["schemas"], model, mode)
    document["channels"][channel_id] = {
        "address": _address(pattern),
        "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        "parameters": {"agency_id": {"$ref": "#/components/parameters/agency_id"}},
        "x-peerline-stream": stream_for_subject(
            pattern.replace(subjects.ALL_AGENCIES, EXAMPLE_AGENCY, 1)
        ).name,
    }
    document["operations"][f"{action}{name}"] = {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel_id}"},
        "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"}],
    }


def _add_schemas(schemas: Document, model: type[BaseModel], mode: JsonSchemaMode) -> None:
    """Add the model's schema and the models it nests, all referenced as components; one
    name never stands for two different schemas."""
    schema = model.model_json_schema(ref_template=COMPONENT_REF, mode=mode)
    for name, definition in {**schema.pop("$defs", {}), model.__name__: schema}.items():
        if schemas.setdefault(name, definition) != definition:
            raise ValueError(f"two different schemas are named {name}")


def _cloudevents_headers(ce_type: str) -> Document:
    """The headers `shared.cloudevents.encode` sets; `traceparent` only within a trace."""
    uuid_string = {"type": "string", "format": "uuid"}
    properties = {
        "ce-specversion": {"const": cloudevents.SPECVERSION},
        "ce-id": {**uuid_string, "description": "The payload's event_id."},
        "ce-source": {"type": "string", "description": "The publisher, e.g. peerline/incidents."},
        "ce-type": {"const": ce_type},
        "ce-time": {"type": "string", "format": "date-time"},
        "ce-agencyid": {
            "type": "string",
            "pattern": AGENCY_ID_PATTERN.pattern,
            "description": "The payload's agency_id.",
        },
        "Content-Type": {"const": "application/json"},
        cloudevents.MSG_ID: {
            **uuid_string,
            "description": "Equals ce-id, so JetStream drops a repeat of the event.",
        },
        "traceparent": {"type": "string", "description": "W3C trace context."},
    }
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(key for key in properties if key != "traceparent"),
    }
