"""Admin pages: /admin/configs, /admin/exposure, ... (filled on branch webstaff).

Add a page: a route here taking `session: AdminSession`; see staff/router.py and ../README.md.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(prefix="/admin", tags=["admin"], default_response_class=HTMLResponse)
