"""Webhook endpoints: URL validation, secrets, Standard Webhooks signatures."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import secrets
import socket
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

MAX_URL_CHARS = 2_000
RESOLVE_TIMEOUT_SECONDS = 3.0


class InvalidWebhookUrl(ValueError):
    """The reason is safe to show to the body that gave the URL."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_url_syntax(url: str, *, allow_private: bool) -> tuple[str, int]:
    """Scheme, host and port checks; returns (host, port). https only unless private allowed
    (development delivers to http://127.0.0.1)."""
    if len(url) > MAX_URL_CHARS:
        raise InvalidWebhookUrl(f"the URL is longer than {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidWebhookUrl("the URL cannot be parsed") from exc
    allowed_schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed_schemes:
        raise InvalidWebhookUrl(f"the scheme must be {' or '.join(allowed_schemes)}")
    if not parts.hostname:
        raise InvalidWebhookUrl("the URL has no host")
    if parts.username or parts.password:
        raise InvalidWebhookUrl("credentials in the URL are not allowed")
    if parts.fragment:
        raise InvalidWebhookUrl("fragments are not allowed")
    host = parts.hostname
    if not allow_private:
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            raise InvalidWebhookUrl("the host is a local name")
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None and _blocked(literal):
            raise InvalidWebhookUrl("the host is a private, loopback or reserved address")
    return host, port or (443 if parts.scheme == "https" else 80)


async def check_url(url: str, *, allow_private: bool) -> None:
    """Syntax, then every address the host resolves to (outside development)."""
    host, port = check_url_syntax(url, allow_private=allow_private)
    if allow_private:
        return
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError) as exc:
        raise InvalidWebhookUrl("the host does not resolve") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if _blocked(address):
            raise InvalidWebhookUrl("the host resolves to a private, loopback or reserved address")


def signed_request(
    *, secret: str, message_id: str, payload: dict[str, Any], now: datetime | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and Standard Webhooks headers (webhook-id, -timestamp, -signature)."""
    timestamp = (now or datetime.now(UTC)).astimezone(UTC)
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    signature = Webhook(secret).sign(message_id, timestamp, body)
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
    return body.encode(), headers
