"""ReplicaTransport: requests go round-robin to ready replicas only; a replica whose /readyz
is not 200 (a matcher catching up on the feed) is skipped; a refused connection fails over.
The replicas are httpx.MockTransport (the network edge); the end-to-end case with two real
matcher processes is tests/ops/test_replicas.py."""

from __future__ import annotations

import httpx

from convene_common.replicas import REPLICAS_HOST, ReplicaTransport, replica_client_args
from convene_common.service_transport import BoundedTransport


def replica(name: str, *, ready: bool = True, refuse: bool = False) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if refuse:
            raise httpx.ConnectError("refused", request=request)
        if request.url.path == "/readyz":
            return httpx.Response(200 if ready else 503, json={"status": "..."})
        return httpx.Response(200, json={"replica": name, "host": request.headers["host"]})

    return httpx.MockTransport(handle)


async def served_by(transport: ReplicaTransport, count: int) -> list[str]:
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{REPLICAS_HOST}") as c:
        return [(await c.get("/v1/thing")).json()["replica"] for _ in range(count)]


async def test_round_robin_over_ready_replicas() -> None:
    transport = ReplicaTransport(
        ["http://a:8002", "http://b:8002"], transports=[replica("a"), replica("b")]
    )
    assert await transport.check_all() == [True, True]
    assert await served_by(transport, 4) == ["a", "b", "a", "b"]
    await transport.aclose()


async def test_a_replica_that_is_not_ready_is_skipped_until_it_is() -> None:
    catching_up = replica("a", ready=False)
    transport = ReplicaTransport(
        ["http://a:8002", "http://b:8002"], transports=[catching_up, replica("b")]
    )
    assert await transport.check_all() == [False, True]
    assert await served_by(transport, 5) == ["b"] * 5
    transport._transports[0] = replica("a", ready=True)
    assert await transport.check_all() == [True, True]
    assert sorted(await served_by(transport, 4)) == ["a", "a", "b", "b"]
    await transport.aclose()


async def test_a_refused_connection_fails_over_and_marks_the_replica() -> None:
    transport = ReplicaTransport(
        ["http://a:8002", "http://b:8002"], transports=[replica("a", refuse=True), replica("b")]
    )
    assert await served_by(transport, 3) == ["b"] * 3
    assert transport.ready == [False, True]
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{REPLICAS_HOST}") as c:
        assert (await c.get("/x")).json()["host"] == "b:8002"
    await transport.aclose()


async def test_when_no_replica_is_ready_each_is_still_tried() -> None:
    transport = ReplicaTransport(
        ["http://a:8002", "http://b:8002"],
        transports=[replica("a", ready=False), replica("b", ready=False)],
    )
    assert await transport.check_all() == [False, False]
    assert sorted(await served_by(transport, 2)) == ["a", "b"]
    await transport.aclose()


def test_one_url_gets_one_transport_and_several_get_the_replica_transport() -> None:
    made: list[BoundedTransport] = []

    def make() -> BoundedTransport:
        made.append(BoundedTransport(max_connections=4))
        return made[-1]

    base_url, transport = replica_client_args("http://m:8002/", make_transport=make)
    assert (base_url, transport) == ("http://m:8002", made[0])
    base_url, transport = replica_client_args("http://m1:8002, http://m2:8002", make_transport=make)
    assert base_url == f"http://{REPLICAS_HOST}"
    assert isinstance(transport, ReplicaTransport)
    assert [str(url) for url in transport.urls] == ["http://m1:8002", "http://m2:8002"]
    # One bounded transport per replica: each replica gets its own connection bound.
    assert len(made) == 3
