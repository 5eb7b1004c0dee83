"""The peer supporter's pages: open assignments with the officer to reach, "I'll reach
them by ..." in one tap, a contact in a few taps (codes only, no text box anywhere), a
referral, "they declined", and the supporter's own on-call status, leave, load and
training.

A notification's link (`/assignments/<id>`) opens the assignment after sign-in. The
officer's name and contact details come from the roster, which gives them only to the
supporter currently assigned and audits each showing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request
from fastapi.responses import Response

from shared.vocab import ContactOutcome, DurationBucket, InitiatedBy, Urgency

from ..backend import Refused
from ..domain import (
    acknowledgment_words,
    offer_open,
    offer_state,
    reach_by_of,
    reach_choices,
)
from ..web import NotYours, Supporter, backend, form_of, invalid_fields, render, see_other

router = APIRouter()


async def _mine(request: Request, person) -> list[dict]:
    return await backend(request).get(person, "checkins", "/v1/assignments")


async def _find(request: Request, person, assignment_id: uuid.UUID) -> dict | None:
    for assignment in await _mine(request, person):
        if assignment["assignment_id"] == str(assignment_id):
            return assignment
    return None


async def _assignment(request: Request, person, assignment_id: uuid.UUID) -> dict:
    """One of the supporter's own assignments; a 403 page for anyone else's."""
    assignment = await _find(request, person, assignment_id)
    if assignment is None:
        raise NotYours
    return assignment


async def _acknowledgment(request: Request, person, assignment_id: uuid.UUID) -> dict | None:
    """Whether and by when the supporter said they would reach the officer (the
    roster's); None when the assignment is not theirs to acknowledge now."""
    view, _ = await _held(request, person, assignment_id)
    return view


async def _held(request: Request, person, assignment_id: uuid.UUID) -> tuple[dict | None, bool]:
    """The acknowledgment, and whether the roster, which decides who holds an
    assignment, refused it as not the supporter's (moved on, withdrawn or ended)."""
    try:
        view = await backend(request).get(
            person, "roster", f"/v1/assignments/{assignment_id}/acknowledgment"
        )
    except Refused as refused:
        if refused.status in (403, 404):
            return None, refused.status == 403
        raise
    return view, False


async def _zone(request: Request, person) -> tzinfo:
    """The supporter's own time zone (their availability's), for "later today"."""
    try:
        profile = await backend(request).get(person, "roster", "/v1/me")
        return ZoneInfo(str(profile.get("timezone") or "UTC"))
    except (Refused, ZoneInfoNotFoundError, ValueError):
        return UTC


def _pending(assignment_id: uuid.UUID) -> dict:
    """An assignment the roster gave the supporter that check-ins has not listed yet
    (their events cross in flight): enough to acknowledge it and reach the officer."""
    return {
        "assignment_id": str(assignment_id),
        "category": None,
        "care_for_carer": False,
        "assigned_at": None,
        "care": "open",
        "current_offer": None,
        "personnel_id": None,
    }


async def _officer(request: Request, person, assignment: dict) -> dict | None:
    """How to reach the assignment's officer, while the care is open (audited by the
    roster); None once it has ended or if the roster keeps no details."""
    if assignment["care"] != "open":
        return None
    try:
        return await backend(request).get(
            person, "roster", f"/v1/assignments/{assignment['assignment_id']}/officer"
        )
    except Refused as refused:
        if refused.status in (403, 404):
            return None
        raise


@router.get("/assignments", include_in_schema=False)
async def assignments(request: Request, person: Supporter) -> Response:
    now = datetime.now(UTC)
    groups: dict[str, list] = {"overdue": [], "due": [], "upcoming": [], "none": []}
    for assignment in await _mine(request, person):
        if assignment["care"] != "open":
            continue
        state = offer_state(assignment.get("current_offer"), now)
        officer = await _officer(request, person, assignment)
        groups[state].append({**assignment, "officer": officer})
    return render(request, "assignments.html", {"groups": groups})


@router.get("/assignments/{assignment_id}", include_in_schema=False)
async def assignment_page(
    request: Request, person: Supporter, assignment_id: uuid.UUID
) -> Response:
    return await _assignment_view(request, person, assignment_id)


async def _assignment_view(
    request: Request,
    person,
    assignment_id: uuid.UUID,
    *,
    errors: dict | None = None,
    status: int = 200,
) -> Response:
    assignment = await _find(request, person, assignment_id)
    ack, refused = await _held(request, person, assignment_id)
    pending = assignment is None
    if assignment is None:
        if ack is None:
            raise NotYours
        assignment = _pending(assignment_id)
    elif refused and assignment["care"] == "open":
        # Check-ins still lists it, but it is no longer this supporter's to act on.
        context = {
            "title": "No longer yours",
            "detail": "This assignment has gone to another peer supporter, or was "
            "withdrawn: there is nothing more to do.",
        }
        return render(request, "error.html", context, status=403)
    officer = await _officer(request, person, assignment)
    now = datetime.now(UTC)
    acknowledgment = None
    if ack is not None:
        waiting = ack.get("acknowledged_at") is None
        zone = await _zone(request, person)
        for_request = bool(ack.get("for_request"))
        acknowledgment = {
            "view": ack,
            "words": acknowledgment_words(ack, now, zone),
            "choices": reach_choices(now, zone, for_request=for_request) if waiting else [],
        }
    contact_id = request.query_params.get("contact")
    resources = []
    if contact_id:
        resources = await backend(request).get(person, "roster", "/v1/resources")
    offer = assignment.get("current_offer")
    context = {
        "a": assignment,
        "pending": pending,
        "acknowledgment": acknowledgment,
        "officer": officer,
        "offer_open": offer_open(offer, now),
        "contact_id": contact_id,
        "referred": request.query_params.get("referred"),
        "resources": resources,
        "errors": errors or {},
        "choices": {"initiated_by": list(InitiatedBy), "urgency": list(Urgency)},
    }
    return render(request, "assignment.html", context, status=status)


async def _log_contact(
    request: Request, person, assignment_id: uuid.UUID, form: dict, outcome: str
) -> Response:
    assignment = await _assignment(request, person, assignment_id)
    offer = assignment.get("current_offer")
    open_offer = offer_open(offer, datetime.now(UTC))
    offered = form.get("resources_offered") or []
    body = {
        "initiated_by": form.get("initiated_by")
        or ("scheduled_checkin" if open_offer else "peer_outreach"),
        "channel": form.get("channel"),
        "duration_bucket": form.get("duration_bucket"),
        "outcome": outcome,
        "resources_offered": [offered] if isinstance(offered, str) else offered,
    }
    if open_offer:
        body["checkin_id"] = offer["checkin_id"]
    else:
        body["personnel_id"] = assignment["personnel_id"]
    try:
        logged = await backend(request).send(person, "checkins", "POST", "/v1/contacts", body)
    except Refused as refused:
        return await _assignment_view(
            request, person, assignment_id, errors=invalid_fields(refused), status=422
        )
    return see_other(f"/assignments/{assignment_id}?contact={logged['contact_id']}")


@router.post("/assignments/{assignment_id}/acknowledge", include_in_schema=False)
async def acknowledge(request: Request, person: Supporter, assignment_id: uuid.UUID) -> Response:
    """ "I'll reach them by ...": the tapped choice becomes a time now, when it is sent."""
    form = await form_of(request)
    ack = await _acknowledgment(request, person, assignment_id)
    if ack is None:
        raise NotYours
    if ack.get("acknowledged_at") is not None:
        return see_other(f"/assignments/{assignment_id}")
    reach_by = reach_by_of(
        str(form.get("within") or ""),
        datetime.now(UTC),
        await _zone(request, person),
        for_request=bool(ack.get("for_request")),
    )
    if reach_by is None:
        errors = {"reach_by": "Choose one of the times."}
        return await _assignment_view(request, person, assignment_id, errors=errors, status=422)
    body = {"reach_by": reach_by.isoformat()}
    try:
        await backend(request).send(
            person, "roster", "POST", f"/v1/assignments/{assignment_id}/acknowledge", body
        )
    except Refused as refused:
        if refused.status == 409:  # it moved to another supporter a moment ago
            context = {"title": "It has gone to another peer", "detail": refused.detail}
            return render(request, "error.html", context, status=409)
        errors = invalid_fields(refused)
        return await _assignment_view(request, person, assignment_id, errors=errors, status=422)
    return see_other(f"/assignments/{assignment_id}")


@router.post("/assignments/{assignment_id}/contact", include_in_schema=False)
async def log_contact(request: Request, person: Supporter, assignment_id: uuid.UUID) -> Response:
    form = await form_of(request)
    return await _log_contact(request, person, assignment_id, form, str(form.get("outcome")))


@router.post("/assignments/{assignment_id}/decline", include_in_schema=False)
async def declined(request: Request, person: Supporter, assignment_id: uuid.UUID) -> Response:
    """The officer said no: honoured at once, with no follow-ups."""
    form = await form_of(request)
    form = {**form, "duration_bucket": DurationBucket.LT_15M.value}
    return await _log_contact(request, person, assignment_id, form, ContactOutcome.DECLINED.value)


@router.post("/assignments/{assignment_id}/referral", include_in_schema=False)
async def refer(request: Request, person: Supporter, assignment_id: uuid.UUID) -> Response:
    form = await form_of(request)
    body = {
        "contact_id": form.get("contact_id"),
        "resource_id": form.get("resource_id"),
        "urgency": form.get("urgency"),
    }
    try:
        await backend(request).send(person, "checkins", "POST", "/v1/referrals", body)
    except Refused as refused:
        return await _assignment_view(
            request, person, assignment_id, errors=invalid_fields(refused), status=422
        )
    return see_other(f"/assignments/{assignment_id}?referred=1")


@router.get("/training", include_in_schema=False)
async def training_link(person: Supporter) -> Response:
    """Where a "training to renew" notification's link leads: the supporter's training."""
    return see_other("/me")


@router.get("/me", include_in_schema=False)
async def me(request: Request, person: Supporter) -> Response:
    profile = await backend(request).get(person, "roster", "/v1/me")
    return render(request, "me.html", {"me": profile, "errors": {}})


@router.post("/me/on-call", include_in_schema=False)
async def on_call(request: Request, person: Supporter) -> Response:
    form = await form_of(request)
    body = {"on_call": form.get("on_call") == "on"}
    if body["on_call"]:
        hours = str(form.get("hours") or "12")
        body["hours"] = int(hours) if hours.isdigit() else 0  # 0: the roster names the field
    return await _change_me(request, person, "PUT", "/v1/me/on-call", body)


@router.post("/me/leave", include_in_schema=False)
async def leave(request: Request, person: Supporter) -> Response:
    form = await form_of(request)
    body = {"start": _day_start(form.get("start")), "end": _day_start(form.get("end"))}
    return await _change_me(request, person, "POST", "/v1/me/leave", body)


@router.post("/me/leave/clear", include_in_schema=False)
async def clear_leave(request: Request, person: Supporter) -> Response:
    await form_of(request)
    return await _change_me(request, person, "DELETE", "/v1/me/leave", None)


def _day_start(day: object) -> str | None:
    """A date field's day as the start of that day, UTC; None if not a date."""
    try:
        return datetime.fromisoformat(str(day)).replace(tzinfo=UTC).isoformat()
    except ValueError:
        return None


async def _change_me(request: Request, person, method: str, path: str, body) -> Response:
    try:
        await backend(request).send(person, "roster", method, path, body)
    except Refused as refused:
        profile = await backend(request).get(person, "roster", "/v1/me")
        context = {"me": profile, "errors": invalid_fields(refused)}
        return render(request, "me.html", context, status=422)
    return see_other("/me?saved=1")
