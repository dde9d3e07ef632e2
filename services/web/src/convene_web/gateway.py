"""A typed client for the gateway's public API: the only service the pages talk to.

Every call has a connect/read timeout and a whole-call deadline; a gateway that is down,
slow or broken (connection errors, 5xx) becomes GatewayUnavailable (the "service
unavailable" page), and a 4xx problem+json answer becomes GatewayProblem for the page to show.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from convene_web.config import WebSettings
from convene_web.errors import GatewayProblem, GatewayUnavailable, SignInRequired
from convene_web.sessions import Session

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    refresh_token: str | None
    expires_in: int
    scopes: tuple[str, ...]

    @classmethod
    def from_json(cls, body: JsonObject) -> IssuedToken:
        refresh = body.get("refresh_token")
        return cls(
            access_token=str(body["access_token"]),
            refresh_token=str(refresh) if refresh else None,
            expires_in=int(body.get("expires_in", 900)),
            scopes=tuple(str(body.get("scope", "")).split()),
        )


def _problem(response: httpx.Response) -> GatewayProblem:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    type_uri = str(body.get("type", ""))
    return GatewayProblem(
        status=response.status_code,
        title=str(body.get("title") or response.reason_phrase),
        detail=str(body["detail"]) if body.get("detail") else None,
        slug=type_uri.rsplit("/", 1)[-1] if "/" in type_uri else None,
        errors=[e for e in body.get("errors", []) if isinstance(e, dict)],
    )


class GatewayClient:
    def __init__(
        self, *, settings: WebSettings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._deadline = settings.gateway_deadline_seconds
        self._http = httpx.AsyncClient(
            base_url=settings.gateway_url,
            transport=transport,
            timeout=httpx.Timeout(
                settings.gateway_read_timeout_seconds,
                connect=settings.gateway_connect_timeout_seconds,
            ),
            limits=httpx.Limits(
                max_connections=settings.gateway_max_connections,
                max_keepalive_connections=settings.gateway_max_connections,
            ),
            headers={"User-Agent": "convene-web"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def ready(self) -> bool:
        try:
            response = await self._send("GET", "/readyz")
        except GatewayUnavailable:
            return False
        return response.status_code == 200

    # -- transport ------------------------------------------------------------------------
    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> httpx.Response:
        try:
            async with asyncio.timeout(self._deadline):
                response = await self._http.request(
                    method,
                    path,
                    json=json,
                    data=data,
                    params=params,
                    headers=headers,
                    files=files,
                )
        except (httpx.HTTPError, TimeoutError) as exc:
            raise GatewayUnavailable(f"the gateway did not answer: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise GatewayUnavailable(f"the gateway answered {response.status_code}")
        return response

    async def call(
        self,
        method: str,
        path: str,
        *,
        session: Session | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> httpx.Response:
        """One call; with a session, as that signed-in person (refreshing the token once).
        ``files``: a multipart upload (with ``data`` as its other fields)."""
        if session is None:
            response = await self._send(
                method, path, json=json, data=data, params=params, files=files
            )
        else:
            if not session.signed_in:
                raise SignInRequired("sign in first")
            if session.access_expires_at - time.time() < 10 and session.refresh_token:
                await self._refresh(session)
            response = await self._send(
                method,
                path,
                json=json,
                data=data,
                params=params,
                headers=self._auth(session),
                files=files,
            )
            if response.status_code == 401 and session.refresh_token:
                await self._refresh(session)
                response = await self._send(
                    method,
                    path,
                    json=json,
                    data=data,
                    params=params,
                    headers=self._auth(session),
                    files=files,
                )
            if response.status_code == 401:
                session.access_token = None
                session.refresh_token = None
                raise SignInRequired("your session has ended")
        if response.status_code >= 400:
            raise _problem(response)
        return response

    async def json(
        self,
        method: str,
        path: str,
        *,
        session: Session | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> JsonObject:
        response = await self.call(
            method, path, session=session, json=json, data=data, params=params
        )
        if response.status_code == 204 or not response.content:
            return {}
        body = response.json()
        return body if isinstance(body, dict) else {"items": body}

    @staticmethod
    def _auth(session: Session) -> dict[str, str]:
        return {"Authorization": f"Bearer {session.access_token}"}

    async def _refresh(self, session: Session) -> None:
        assert session.refresh_token is not None
        response = await self._send(
            "POST", "/v1/auth/refresh", data={"refresh_token": session.refresh_token}
        )
        if response.status_code != 200:
            session.refresh_token = None
            return
        issued = IssuedToken.from_json(response.json())
        session.access_token = issued.access_token
        session.refresh_token = issued.refresh_token or session.refresh_token
        session.access_expires_at = time.time() + issued.expires_in

    # -- accounts (POST /v1/auth/*: the accounts issue's names) ----------------------------
    async def sign_in(self, *, email: str, password: str, totp: str | None = None) -> IssuedToken:
        form = {"username": email, "password": password}
        if totp is not None:
            form["totp"] = totp
        body = await self.json("POST", "/v1/auth/token", data=form)
        return IssuedToken.from_json(body)

    async def sign_out(self, session: Session) -> None:
        if session.refresh_token is None and session.access_token is None:
            return
        try:
            await self.call(
                "POST",
                "/v1/auth/logout",
                session=session,
                data={"refresh_token": session.refresh_token or ""},
            )
        except (GatewayProblem, SignInRequired):
            # Nothing to revoke (an older gateway without /logout, or an expired token):
            # the session is forgotten here either way.
            return

    async def register_citizen(self, *, email: str, password: str, name: str) -> JsonObject:
        return await self.json(
            "POST",
            "/v1/citizens",
            json={"email": email, "password": password, "display_name": name},
        )

    async def verify_email(self, *, token: str) -> None:
        await self.call("POST", "/v1/auth/verify-email", json={"token": token})

    async def request_password_reset(self, *, email: str) -> None:
        await self.call("POST", "/v1/auth/password-reset", json={"email": email})

    async def confirm_password_reset(self, *, token: str, password: str) -> None:
        await self.call(
            "POST", "/v1/auth/password-reset/confirm", json={"token": token, "password": password}
        )
