"""Who may do what on the bus: one table of what each service publishes and consumes,
and the NATS permissions of each service's own user made from it (decision 67).

A consumer acts on an event because of its subject, so a subject must be publishable by
its owner only: incidents own `incident.*` and the intake's rejections, the roster
`assignment.*`, `roster.*`, `request.*` and its acknowledgment deadlines `deadline.>`,
check-ins `checkin.>` (their timers too), `contact.*`, `referral.*`, `feedback.*` and
`exception.*`, notify `notification.*`. Metrics publishes nothing. A forged
`IncidentReported` or `FeedbackSubmitted` from any other user is refused by the server
itself.

Reading is walled the same way. JetStream hands a consumer's messages to whoever may
fetch from it, so each user may create, read and acknowledge only its own durables,
each with the one filter the table names, and receives replies only on an inbox of its
own (`_INBOX_<service>`). Beside each durable it may make, read and delete one more
consumer with the same filter, `<durable>-lag`, through which `shared.figures` reads the
time of the durable's oldest unacknowledged message (decision 75). Every service may
look at and provision the four streams and dead-letter what it cannot process under its
own name.

`ServiceRuntime.consume` refuses a consumer the table does not name, so the table and
the services cannot drift apart; `peerline nats-config` and `peerline up` write the
users from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.streams import ALL_STREAMS, CHECKINS, DEADLINES, EVENTS, INTAKE, StreamSpec
from shared.subjects import ALL_AGENCIES, DLQ_PREFIX, EVERYTHING, intake_subject, subject

ANY = ALL_AGENCIES


@dataclass(frozen=True)
class Consumes:
    """A durable of the service: its stream and the one filter it reads."""

    stream: StreamSpec
    durable: str
    filter: str


@dataclass(frozen=True)
class BusUser:
    service: str
    publishes: tuple[str, ...]
    consumes: tuple[Consumes, ...]

    def permissions(self) -> dict:
        """The user's NATS permissions: everything not allowed here is refused."""
        api = "$JS.API"
        publish = [
            *self.publishes,
            f"{DLQ_PREFIX}.{self.service}.>",
            f"{api}.INFO",
            *(f"{api}.STREAM.{verb}.{s.name}" for s in ALL_STREAMS for verb in STREAM_VERBS),
        ]
        for c in self.consumes:
            where = f"{c.stream.name}.{c.durable}"
            lag = f"{c.stream.name}.{lag_consumer(c.durable)}"
            publish += [
                f"{api}.CONSUMER.INFO.{where}",
                f"{api}.CONSUMER.CREATE.{where}.{c.filter}",
                f"{api}.CONSUMER.MSG.NEXT.{where}",
                f"$JS.ACK.{where}.>",
                # The durable's lag (`shared.figures`): a short-lived consumer with the
                # same one filter, so it reads nothing the durable may not.
                f"{api}.CONSUMER.CREATE.{lag}.{c.filter}",
                f"{api}.CONSUMER.MSG.NEXT.{lag}",
                f"{api}.CONSUMER.DELETE.{lag}",
            ]
        return {
            "publish": {"allow": publish},
            "subscribe": {"allow": [f"{inbox_prefix(self.service)}.>"]},
        }

    def allows(self, stream: StreamSpec, durable: str, filter_subject: str) -> bool:
        return Consumes(stream, durable, filter_subject) in self.consumes


def lag_consumer(durable: str) -> str:
    """The short-lived consumer that reads the oldest message `durable` has not
    acknowledged, for its lag (`shared.figures`)."""
    return f"{durable}-lag"


def inbox_prefix(service: str) -> str:
    """Where the service's connection gets its replies: its own, so that no other user
    may read the messages its consumers fetch."""
    return f"_INBOX_{service}"


# What provisioning the streams needs: look, create, bring a changed one up to date.
STREAM_VERBS = ("INFO", "CREATE", "UPDATE")


def _events(*nouns: str) -> tuple[str, ...]:
    return tuple(subject(ANY, noun, "*") for noun in nouns)


USERS: dict[str, BusUser] = {
    user.service: user
    for user in (
        BusUser(
            "incidents",
            publishes=(*_events("incident"), subject(ANY, "intake", "rejected")),
            consumes=(Consumes(INTAKE, "incidents-intake", intake_subject(ANY)),),
        ),
        BusUser(
            "roster",
            publishes=(*_events("assignment", "roster", "request"), subject(ANY, "deadline", ">")),
            consumes=(
                Consumes(EVENTS, "roster-incidents", subject(ANY, "incident", "*")),
                Consumes(CHECKINS, "roster-care", subject(ANY, "checkin", "closed")),
                Consumes(DEADLINES, "roster-deadlines", subject(ANY, "deadline", "fired")),
            ),
        ),
        BusUser(
            "checkins",
            publishes=(
                subject(ANY, "checkin", ">"),
                *_events("contact", "referral", "feedback", "exception"),
            ),
            consumes=(
                Consumes(EVENTS, "checkins-assignments", subject(ANY, "assignment", "made")),
                Consumes(EVENTS, "checkins-retractions", subject(ANY, "incident", "retracted")),
                Consumes(
                    EVENTS, "checkins-reassignments", subject(ANY, "assignment", "reassigned")
                ),
                Consumes(EVENTS, "checkins-requests", subject(ANY, "request", "resolved")),
                Consumes(CHECKINS, "checkins-timers", subject(ANY, "checkin", "fired", "*")),
                Consumes(EVENTS, "checkins-officers", subject(ANY, "roster", "officer_updated")),
                Consumes(EVENTS, "checkins-resources", subject(ANY, "roster", "resource_updated")),
            ),
        ),
        BusUser(
            "notify",
            publishes=_events("notification"),
            consumes=(
                Consumes(EVENTS, "notify-assignments", subject(ANY, "assignment", "made")),
                Consumes(EVENTS, "notify-unfilled", subject(ANY, "assignment", "unfilled")),
                Consumes(EVENTS, "notify-reassignments", subject(ANY, "assignment", "reassigned")),
                Consumes(EVENTS, "notify-escalations", subject(ANY, "assignment", "escalated")),
                Consumes(CHECKINS, "notify-checkins-due", subject(ANY, "checkin", "due")),
                Consumes(CHECKINS, "notify-checkins-overdue", subject(ANY, "checkin", "overdue")),
                Consumes(EVENTS, "notify-training", subject(ANY, "roster", "training_expiring")),
            ),
        ),
        BusUser(
            "metrics",
            publishes=(),
            consumes=(
                Consumes(EVENTS, "metrics-events", EVERYTHING),
                Consumes(
                    CHECKINS, "metrics-checkins-scheduled", subject(ANY, "checkin", "scheduled")
                ),
                Consumes(CHECKINS, "metrics-checkins-closed", subject(ANY, "checkin", "closed")),
            ),
        ),
    )
}


def user_of(service: str) -> BusUser:
    return USERS[service]
