"""The machinery every typed client of another Convene service shares: bounded calls and
error mapping (used by the gateway's clients and by the matcher's profiles client).

Every call is bounded by explicit timeouts and a whole-call deadline. Connection failures are
retried a few times, but only for the methods the client treats as idempotent: a POST or
PATCH may have reached the service. Errors map to problems: the service's 4xx pass through
(``DownstreamProblemError`` with its status, detail and slug); unreachable → 503, timeout →
504 (both with Retry-After), 5xx or a malformed answer → 502. X-Request-ID travels with every
call (and X-Internal-Token when the client was made with one, see ``service_http``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from convene_common.internal_auth import INTERNAL_TOKEN_HEADER
from convene_common.logging import REQUEST_ID_HEADER, current_request_id
from convene_common.observability import trace_event_hooks
from convene_common.problems import PROBLEM_TYPE_BASE, ServiceError
from convene_common.replicas import replica_client_args
from convene_common.service_transport import BoundedTransport

logger = logging.getLogger("convene.downstream")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
ModelT = TypeVar("ModelT", bound=BaseModel)


class DownstreamError(ServiceError):
    """A service behind this one failed; this one answers for it."""

    status = 502
    slug = "bad-gateway"


class DownstreamUnavailableError(DownstreamError):
    status = 503
    slug = "downstream-unavailable"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_seconds)})


class DownstreamTimeoutError(DownstreamError):
    status = 504
    slug = "downstream-timeout"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_seconds)})


class DownstreamProblemError(ServiceError):
    """A downstream 4xx passed through with its status, detail and slug."""

    def __init__(
        self, detail: str, *, status: int, slug: str, extra: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(detail, status=status, slug=slug, extra=extra)


def service_http(
    *,
    base_url: str,
    timeout: httpx.Timeout,
    internal_token: str | None = None,
    max_connections: int = 100,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """The httpx client a ServiceClient wraps: JSON, the internal token, no redirects, the
    caller's trace context on every request. Several comma-separated URLs in ``base_url``
    spread requests over the ready replicas (convene_common.replicas).

    At most ``max_connections`` requests are in flight to each replica, each on a kept-alive
    connection; the rest wait their turn in O(1) (``BoundedTransport``: httpx's own pool
    rescans every connection and queued request on each request and response, and under a
    backlog that cost stalled the gateway)."""
    headers = {"Accept": "application/json"}
    if internal_token is not None:
        headers[INTERNAL_TOKEN_HEADER] = internal_token
    if transport is None:
        base_url, transport = replica_client_args(
            base_url, make_transport=lambda: BoundedTransport(max_connections=max_connections)
        )
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        headers=headers,
        transport=transport,
        follow_redirects=False,
        event_hooks=trace_event_hooks(),
    )


class ServiceClient:
    """Base of the typed clients; subclasses name their service and add typed methods."""

    service: str = "downstream"
    retry_methods: frozenset[str] = IDEMPOTENT_METHODS

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        retries: int,
        retry_backoff_seconds: float,
        retry_after_seconds: int,
        deadline_seconds: float,
    ) -> None:
        self._http = http
        self._deadline = deadline_seconds
        self._retries = retries
        self._backoff = retry_backoff_seconds
        self._retry_after = retry_after_seconds

    @property
    def http(self) -> httpx.AsyncClient:
        return self._http

    async def aclose(self) -> None:
        await self._http.aclose()

    def _unavailable(self) -> DownstreamUnavailableError:
        return DownstreamUnavailableError(
            f"The {self.service} service is unavailable; try again shortly.",
            retry_after_seconds=self._retry_after,
        )

    # -- transport and error mapping ---------------------------------------------------
    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
        deadline_seconds: float | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """``timeout`` and ``deadline_seconds`` replace the client's for one call (a call
        known to take longer than the rest, e.g. embedding a whole profile); ``content`` is
        a raw body (an uploaded file) instead of ``json``."""
        sent_headers: dict[str, str] = dict(headers or {})
        request_id = current_request_id()
        if request_id:
            sent_headers[REQUEST_ID_HEADER] = request_id
        attempts = 1 + (self._retries if method in self.retry_methods else 0)
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = timeout
        if content is not None:
            extra["content"] = content
        for attempt in range(1, attempts + 1):
            try:
                async with asyncio.timeout(deadline_seconds or self._deadline):
                    response = await self._http.request(
                        method,
                        path,
                        json=json,
                        params=dict(params) if params is not None else None,
                        headers=sent_headers,
                        **extra,
                    )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached the service: safe to try again for idempotent methods.
                if attempt < attempts:
                    await asyncio.sleep(self._backoff * attempt)
                    continue
                logger.warning(
                    "downstream unreachable",
                    extra={"downstream": self.service, "error_type": type(exc).__name__},
                )
                raise self._unavailable() from exc
            except (httpx.TimeoutException, TimeoutError) as exc:
                logger.warning(
                    "downstream timeout",
                    extra={"downstream": self.service, "error_type": type(exc).__name__},
                )
                raise DownstreamTimeoutError(
                    f"The {self.service} service did not answer in time; try again shortly.",
                    retry_after_seconds=self._retry_after,
                ) from exc
            except httpx.TransportError as exc:
                logger.warning(
                    "downstream transport error",
                    extra={"downstream": self.service, "error_type": type(exc).__name__},
                )
                raise self._unavailable() from exc
            self._raise_for_status(response)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _raise_for_status(self, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        if status in (503, 504):
            logger.warning("downstream %s", status, extra={"downstream": self.service})
            raise self._unavailable()
        if status >= 500 or status in (401, 403, 407):
            # 401/403 from a service mean the caller itself is misconfigured (internal token).
            logger.error("downstream error", extra={"downstream": self.service, "status": status})
            raise DownstreamError(f"The {self.service} service failed to answer this request.")
        detail, slug, problem_extra = problem_parts(response, service=self.service)
        raise DownstreamProblemError(detail, status=status, slug=slug, extra=problem_extra)

    def _parse(self, model: type[ModelT], response: httpx.Response) -> ModelT:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            logger.error(
                "downstream answer malformed",
                extra={"downstream": self.service, "model": model.__name__},
            )
            raise DownstreamError(f"The {self.service} service gave an unexpected answer.") from exc

    async def _get(self, model: type[ModelT], path: str, **kwargs: Any) -> ModelT:
        return self._parse(model, await self._send("GET", path, **kwargs))

    async def _post(self, model: type[ModelT], path: str, body: Any, **kwargs: Any) -> ModelT:
        return self._parse(model, await self._send("POST", path, json=body, **kwargs))

    async def _delete(self, path: str) -> None:
        await self._send("DELETE", path)

    # -- health ------------------------------------------------------------------------
    async def ping(self) -> str:
        try:
            async with asyncio.timeout(2.0):
                response = await self._http.get("/livez", timeout=httpx.Timeout(1.0))
        except (httpx.HTTPError, TimeoutError) as exc:
            return f"unreachable: {type(exc).__name__}"
        return "ok" if response.status_code == 200 else f"status {response.status_code}"


def problem_parts(response: httpx.Response, *, service: str) -> tuple[str, str, dict[str, Any]]:
    """detail, slug and validation errors of a downstream problem, with safe fallbacks."""
    detail = f"The {service} service refused the request ({response.status_code})."
    slug = "downstream-rejected"
    extra: dict[str, Any] = {}
    try:
        body = response.json()
    except ValueError:
        return detail, slug, extra
    if isinstance(body, dict):
        if isinstance(body.get("detail"), str):
            detail = body["detail"]
        problem_type = body.get("type")
        if isinstance(problem_type, str) and problem_type.startswith(PROBLEM_TYPE_BASE):
            slug = problem_type.removeprefix(PROBLEM_TYPE_BASE)
        if isinstance(body.get("errors"), list):
            extra["errors"] = body["errors"]
    return detail, slug, extra
