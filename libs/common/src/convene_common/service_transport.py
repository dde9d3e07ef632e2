"""A lean HTTP/1.1 transport for the calls between Convene's services: O(1) work per request.

Why not httpx's default transport: httpcore's ``AsyncConnectionPool`` runs
``_assign_requests_to_connections`` whenever a request arrives or a response is closed, and
that pass walks every connection (probing each idle one's socket with a ``select`` through
anyio's attribute machinery, and counting idle connections once per connection) and then,
for each queued request, the whole connection list again: O(connections x queued) per
event. Under a backlog the gateway's cost per request grows with the backlog, so a short
CPU squeeze (a neighbour's burst on a 2-core machine) turns into a stall that feeds itself:
in bench/load.py stall dumps the gateway was busy in that pass while the services behind it
were idle, and a py-spy profile of a collapsed run put 25% of the gateway's samples in it
(bench/downstream_pool.py measures the pass against this transport).

``BoundedTransport`` keeps httpcore's HTTP/1.1 connection (h11, timeouts, keep-alive
expiry) and replaces only the pool: a semaphore bounds the requests in flight to
``max_connections`` (a request waits there, in O(1), never in a queue that is scanned), and
idle connections wait on a LIFO stack per origin, so a request takes the most recently used
one and only that one is checked for expiry. Connections beyond what the traffic needs are
never opened, and those left idle expire after ``keepalive_expiry`` (below uvicorn's 5 s
keep-alive timeout, so the server rarely closes a connection just as it is reused).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable, Iterator

import httpcore
import httpx

# Most specific first: the first match wins.
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)

# uvicorn closes a connection idle for 5 s (--timeout-keep-alive): drop ours before that.
DEFAULT_KEEPALIVE_EXPIRY = 4.0


@contextlib.contextmanager
def _httpx_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except httpcore.ConnectionNotAvailable:
        raise
    except Exception as exc:
        for core_error, httpx_error in _ERRORS:
            if isinstance(exc, core_error):
                raise httpx_error(str(exc), request=request) from exc
        raise


Origin = tuple[bytes, bytes, int]
_Release = Callable[[], None]


class BoundedTransport(httpx.AsyncBaseTransport):
    """At most ``max_connections`` requests in flight, each on its own kept-alive HTTP/1.1
    connection; the others wait (up to the request's ``pool`` timeout, then
    ``httpx.PoolTimeout``)."""

    def __init__(
        self,
        *,
        max_connections: int,
        keepalive_expiry: float = DEFAULT_KEEPALIVE_EXPIRY,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._ssl_context = ssl_context
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: dict[Origin, list[httpcore.AsyncHTTPConnection]] = {}
        self._in_use: set[httpcore.AsyncHTTPConnection] = set()
        self._closed = False

    # -- figures (tests, benchmarks) ----------------------------------------------------
    @property
    def in_flight(self) -> int:
        return len(self._in_use)

    @property
    def idle_connections(self) -> int:
        return sum(len(stack) for stack in self._idle.values())

    # -- connections -------------------------------------------------------------------
    def _take(self, origin: Origin) -> httpcore.AsyncHTTPConnection:
        """The most recently used idle connection that is still good, else a new one."""
        stack = self._idle.get(origin)
        while stack:
            connection = stack.pop()
            # has_expired: keep-alive expiry passed, or the server closed it while idle.
            if connection.is_idle() and not connection.has_expired():
                return connection
            self._discard(connection)
        scheme, host, port = origin
        context = self._ssl_context
        if scheme == b"https" and context is None:
            context = self._ssl_context = ssl.create_default_context()
        return httpcore.AsyncHTTPConnection(
            httpcore.Origin(scheme, host, port),
            ssl_context=context,
            keepalive_expiry=self._keepalive_expiry,
        )

    def _discard(self, connection: httpcore.AsyncHTTPConnection) -> None:
        # Closing an HTTP/1.1 connection only closes its socket: no I/O to wait for. It runs
        # as a task so a response's aclose (which may run while cancelled) never awaits it.
        task = asyncio.get_running_loop().create_task(connection.aclose())
        task.add_done_callback(_ignore_result)

    def _give_back(self, origin: Origin, connection: httpcore.AsyncHTTPConnection) -> None:
        self._in_use.discard(connection)
        self._slots.release()
        if not self._closed and connection.is_idle() and not connection.is_closed():
            self._idle.setdefault(origin, []).append(connection)
        elif not connection.is_closed():
            self._discard(connection)

    # -- httpx.AsyncBaseTransport ------------------------------------------------------
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the transport is closed")
        url = request.url
        if url.raw_scheme not in (b"http", b"https"):
            raise httpx.UnsupportedProtocol(f"unsupported scheme {url.scheme!r}", request=request)
        origin: Origin = (url.raw_scheme, url.raw_host, url.port or _default_port(url))
        timeouts = request.extensions.get("timeout", {})
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise httpx.PoolTimeout(
                "no connection became free within the pool timeout", request=request
            ) from exc
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=origin[0], host=origin[1], port=origin[2], target=url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        connection: httpcore.AsyncHTTPConnection | None = None
        try:
            for attempt in range(2):
                connection = self._take(origin)
                self._in_use.add(connection)
                try:
                    with _httpx_errors(request):
                        response = await connection.handle_async_request(core_request)
                    break
                except httpcore.ConnectionNotAvailable:
                    # Closed between the check and the send (nothing was sent): a new one.
                    self._in_use.discard(connection)
                    self._discard(connection)
                    connection = None
                    if attempt == 1:
                        raise httpx.ConnectError("no usable connection", request=request) from None
        except BaseException:
            if connection is not None:
                self._in_use.discard(connection)
                if not connection.is_closed():
                    self._discard(connection)
            self._slots.release()
            raise
        assert connection is not None
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response, request, lambda: self._give_back(origin, connection)),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        self._closed = True
        connections = [c for stack in self._idle.values() for c in stack] + list(self._in_use)
        self._idle.clear()
        for connection in connections:
            await connection.aclose()


class _ResponseStream(httpx.AsyncByteStream):
    """The body; closing it hands the connection back (once), whatever happened."""

    def __init__(
        self, response: httpcore.Response, request: httpx.Request, release: _Release
    ) -> None:
        self._response = response
        self._request = request
        self._release: _Release | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors(self._request):
            async for part in self._response.aiter_stream():
                yield part

    async def aclose(self) -> None:
        try:
            with _httpx_errors(self._request):
                await self._response.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


def _default_port(url: httpx.URL) -> int:
    return 443 if url.raw_scheme == b"https" else 80


def _ignore_result(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()
