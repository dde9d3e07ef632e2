"""/livez and /readyz for every service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

ReadinessCheck = Callable[[Request], Awaitable[dict[str, str]]]
"""Returns component -> "ok" or a short reason; any value other than "ok" means not ready."""


def health_router(
    readiness: ReadinessCheck, *, informational: frozenset[str] = frozenset()
) -> APIRouter:
    """`informational` components are reported but do not gate readiness (e.g. a downstream
    whose outage must not take this service out of its load balancer)."""
    router = APIRouter(tags=["health"])

    @router.get("/livez", summary="The process is alive")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Ready to serve: dependencies usable",
        responses={503: {"description": "Not ready"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        try:
            components = await readiness(request)
        except Exception as exc:  # a failing check means "not ready", never a 500
            components = {"check": f"failed: {type(exc).__name__}"}
        ready = all(
            value == "ok" for name, value in components.items() if name not in informational
        )
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "components": components},
            status_code=200 if ready else 503,
        )

    return router
