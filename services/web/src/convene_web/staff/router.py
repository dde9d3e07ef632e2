"""Council staff pages (officers, managers): /calls, /calls/new, ... (filled on branch webstaff).

Add a page: a route here taking `session: StaffSession` (signed in as staff, or redirected to
/sign-in), calling the gateway through `gateway: GatewayDep` with `session=session`, and
rendering one template under templates/staff/ with `pages.render(...)`. See ../README.md.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["staff"], default_response_class=HTMLResponse)
