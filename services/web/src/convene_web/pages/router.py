"""Pages for everyone: start, privacy notice, accessibility statement, cookies."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from convene_web.dependencies import PagesDep, SessionDep

router = APIRouter(tags=["pages"], default_response_class=HTMLResponse)


@router.get("/")
async def start(request: Request, pages: PagesDep, session: SessionDep) -> HTMLResponse:
    return pages.render(request, "pages/start.html", session=session)


@router.get("/privacy")
async def privacy(request: Request, pages: PagesDep, session: SessionDep) -> HTMLResponse:
    return pages.render(request, "pages/privacy.html", session=session)


@router.get("/accessibility")
async def accessibility(request: Request, pages: PagesDep, session: SessionDep) -> HTMLResponse:
    return pages.render(request, "pages/accessibility.html", session=session)


@router.get("/cookies")
async def cookies(request: Request, pages: PagesDep, session: SessionDep) -> HTMLResponse:
    return pages.render(request, "pages/cookies.html", session=session)
