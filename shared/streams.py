"""Every JetStream stream Peerline uses, declared here and nowhere else.

`provision` creates missing streams and brings the settings we own back to these
declarations, keeping whatever an operator set on the rest (replicas, placement), so a
service starting never overwrites another's choices. Check-in subjects live in one
stream that allows message schedules, since a schedule and its target must share a
stream, and per-message TTLs, so a pending timer can be exempt from `max_age`
(`shared/timers.py`).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field, replace

from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from shared.subjects import ALL_AGENCIES, DLQ_PREFIX, intake_subject, subject

log = logging.getLogger(__name__)

DAY = 86_400.0


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    max_age: float
    duplicate_window: float = 3_600.0
    allow_msg_schedules: bool = False
    allow_msg_ttl: bool = False
    description: str = ""
    extra: dict = field(default_factory=dict)

    def config(self, replicas: int = 1) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            description=self.description,
            subjects=list(self.subjects),
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=self.max_age,
            duplicate_window=self.duplicate_window,
            num_replicas=replicas,
            allow_msg_schedules=self.allow_msg_schedules or None,
            allow_msg_ttl=self.allow_msg_ttl or None,
        )


INTAKE = StreamSpec(
    name="PEERLINE_INTAKE",
    subjects=(intake_subject(ALL_AGENCIES),),
    max_age=7 * DAY,
    description="Raw incident reports from agencies (untrusted, validated by incidents).",
)
EVENTS = StreamSpec(
    name="PEERLINE_EVENTS",
    subjects=(
        subject(ALL_AGENCIES, "intake", "rejected"),
        *(
            subject(ALL_AGENCIES, noun, "*")
            for noun in (
                "incident",
                "assignment",
                "request",
                "contact",
                "referral",
                "feedback",
                "exception",
                "notification",
                "roster",
            )
        ),
    ),
    # Care events name officers: they leave the bus with the care window (rule 8).
    max_age=90 * DAY,
    description="Peerline's published events.",
)
CHECKINS = StreamSpec(
    name="PEERLINE_CHECKINS",
    subjects=(subject(ALL_AGENCIES, "checkin", ">"),),
    max_age=90 * DAY,
    allow_msg_schedules=True,
    allow_msg_ttl=True,
    description="Check-in events and their durable timers (message schedules).",
)
DEADLINES = StreamSpec(
    name="PEERLINE_DEADLINES",
    subjects=(subject(ALL_AGENCIES, "deadline", ">"),),
    max_age=7 * DAY,
    allow_msg_schedules=True,
    allow_msg_ttl=True,
    description="Acknowledgment deadlines of assignments (message schedules).",
)
DLQ = StreamSpec(
    name="PEERLINE_DLQ",
    subjects=(f"{DLQ_PREFIX}.>",),
    max_age=30 * DAY,
    duplicate_window=120.0,
    description="Messages a consumer could not process, with the reason.",
)

ALL_STREAMS: tuple[StreamSpec, ...] = (INTAKE, EVENTS, CHECKINS, DEADLINES, DLQ)


@functools.lru_cache(maxsize=4096)
def stream_for_subject(subject_text: str) -> StreamSpec:
    """The stream that stores `subject_text` (a concrete subject)."""
    for spec in ALL_STREAMS:
        if any(_matches(pattern, subject_text) for pattern in spec.subjects):
            return spec
    raise LookupError("no Peerline stream stores this subject")


def _matches(pattern: str, subject_text: str) -> bool:
    pat, sub = pattern.split("."), subject_text.split(".")
    for i, token in enumerate(pat):
        if token == ">":
            return len(sub) > i
        if i >= len(sub) or (token != "*" and token != sub[i]):
            return False
    return len(pat) == len(sub)


def _owned(config: StreamConfig) -> tuple:
    """The settings Peerline owns on a stream; the rest belongs to operators."""
    return (
        sorted(config.subjects or []),
        config.max_age,
        config.duplicate_window,
        bool(config.allow_msg_schedules),
        bool(config.allow_msg_ttl),
    )


async def provision(js: JetStreamContext, replicas: int = 1) -> None:
    """Create or reconcile every stream; safe to run from every service at every start."""
    for spec in ALL_STREAMS:
        wanted = spec.config(replicas)
        try:
            info = await js.stream_info(spec.name)
        except NotFoundError:
            await js.add_stream(wanted)
            log.info("created stream %s", spec.name)
            continue
        current = info.config
        if _owned(wanted) != _owned(current):
            updated = replace(
                current,
                subjects=list(wanted.subjects or []),
                max_age=wanted.max_age,
                duplicate_window=wanted.duplicate_window,
                allow_msg_schedules=wanted.allow_msg_schedules,
                allow_msg_ttl=wanted.allow_msg_ttl,
                description=wanted.description,
            )
            await js.update_stream(updated)
            log.info("updated stream %s", spec.name)
