"""Pages for everyone: the way in, the crisis lines, and what Peerline records."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from ..domain import home_of
from ..web import current_session, render, see_other

router = APIRouter()


@router.get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    session = await current_session(request)
    if session is None or session.person is None:
        return see_other("/signin")
    return see_other(home_of(session.person.role))


@router.get("/crisis", include_in_schema=False)
async def crisis(request: Request) -> Response:
    """Open to anyone, signed in or not, and never recorded."""
    await current_session(request)
    return render(request, "crisis.html", {"lines": request.app.state.crisis_lines})


@router.get("/privacy", include_in_schema=False)
async def privacy(request: Request) -> Response:
    await current_session(request)
    return render(request, "privacy.html")


@router.get("/manifest.webmanifest", include_in_schema=False)
async def manifest(request: Request) -> Response:
    return FileResponse(
        request.app.state.static_dir / "manifest.webmanifest",
        media_type="application/manifest+json",
    )
