"""Signing in and out.

With an identity provider configured, "Sign in" goes to it (OpenID Connect, code with
PKCE) and comes back to `/signin/callback`. On a stack on this machine only
(`PEERLINE_PORTAL_LOCAL_SIGNIN`, and the portal listening on loopback), the page also
offers a clearly marked local sign-in: pick one of the people `peerline demo` wrote,
or name an agency, role and id. A region never has it.
"""

from __future__ import annotations

import json
from ipaddress import ip_address

from fastapi import APIRouter, Request
from fastapi.responses import Response

from shared.ids import AGENCY_ID_PATTERN
from shared.settings import Settings
from shared.tokens import Role

from ..domain import PORTAL_ROLES, NotAPortalUser, Person, home_of, safe_next
from ..oidc import SignInFailed
from ..sessions import COOKIE, Session
from ..web import NotYours, current_session, form_of, render, see_other, store

router = APIRouter()

PEOPLE_FILE = "demo-people.json"


def local_signin_allowed(settings: Settings) -> bool:
    """Only where asked for and only on loopback: never reachable from another machine."""
    if not settings.portal_local_signin:
        return False
    if settings.host == "localhost":
        return True
    try:
        return ip_address(settings.host).is_loopback
    except ValueError:
        return False


def demo_people(settings: Settings) -> list[dict]:
    """The people `peerline demo` wrote for the local sign-in, if it ran."""
    try:
        people = json.loads((settings.data_dir / PEOPLE_FILE).read_text())
    except (OSError, ValueError):
        return []
    return [
        p
        for p in people
        if isinstance(p, dict) and {"label", "agency", "role", "subject"} <= p.keys()
    ]


def _with_cookie(response: Response, request: Request, session_id: str) -> Response:
    response.set_cookie(
        COOKIE,
        session_id,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.portal_secure_cookies,
        path="/",
    )
    return response


async def _ensure_session(request: Request) -> tuple[Session, str | None]:
    """The browser's session, or a new anonymous one (and its cookie value)."""
    session = await current_session(request)
    if session is not None:
        return session, None
    session_id, session = await store(request).start()
    request.state.session = session
    return session, session_id


@router.get("/signin", include_in_schema=False)
async def signin_page(request: Request, next: str | None = None) -> Response:
    settings = request.app.state.settings
    session, new_id = await _ensure_session(request)
    if session.person is not None:
        return see_other(safe_next(next, home_of(session.person.role)))
    context = {
        "next": safe_next(next, ""),
        "oidc": request.app.state.oidc is not None,
        "local": local_signin_allowed(settings),
        "people": demo_people(settings) if local_signin_allowed(settings) else [],
        "roles": [r.value for r in PORTAL_ROLES],
    }
    response = render(request, "signin.html", context)
    return _with_cookie(response, request, new_id) if new_id else response


@router.get("/signin/oidc", include_in_schema=False)
async def signin_oidc(request: Request, next: str | None = None) -> Response:
    oidc = request.app.state.oidc
    if oidc is None:
        return see_other("/signin")
    session, new_id = await _ensure_session(request)
    url, pending = await oidc.begin(str(request.url_for("signin_callback")))
    await store(request).set_pending(session, {**pending, "next": safe_next(next, "")})
    response = see_other(url)
    return _with_cookie(response, request, new_id) if new_id else response


@router.get("/signin/callback", name="signin_callback", include_in_schema=False)
async def signin_callback(request: Request) -> Response:
    oidc = request.app.state.oidc
    session = await current_session(request)
    if oidc is None or session is None or not session.pending:
        return render(request, "signin_failed.html", {"reason": "this sign-in has expired"}, 400)
    pending = session.pending
    try:
        person = await oidc.finish(
            str(request.url_for("signin_callback")), pending, dict(request.query_params)
        )
    except (SignInFailed, NotAPortalUser) as exc:
        await store(request).set_pending(session, None)
        return render(request, "signin_failed.html", {"reason": str(exc)}, 403)
    return await _signed_in(request, session, person, pending.get("next"))


@router.post("/signin/local", include_in_schema=False)
async def signin_local(request: Request) -> Response:
    settings = request.app.state.settings
    if not local_signin_allowed(settings):
        raise NotYours
    form = await form_of(request)
    person = _local_person(form, demo_people(settings))
    if person is None:
        context = {"reason": "choose a person, or give an agency id, a role and an id"}
        return render(request, "signin_failed.html", context, 422)
    return await _signed_in(request, await current_session(request), person, form.get("next"))


def _local_person(form: dict, people: list[dict]) -> Person | None:
    chosen = form.get("person")
    if chosen is not None:
        match = [p for p in people if f"{p['agency']}/{p['role']}/{p['subject']}" == chosen]
        if not match:
            return None
        p = match[0]
        return Person(
            agency=p["agency"], role=Role(p["role"]), subject=p["subject"], name=p.get("name")
        )
    agency, role, subject = (str(form.get(k) or "").strip() for k in ("agency", "role", "subject"))
    if not AGENCY_ID_PATTERN.fullmatch(agency) or role not in {r.value for r in PORTAL_ROLES}:
        return None
    if not subject or len(subject) > 128 or any(c.isspace() for c in subject):
        return None
    return Person(agency=agency, role=Role(role), subject=subject)


async def _signed_in(
    request: Request, previous: Session | None, person: Person, next_page: str | None
) -> Response:
    session_id, session = await store(request).sign_in(previous, person)
    request.state.session = session
    response = see_other(safe_next(next_page, home_of(person.role)))
    return _with_cookie(response, request, session_id)


@router.post("/signout", include_in_schema=False)
async def signout(request: Request) -> Response:
    await form_of(request)
    session = await current_session(request)
    if session is not None:
        await store(request).end(session)
    response = see_other("/signin")
    response.delete_cookie(COOKIE, path="/")
    return response
