"""The web service app: `create_app(settings)`; `app_from_env` for uvicorn --factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from convene_common.app import create_service_app
from convene_common.logging import configure_logging
from convene_web.accounts.router import router as accounts_router
from convene_web.admin.router import router as admin_router
from convene_web.citizen.router import router as citizen_router
from convene_web.config import WebSettings
from convene_web.dependencies import get_gateway, get_session
from convene_web.errors import SignInRequired, WebError
from convene_web.forms import see_other
from convene_web.gateway import GatewayClient
from convene_web.imports.router import MAX_ANSWERS_BYTES, MAX_UPLOAD_BYTES
from convene_web.imports.router import router as imports_router
from convene_web.pages.router import router as pages_router
from convene_web.security import SecurityHeadersMiddleware
from convene_web.sessions import SCOPE_KEY, Session, SessionMiddleware, SessionStore
from convene_web.staff.router import router as staff_router
from convene_web.templating import Pages

logger = logging.getLogger("convene.web")
STATIC_DIR = Path(__file__).resolve().parent / "static"

ERROR_TEMPLATES = {
    400: "errors/400.html",
    403: "errors/403.html",
    404: "errors/404.html",
    405: "errors/404.html",
    503: "errors/503.html",
}


def create_app(
    settings: WebSettings, *, gateway_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    sessions = SessionStore(
        idle_seconds=settings.session_idle_minutes * 60, max_entries=settings.session_max_entries
    )
    pages = Pages()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway = GatewayClient(settings=settings, transport=gateway_transport)
        app.state.gateway = gateway
        try:
            yield
        finally:
            await gateway.aclose()

    async def readiness(request: Request) -> dict[str, str]:
        ready = await get_gateway(request).ready()
        return {"gateway": "ok" if ready else "unreachable"}

    app = create_service_app(
        title="Convene web",
        settings=settings,
        lifespan=lifespan,
        readiness=readiness,
        # The pages still answer (with "service unavailable") while the gateway is down.
        informational_components=frozenset({"gateway"}),
        # The import upload carries a file (the gateway enforces the real limit).
        route_body_limits={
            ("POST", "/admin/imports"): MAX_UPLOAD_BYTES + 64 * 1024,
            ("POST", "/account/answers"): MAX_ANSWERS_BYTES + 64 * 1024,
        },
    )
    app.state.sessions = sessions
    app.state.pages = pages
    app.add_middleware(SessionMiddleware, store=sessions, settings=settings)
    app.add_middleware(SecurityHeadersMiddleware)
    install_page_errors(app, pages)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(
        "/assets",
        StaticFiles(directory=settings.vendor_dir / "assets", check_dir=False),
        name="assets",
    )
    app.mount("/vendor", StaticFiles(directory=settings.vendor_dir, check_dir=False), name="vendor")
    for router in (
        pages_router,
        accounts_router,
        citizen_router,
        staff_router,
        admin_router,
        imports_router,
    ):
        app.include_router(router)
    return app


def _session(request: Request) -> Session | None:
    session = request.scope.get(SCOPE_KEY)
    return session if isinstance(session, Session) else None


def install_page_errors(app: FastAPI, pages: Pages) -> None:
    """Errors are pages here (the JSON problem handlers of the shared app are replaced)."""

    def page(request: Request, status: int, message: str = "") -> Response:
        template = ERROR_TEMPLATES.get(status, "errors/500.html")
        return pages.render(
            request,
            template,
            {"message": message},
            session=_session(request),
            status_code=status,
        )

    async def on_web_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, WebError)
        if isinstance(exc, SignInRequired):
            session = get_session(request)
            session.flash.append("Sign in to continue.")
            return see_other("/sign-in?next=" + quote(request.url.path, safe="/"))
        if exc.status >= 500:
            logger.warning("page failed downstream: %s", exc.message)
        return page(request, exc.status if exc.status in ERROR_TEMPLATES else 500)

    async def on_http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return page(request, exc.status_code if exc.status_code in ERROR_TEMPLATES else 500)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        # Only a hand-made request reaches this (a page's own forms send what it expects).
        return page(request, 400)

    async def on_unhandled(request: Request, exc: Exception) -> Response:
        logger.exception("page crashed", exc_info=exc)
        return page(request, 500)

    app.add_exception_handler(WebError, on_web_error)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unhandled)


def app_from_env() -> FastAPI:
    """Entry point for uvicorn --factory."""
    settings = WebSettings()
    configure_logging("web", settings.log_level)
    return create_app(settings)
