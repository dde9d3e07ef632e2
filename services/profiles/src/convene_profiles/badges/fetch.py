"""Fetching badge documents: allow-listed hosts only, no redirects, a timeout, a size cap."""

from __future__ import annotations

import json
from typing import Any

import httpx


class FetchError(Exception):
    """The document could not be fetched; the message is safe to show to the citizen."""


async def fetch_json(
    client: httpx.AsyncClient, url: str, *, allowed_hosts: list[str], max_bytes: int
) -> Any:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise FetchError(f"{url!r} is not a URL") from exc
    if parsed.scheme not in ("http", "https"):
        raise FetchError(f"{url!r} is not an http(s) URL")
    if parsed.host.lower() not in {host.lower() for host in allowed_hosts}:
        raise FetchError(f"host {parsed.host!r} is not on the badge fetch allow-list")
    chunks: list[bytes] = []
    received = 0
    try:
        async with client.stream("GET", parsed) as response:
            if response.status_code != 200:
                raise FetchError(f"{url} answered HTTP {response.status_code}")
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                if received > max_bytes:
                    raise FetchError(f"{url} is larger than {max_bytes} bytes")
                chunks.append(chunk)
    except httpx.TimeoutException as exc:
        raise FetchError(f"{url} timed out") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"{url} could not be fetched ({type(exc).__name__})") from exc
    try:
        return json.loads(b"".join(chunks))
    except ValueError as exc:
        raise FetchError(f"{url} did not return JSON") from exc
