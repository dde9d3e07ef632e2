"""RFC 9457 problem+json: one error hierarchy per service, one handler that renders it."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from convene_common.logging import current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://convene.example/problems/"
# How long a client should wait before retrying while the database is unreachable.
DATABASE_RETRY_AFTER_SECONDS = 2

# The database went away or is not accepting connections yet (a crash, a restart, recovery):
# the request may be retried, so the answer is 503 with Retry-After, never a 500. A pooled
# connection that died is discarded by asyncpg; the pool reconnects on the next acquire.
DATABASE_UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,  # connection lost mid-request or refused by the server
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,  # starting up or in crash recovery
    ConnectionError,  # refused or reset at the socket
)

logger = logging.getLogger("convene.problems")


class Problem(BaseModel):
    """The documented shape of every error response."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None


class ServiceError(Exception):
    """Base of each service's error type. Carries its HTTP status and a problem slug."""

    status: int = 400
    slug: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        slug: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if slug is not None:
            self.slug = slug
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def _lost_connection(exc: BaseException) -> bool:
    """An error raised because the connection died under it: rolling back a transaction on a
    connection the server dropped raises InterfaceError("connection is closed") while the
    original ConnectionDoesNotExistError is its context."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DATABASE_UNAVAILABLE_ERRORS):
            return True
        if isinstance(current, asyncpg.InterfaceError) and "connection is closed" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def problem_response(
    *,
    status: int,
    detail: str | None,
    slug: str | None = None,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update(extra)
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=dict(headers or {})
    )


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        # The offending input is not echoed: it may carry personal data or secrets.
        errors.append({"loc": _location(error.get("loc", ())), "msg": error.get("msg", "")})
    return errors


def flat_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Every route, with included routers opened (FastAPI keeps them as one route object
    each, whose `effective_candidates()` are the routes with the router's prefix applied)."""
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)
        if callable(candidates):
            yield from flat_routes(candidates())
        else:
            yield route


def _allowed_methods(request: Request) -> list[str]:
    allowed: set[str] = set()
    for route in flat_routes(request.app.router.routes):
        match, _ = route.matches(request.scope)
        methods = getattr(route, "methods", None)
        if match in (Match.FULL, Match.PARTIAL) and methods:
            allowed |= set(methods)
    return sorted(allowed)


def install_problem_handlers(app: FastAPI) -> None:
    """Every error this app returns becomes problem+json."""

    async def on_service_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ServiceError)
        return problem_response(
            status=exc.status,
            detail=exc.detail,
            slug=exc.slug,
            instance=request.url.path,
            headers=exc.headers,
            extra=exc.extra,
        )

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = validation_errors(exc)
        summary = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors[:5])
        return problem_response(
            status=422,
            detail=f"The request is not valid: {summary}",
            slug="validation-error",
            instance=request.url.path,
            extra={"errors": errors},
        )

    async def on_http_exception(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the first route that matched the path; FastAPI makes one
            # route per method, so Allow must be gathered from all of them.
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return problem_response(
            status=exc.status_code,
            detail=str(exc.detail),
            instance=request.url.path,
            headers=headers,
        )

    async def on_untranslatable_text(request: Request, exc: Exception) -> JSONResponse:
        # PostgreSQL text cannot hold NUL (U+0000) and a few other sequences. Such input is
        # the client's error wherever it slipped past the models, never a 500.
        return problem_response(
            status=422,
            detail="The request contains characters that cannot be stored (such as U+0000).",
            slug="validation-error",
            instance=request.url.path,
            extra={"errors": []},
        )

    async def on_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, asyncpg.InterfaceError) and not _lost_connection(exc):
            return await on_unhandled(request, exc)  # a misuse of asyncpg: a bug, not an outage
        logger.warning("database unavailable", extra={"error_type": type(exc).__name__})
        return problem_response(
            status=503,
            detail="The database is unavailable; try again shortly.",
            slug="database-unavailable",
            instance=request.url.path,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )

    async def on_unhandled(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", extra={"error_type": type(exc).__name__})
        return problem_response(
            status=500,
            detail="An unexpected error occurred; it has been logged.",
            slug="internal-error",
            instance=request.url.path,
        )

    app.add_exception_handler(ServiceError, on_service_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    for untranslatable in (
        asyncpg.CharacterNotInRepertoireError,
        asyncpg.UntranslatableCharacterError,
    ):
        app.add_exception_handler(untranslatable, on_untranslatable_text)
    for unavailable in (*DATABASE_UNAVAILABLE_ERRORS, asyncpg.InterfaceError):
        app.add_exception_handler(unavailable, on_database_unavailable)
    app.add_exception_handler(Exception, on_unhandled)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Declares problem+json error responses on a route for the OpenAPI document."""
    return {
        status: {
            "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": Problem.model_json_schema()}},
            "description": HTTPStatus(status).phrase,
        }
        for status in statuses
    }
