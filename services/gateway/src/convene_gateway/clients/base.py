"""The gateway's side of the shared ServiceClient (convene_common.service_client): the
timeouts and connection limits its settings give every downstream client."""

from __future__ import annotations

import httpx

from convene_common.service_client import (
    IDEMPOTENT_METHODS,
    ModelT,
    ServiceClient,
    problem_parts,
    service_http,
)
from convene_gateway.config import GatewaySettings

__all__ = [
    "IDEMPOTENT_METHODS",
    "ModelT",
    "ServiceClient",
    "downstream_http",
    "downstream_timeout",
    "problem_parts",
]


def downstream_timeout(settings: GatewaySettings, *, read: float | None = None) -> httpx.Timeout:
    return httpx.Timeout(
        connect=settings.downstream_connect_timeout_seconds,
        read=read or settings.downstream_read_timeout_seconds,
        write=settings.downstream_write_timeout_seconds,
        pool=settings.downstream_pool_timeout_seconds,
    )


def downstream_http(
    settings: GatewaySettings,
    *,
    base_url: str,
    timeout: httpx.Timeout,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    token = settings.internal_token
    return service_http(
        base_url=base_url,
        timeout=timeout,
        internal_token=token.get_secret_value() if token is not None else None,
        max_connections=settings.downstream_max_connections,
        transport=transport,
    )
