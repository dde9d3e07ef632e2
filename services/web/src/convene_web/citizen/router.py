"""Citizens' pages: profile task list, what we use to match you, invitations, your data."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from convene_web.dependencies import CitizenSession, GatewayDep, PagesDep

router = APIRouter(tags=["citizen"], default_response_class=HTMLResponse)


@router.get("/profile")
async def profile(
    request: Request, pages: PagesDep, session: CitizenSession, gateway: GatewayDep
) -> HTMLResponse:
    me = await gateway.json("GET", "/v1/me", session=session)
    return pages.render(request, "citizen/profile.html", {"me": me}, session=session)
