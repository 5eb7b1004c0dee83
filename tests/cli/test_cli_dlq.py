"""`peerline dlq`: dead letters listed without their payloads, and replayed."""

from __future__ import annotations

import asyncio
import itertools
import uuid

import nats
from typer.testing import CliRunner

from peerline.cli import app
from shared import bus
from shared.cloudevents import encode
from shared.events import IncidentReported, Involved
from shared.streams import EVENTS, provision
from shared.vocab import Category, InvolvedRole

AGENCY = "CA0190000"
MARKER = "B1234"
# Each dead letter its own original stream sequence: the dead-letter stream drops a
# second one from the same consumer and sequence as a duplicate.
STREAM_SEQS = itertools.count(1)
# Wide enough that Rich folds no cell of the table.
runner = CliRunner(env={"COLUMNS": "300", "PEERLINE_NATS_URL": None})


def dlq(*args: str):
    return runner.invoke(app, ["dlq", *args])


def rows(result) -> list[list[str]]:
    """The cells of each body row of the table `dlq list` prints."""
    return [
        [cell.strip() for cell in line.strip("│").split("│")]
        for line in result.stdout.splitlines()
        if line.startswith("│")
    ]


def reported() -> IncidentReported:
    return IncidentReported(
        agency_id=AGENCY,
        incident_id=uuid.uuid4(),
        external_id="CAD-2024-0042",
        category=Category.OFFICER_INVOLVED_SHOOTING,
        involved=[Involved(personnel_id=MARKER, role=InvolvedRole.PRIMARY)],
    )


async def _dead_letter(nats_url: str, event: IncidentReported, consumer: str) -> dict[str, str]:
    """Dead-letter `event` as a consumer that gave up on it after five deliveries; the
    headers it had been published with."""
    payload, headers = encode(event, source="tests")
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)
    delivery = bus.Delivery(
        subject=event.subject,
        headers=headers,
        data=payload,
        stream_seq=next(STREAM_SEQS),
        num_delivered=5,
    )
    await bus.dead_letter(js, "test", consumer, delivery, "OperationalError")
    await nc.close()
    return headers


def dead_letter(
    nats_url: str, consumer: str = "test-incidents"
) -> tuple[IncidentReported, dict[str, str]]:
    """The event now in the dead-letter stream, and the headers it was published with."""
    event = reported()
    return event, asyncio.run(_dead_letter(nats_url, event, consumer))


async def _stored_events(nats_url: str, subject: str) -> list:
    nc = await nats.connect(nats_url)
    try:
        sub = await nc.jetstream().pull_subscribe(subject, stream=EVENTS.name)
        try:
            return await sub.fetch(10, timeout=1)
        except TimeoutError:  # nats-py raises both its own and asyncio's
            return []
    finally:
        await nc.close()


def test_list_shows_where_from_and_why_but_not_the_payload(nats_url: str) -> None:
    event, _ = dead_letter(nats_url)

    result = dlq("list", "--nats-url", nats_url)

    assert result.exit_code == 0, result.output
    ((dlq_id, _stored, *cells),) = rows(result)
    assert dlq_id == "1"
    assert cells == [
        "test-incidents",
        event.subject,
        "5",
        "OperationalError",
        "peerline.incident.reported.v1",
    ]
    assert MARKER not in result.output
    assert str(event.incident_id) not in result.output


def test_list_of_one_consumer(nats_url: str) -> None:
    dead_letter(nats_url, consumer="test-incidents")
    dead_letter(nats_url, consumer="test-other")

    other = dlq("list", "--nats-url", nats_url, "--consumer", "test-other")
    nobody = dlq("list", "--nats-url", nats_url, "--consumer", "test-nobody")

    assert other.exit_code == 0, other.output
    assert [cells[2] for cells in rows(other)] == ["test-other"]
    assert nobody.stdout.strip() == "no dead letters"


def test_replay_puts_the_event_back_and_removes_the_dead_letter(nats_url: str) -> None:
    first, headers = dead_letter(nats_url)
    dead_letter(nats_url)

    result = dlq("replay", "1", "--nats-url", nats_url)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"replayed dead letter 1 to {first.subject} ")
    (stored,) = asyncio.run(_stored_events(nats_url, first.subject))
    assert IncidentReported.model_validate_json(stored.data) == first
    for key, value in headers.items():
        if key.startswith("ce-"):
            assert stored.headers[key] == value
    assert stored.headers["Nats-Msg-Id"] == f"replay:1:{first.event_id}"
    assert not any(key.startswith("Peerline-Dlq-") for key in stored.headers)

    assert [cells[0] for cells in rows(dlq("list", "--nats-url", nats_url))] == ["2"]
    assert dlq("replay", "2", "--nats-url", nats_url).exit_code == 0
    assert dlq("list", "--nats-url", nats_url).stdout.strip() == "no dead letters"
    assert len(asyncio.run(_stored_events(nats_url, first.subject))) == 2


def test_replay_of_an_unknown_id_fails(nats_url: str) -> None:
    dead_letter(nats_url)

    result = dlq("replay", "7", "--nats-url", nats_url)

    assert result.exit_code == 1
    assert "no dead letter 7" in result.stderr


def test_without_the_stream_it_says_so(nats_url: str) -> None:
    result = dlq("list", "--nats-url", nats_url)

    assert result.exit_code == 1
    assert "PEERLINE_DLQ does not exist" in result.stderr
