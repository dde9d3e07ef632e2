"""Several replicas of one downstream service behind one httpx client.

``ReplicaTransport`` takes the replicas' base URLs (a comma-separated setting such as
``CONVENE_GATEWAY_MATCHER_URL=http://m1:8002,http://m2:8002``) and sends each request to the
next *ready* replica in turn. Readiness comes from polling each replica's ``/readyz`` in the
background (a matcher catching up on the change feed answers 503 there, so it is skipped
until it is ready). A replica refusing the connection is marked not ready at once and the
request goes to the next one: nothing reached it, so this is safe for every method. Errors
after the request was sent are not retried here; the caller's rules (idempotent methods,
Idempotency-Key) decide.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

import httpx

logger = logging.getLogger("convene.replicas")

REPLICAS_HOST = "replicas.invalid"
"""The base URL's host for a client over several replicas; the transport replaces it."""


def split_urls(value: str) -> list[str]:
    urls = [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
    if not urls:
        raise ValueError("no service URL given")
    return urls


class ReplicaTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        urls: Sequence[str],
        *,
        limits: httpx.Limits | None = None,
        check_interval_seconds: float = 1.0,
        check_timeout_seconds: float = 1.0,
        transports: Sequence[httpx.AsyncBaseTransport] | None = None,
    ) -> None:
        self.urls = [httpx.URL(url) for url in urls]
        self._transports = list(transports or []) or [
            httpx.AsyncHTTPTransport(limits=limits or httpx.Limits()) for _ in self.urls
        ]
        if len(self._transports) != len(self.urls):
            raise ValueError("one transport per replica")
        # Optimistic until the first check: a replica that is down is found on first use.
        self.ready = [True] * len(self.urls)
        self._next = 0
        self._interval = check_interval_seconds
        self._check_timeout = check_timeout_seconds
        self._checker: asyncio.Task[None] | None = None

    # -- readiness -----------------------------------------------------------------------
    async def _check(self, index: int) -> bool:
        url = self.urls[index].join("/readyz")
        request = httpx.Request("GET", url, headers={"Accept": "application/json"})
        try:
            async with asyncio.timeout(self._check_timeout):
                response = await self._transports[index].handle_async_request(request)
                await response.aread()
                await response.aclose()
        except (httpx.HTTPError, TimeoutError, OSError):
            return False
        return response.status_code == 200

    async def check_all(self) -> list[bool]:
        results = await asyncio.gather(*(self._check(i) for i in range(len(self.urls))))
        for index, ready in enumerate(results):
            if ready != self.ready[index]:
                logger.info(
                    "replica readiness changed",
                    extra={"replica": str(self.urls[index]), "ready": ready},
                )
            self.ready[index] = ready
        return list(results)

    async def _check_forever(self) -> None:
        while True:
            await self.check_all()
            await asyncio.sleep(self._interval)

    def _ensure_checker(self) -> None:
        if self._checker is None or self._checker.done():
            self._checker = asyncio.get_running_loop().create_task(
                self._check_forever(), name="replica-readiness"
            )

    def _order(self) -> list[int]:
        """Ready replicas first, round-robin; the others after them as a last resort."""
        count = len(self.urls)
        start = self._next
        self._next = (self._next + 1) % count
        rotation = [(start + offset) % count for offset in range(count)]
        return [i for i in rotation if self.ready[i]] + [i for i in rotation if not self.ready[i]]

    # -- sending -------------------------------------------------------------------------
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if len(self.urls) > 1:
            self._ensure_checker()
        last_error: httpx.TransportError | None = None
        for index in self._order():
            base = self.urls[index]
            request.url = request.url.copy_with(scheme=base.scheme, host=base.host, port=base.port)
            request.headers["Host"] = base.netloc.decode("ascii")
            try:
                return await self._transports[index].handle_async_request(request)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached this replica: mark it and try the next one.
                self.ready[index] = False
                last_error = exc
                logger.warning(
                    "replica unreachable",
                    extra={"replica": str(base), "error_type": type(exc).__name__},
                )
        assert last_error is not None
        raise last_error

    async def aclose(self) -> None:
        if self._checker is not None:
            self._checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checker
        for transport in self._transports:
            await transport.aclose()


def replica_client_args(
    url_setting: str, *, make_transport: Callable[[], httpx.AsyncBaseTransport]
) -> tuple[str, httpx.AsyncBaseTransport]:
    """(base_url, transport) for a client of the service at ``url_setting``: one URL gets
    one ``make_transport()``; several get a ``ReplicaTransport`` over one each."""
    urls = split_urls(url_setting)
    if len(urls) == 1:
        return urls[0], make_transport()
    transports = [make_transport() for _ in urls]
    return f"http://{REPLICAS_HOST}", ReplicaTransport(urls, transports=transports)
