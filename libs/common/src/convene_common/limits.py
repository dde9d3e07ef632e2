"""Request body size limit, enforced before the body reaches a parser.

One limit for every route (``max_bytes``), and optional limits of their own for named routes
(``route_limits``: ``{("POST", "/v1/admin/affinity"): 1_048_576}``), e.g. a route whose
documented contract carries a larger body than the rest of the API.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from convene_common.logging import ASGIApp, Message, Receive, Scope, Send, current_request_id
from convene_common.problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE

logger = logging.getLogger("convene.limits")

RouteLimits = Mapping[tuple[str, str], int]


class BodySizeLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_bytes: int, route_limits: RouteLimits | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.route_limits = {
            (method.upper(), path): limit for (method, path), limit in (route_limits or {}).items()
        }

    def limit_for(self, scope: Scope) -> int:
        key = (str(scope.get("method", "")).upper(), str(scope.get("path", "")))
        return self.route_limits.get(key, self.max_bytes)

    async def _reject(self, send: Send, *, limit: int) -> None:
        body: dict[str, object] = {
            "type": PROBLEM_TYPE_BASE + "payload-too-large",
            "title": "Content Too Large",
            "status": 413,
            "detail": f"The request body is larger than {limit} bytes.",
        }
        request_id = current_request_id()
        if request_id:
            body["request_id"] = request_id
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = limit + 1
                if declared > limit:
                    await self._reject(send, limit=limit)
                    return
        received = 0
        rejected = False
        response_started = False

        async def limited_receive() -> Message:
            # Chunked bodies carry no Content-Length: count as they arrive. Past the limit the
            # 413 goes out at once and the app is told the client left: raising here instead
            # would reach FastAPI's body parser, which answers any read error with a 400.
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    rejected = True
                    if not response_started:
                        await self._reject(send, limit=limit)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if rejected:
                return  # the 413 is the answer; whatever the app says after it is dropped
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:
            if not rejected:
                raise
            # The app failed on the body cut short at the limit; the client has its 413.
            logger.info("request body over the limit", extra={"limit": limit})
