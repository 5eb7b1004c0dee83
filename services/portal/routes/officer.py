"""The officer's pages: ask for a peer, reach a peer, resources, their own preferences,
and the anonymous rating. Nothing here records what an officer looked at: the roster
writes no audit row for the directory, and the portal keeps no log of pages
(docs/portal.md)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from shared.vocab import ResourceType

from ..backend import Refused
from ..domain import GENDERS, REACH_WAYS, ask_body, language_name, request_status, request_to_show
from ..web import Anyone, Officer, backend, form_of, invalid_fields, render, see_other

router = APIRouter()

FILTERS = ("gender", "rank", "language", "specialty")


# Ask for a peer: one button, a few choices for this request only, never why.


async def _languages(request: Request, person) -> list[str]:
    """The languages the officer's peers speak: the only ones a request may ask for."""
    peers = await backend(request).get(person, "roster", "/v1/directory")
    return sorted({lang for p in peers for lang in p.get("languages") or []})


async def _shown_request(request: Request, person) -> dict | None:
    mine = await backend(request).get(person, "roster", "/v1/requests")
    return request_to_show(mine, datetime.now(UTC))


def _state_context(shown: dict | None) -> dict:
    status = request_status(shown, datetime.now(UTC)) if shown else None
    return {"shown": shown, "status": status}


async def _ask_page(
    request: Request,
    person,
    *,
    form: dict | None = None,
    errors: dict | None = None,
    status: int = 200,
) -> Response:
    shown = await _shown_request(request, person)
    languages = await _languages(request, person)
    context = {
        **_state_context(shown),
        "form": form or {"reach": "call"},
        "errors": errors or {},
        "reach_ways": REACH_WAYS,
        "genders": GENDERS,
        "languages": [(code, language_name(code)) for code in languages],
        "note": request.query_params.get("note"),
    }
    return render(request, "ask.html", context, status=status)


@router.get("/ask", include_in_schema=False)
async def ask(request: Request, person: Officer) -> Response:
    return await _ask_page(request, person)


@router.get("/ask/state", include_in_schema=False)
async def ask_state(request: Request, person: Officer) -> Response:
    """The request's state alone, for the page to check while the officer waits."""
    shown = await _shown_request(request, person)
    return render(request, "_request_state.html", _state_context(shown))


@router.post("/ask", include_in_schema=False)
async def send_request(request: Request, person: Officer) -> Response:
    form = await form_of(request)
    body, errors = ask_body(form, await _languages(request, person))
    if errors:
        return await _ask_page(request, person, form=body, errors=errors, status=422)
    try:
        await backend(request).send(person, "roster", "POST", "/v1/requests", body)
    except Refused as refused:
        if refused.status == 409:  # one is open already: the page shows it
            return see_other("/ask?note=open")
        errors = invalid_fields(refused)
        return await _ask_page(request, person, form=body, errors=errors, status=422)
    return see_other("/ask")


@router.post("/ask/{request_id}/cancel", include_in_schema=False)
async def cancel_request(request: Request, person: Officer, request_id: uuid.UUID) -> Response:
    await form_of(request)
    try:
        await backend(request).send(
            person, "roster", "POST", f"/v1/requests/{request_id}/cancel", None
        )
    except Refused as refused:
        if refused.status == 409:  # a peer took it first, or it was cancelled already
            return see_other("/ask")
        raise
    return see_other("/ask?note=cancelled")


@router.get("/peers", include_in_schema=False)
async def peers(request: Request, person: Officer) -> Response:
    """The peer directory, filtered by the form's query (a GET: nothing is posted)."""
    query = request.query_params
    chosen = {k: query[k] for k in FILTERS if query.get(k)}
    if query.get("outside") == "on":
        chosen["outside_agency"] = "true"
    if query.get("on_call") == "on":
        chosen["on_call_now"] = "true"
    everyone = await backend(request).get(person, "roster", "/v1/directory")
    shown = (
        everyone
        if not chosen
        else await backend(request).get(person, "roster", "/v1/directory", params=chosen)
    )
    options = {
        "gender": sorted({p["gender"] for p in everyone if p.get("gender")}),
        "rank": sorted({p["rank"] for p in everyone if p.get("rank")}),
        "language": sorted({lang for p in everyone for lang in p.get("languages") or []}),
        "specialty": sorted({s for p in everyone for s in p.get("specialties") or []}),
    }
    context = {
        "peers": shown,
        "options": options,
        "chosen": {
            **{k: query.get(k, "") for k in FILTERS},
            "outside": query.get("outside"),
            "on_call": query.get("on_call"),
        },
    }
    return render(request, "peers.html", context)


@router.get("/resources", include_in_schema=False)
async def resources(request: Request, person: Anyone) -> Response:
    """Everyone's list; a coordinator also adds and retires the agency's own."""
    listed = await backend(request).get(person, "roster", "/v1/resources")
    context = {"resources": listed, "types": list(ResourceType), "form": {}, "errors": {}}
    return render(request, "resources.html", context)


@router.get("/preferences", include_in_schema=False)
async def preferences(request: Request, person: Officer) -> Response:
    current = await backend(request).get(
        person, "roster", f"/v1/officers/{person.subject}/preferences"
    )
    return render(request, "preferences.html", {"prefs": current, "errors": {}})


@router.post("/preferences", include_in_schema=False)
async def save_preferences(request: Request, person: Officer) -> Response:
    form = await form_of(request)
    languages = [s.strip() for s in str(form.get("languages") or "").split(",") if s.strip()]
    body = {
        "preferred_gender": form.get("preferred_gender") or None,
        "languages": languages,
        "outside_agency": form.get("outside_agency") == "on",
        "opted_out": form.get("opted_out") == "on",
    }
    try:
        await backend(request).send(
            person, "roster", "PUT", f"/v1/officers/{person.subject}/preferences", body
        )
    except Refused as refused:
        prefs = {**body, "languages": languages}
        context = {"prefs": prefs, "errors": invalid_fields(refused)}
        return render(request, "preferences.html", context, status=422)
    return see_other("/preferences?saved=1")


@router.get("/feedback", include_in_schema=False)
async def feedback(request: Request, person: Officer) -> Response:
    return render(
        request, "feedback.html", {"errors": {}, "sent": request.query_params.get("sent")}
    )


@router.post("/feedback", include_in_schema=False)
async def send_feedback(request: Request, person: Officer) -> Response:
    """Sent without the officer's token: the rating is anonymous, tied to a code only."""
    form = await form_of(request)
    rating = str(form.get("rating") or "")
    if rating not in {"1", "2", "3", "4", "5"}:
        return _feedback_refused(request, {"rating": "choose a rating from 1 to 5"})
    body = {
        "code": str(form.get("code") or "").strip(),
        "rating": int(rating),
        "would_recommend": form.get("would_recommend") == "yes",
    }
    try:
        await backend(request).send(None, "checkins", "POST", "/v1/feedback", body)
    except Refused as refused:
        known = {404: "this code is not known", 409: "this code has been used"}
        errors = invalid_fields(refused, *known) or {"code": known[refused.status]}
        return _feedback_refused(request, errors)
    return see_other("/feedback?sent=1")


def _feedback_refused(request: Request, errors: dict) -> Response:
    return render(request, "feedback.html", {"errors": errors, "sent": None}, status=422)
