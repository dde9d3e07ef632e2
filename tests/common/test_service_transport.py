"""BoundedTransport (the services' HTTP client transport) against a real uvicorn server on
loopback: the bound on requests in flight and connections, pool timeouts, error mapping,
connections the server closed while idle, request and response bodies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn

from convene_common.embedded_pg import free_port
from convene_common.service_client import service_http
from convene_common.service_transport import BoundedTransport


@dataclass
class Downstream:
    """A stand-in downstream service that records concurrency and client connections."""

    url: str = ""
    in_flight: int = 0
    most_in_flight: int = 0
    client_ports: set[int] = field(default_factory=set)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.client_ports.add(scope["client"][1])
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            path = scope["path"]
            if path.startswith("/sleep/"):
                await asyncio.sleep(float(path.removeprefix("/sleep/")))
            answer = json.dumps({"path": path, "echo": body.decode()}).encode()
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": answer})
        finally:
            self.in_flight -= 1


async def serve(app: Downstream, *, keep_alive_seconds: int = 5) -> AsyncIterator[Downstream]:
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=keep_alive_seconds,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    app.url = f"http://127.0.0.1:{port}"
    try:
        yield app
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


@pytest.fixture
async def downstream() -> AsyncIterator[Downstream]:
    async for app in serve(Downstream()):
        yield app


async def test_bounds_requests_in_flight_and_connections(downstream: Downstream) -> None:
    transport = BoundedTransport(max_connections=8)
    async with httpx.AsyncClient(base_url=downstream.url, transport=transport) as client:
        responses = await asyncio.gather(*(client.get("/sleep/0.005") for _ in range(300)))
        assert [r.status_code for r in responses] == [200] * 300
        assert downstream.most_in_flight <= 8
        # Every request ran on one of at most 8 kept-alive connections.
        assert len(downstream.client_ports) <= 8
        assert transport.in_flight == 0
        assert 1 <= transport.idle_connections <= 8
        # Sequential requests reuse the most recently used connection: no new one.
        ports_before = set(downstream.client_ports)
        for _ in range(20):
            assert (await client.get("/x")).status_code == 200
        assert downstream.client_ports == ports_before


async def test_a_request_waits_for_a_slot_up_to_the_pool_timeout(downstream: Downstream) -> None:
    transport = BoundedTransport(max_connections=1)
    async with httpx.AsyncClient(base_url=downstream.url, transport=transport) as client:
        slow = asyncio.create_task(client.get("/sleep/0.5"))
        await asyncio.sleep(0.1)
        with pytest.raises(httpx.PoolTimeout):
            await client.get("/x", timeout=httpx.Timeout(5.0, pool=0.05))
        # With a longer pool timeout it waits its turn and is served.
        waited = await client.get("/x", timeout=httpx.Timeout(5.0, pool=2.0))
        assert waited.status_code == 200
        assert (await slow).status_code == 200
        assert transport.in_flight == 0


async def test_a_read_timeout_is_httpx_read_timeout_and_frees_the_slot(
    downstream: Downstream,
) -> None:
    transport = BoundedTransport(max_connections=1)
    async with httpx.AsyncClient(base_url=downstream.url, transport=transport) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/sleep/1", timeout=httpx.Timeout(5.0, read=0.05))
        # The timed-out connection is not reused; the one slot is free again.
        assert transport.in_flight == 0
        assert transport.idle_connections == 0
        assert (await client.get("/x", timeout=httpx.Timeout(1.0))).status_code == 200


async def test_a_connection_the_server_closed_while_idle_is_replaced() -> None:
    async for downstream in serve(Downstream(), keep_alive_seconds=1):
        # Kept longer than the server keeps it: the server closes it first.
        transport = BoundedTransport(max_connections=2, keepalive_expiry=30)
        async with httpx.AsyncClient(base_url=downstream.url, transport=transport) as client:
            assert (await client.get("/x")).status_code == 200
            await asyncio.sleep(1.6)
            assert (await client.get("/x")).status_code == 200
            assert len(downstream.client_ports) == 2


async def test_an_unreachable_service_is_a_connect_error() -> None:
    transport = BoundedTransport(max_connections=2)
    url = f"http://127.0.0.1:{free_port()}"
    async with httpx.AsyncClient(base_url=url, transport=transport) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/x")
        assert transport.in_flight == 0


async def test_service_http_sends_bodies_and_streams_answers(downstream: Downstream) -> None:
    client = service_http(
        base_url=downstream.url, timeout=httpx.Timeout(5.0), internal_token="t", max_connections=4
    )
    assert isinstance(client._transport, BoundedTransport)
    async with client:
        posted = await client.post("/things", json={"name": "café"})
        assert json.loads(posted.json()["echo"]) == {"name": "café"}
        async with client.stream("GET", "/streamed") as streamed:
            chunks = [chunk async for chunk in streamed.aiter_bytes()]
        assert json.loads(b"".join(chunks))["path"] == "/streamed"
