"""Server-side sessions: the browser holds only a random id in an HttpOnly cookie.

The store is this process's memory, bounded: at most `session_max_entries` sessions (the
least recently used one is dropped first) and each forgotten after `session_idle_minutes`
without a request. Limits that follow: one web process per deployment (or sticky routing),
and a restart signs everybody out. The gateway's access and refresh tokens stay here and
never reach the browser.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convene_web.config import WebSettings

Role = Literal["citizen", "staff", "admin"]
SCOPE_KEY = "convene.session"
# Probes and static files never start a session (a load balancer would fill the store).
SESSIONLESS_PREFIXES = ("/livez", "/readyz", "/assets/", "/static/", "/vendor/")


def _new_id() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class Session:
    id: str
    csrf_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    access_token: str | None = None
    refresh_token: str | None = None
    access_expires_at: float = 0.0
    role: Role | None = None
    scopes: tuple[str, ...] = ()
    email: str | None = None
    # An admin who passed the password but not yet the second factor.
    pending_totp: dict[str, str] | None = None
    # POST -> redirect -> GET: what a failed form carries to the page that shows it again.
    form_errors: dict[str, dict[str, Any]] = field(default_factory=dict)
    flash: list[str] = field(default_factory=list)
    # Work in progress a page keeps between requests (a staff member's call draft and the
    # proposed panel with their swaps), by the area that owns it: {"staff": {...}}.
    data: dict[str, Any] = field(default_factory=dict)
    last_seen: float = field(default_factory=time.monotonic)

    @property
    def signed_in(self) -> bool:
        return self.access_token is not None

    def sign_in(
        self,
        *,
        access_token: str,
        refresh_token: str | None,
        expires_in: int,
        scopes: tuple[str, ...],
        email: str,
    ) -> None:
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.access_expires_at = time.time() + expires_in
        self.scopes = scopes
        self.email = email
        self.pending_totp = None
        if "admin" in scopes:
            self.role = "admin"
        elif "me:read" in scopes:
            self.role = "citizen"
        else:
            self.role = "staff"

    def stash_form(self, form: str, *, errors: dict[str, str], values: dict[str, Any]) -> None:
        self.form_errors[form] = {"errors": errors, "values": values}

    def take_form(self, form: str) -> tuple[dict[str, str], dict[str, Any]]:
        stashed = self.form_errors.pop(form, None)
        if stashed is None:
            return {}, {}
        return dict(stashed["errors"]), dict(stashed["values"])

    def take_flash(self) -> list[str]:
        messages, self.flash = self.flash, []
        return messages


class SessionStore:
    def __init__(self, *, idle_seconds: float, max_entries: int) -> None:
        self._idle_seconds = idle_seconds
        self._max_entries = max_entries
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        now = time.monotonic()
        if now - session.last_seen > self._idle_seconds:
            del self._sessions[session_id]
            return None
        session.last_seen = now
        self._sessions.move_to_end(session_id)
        return session

    def create(self) -> Session:
        session = Session(id=_new_id())
        self._put(session)
        return session

    def rotate(self, session: Session) -> None:
        """A new id for the same session (at sign-in): an id planted before sign-in is dead."""
        self._sessions.pop(session.id, None)
        session.id = _new_id()
        session.csrf_token = secrets.token_urlsafe(32)
        self._put(session)

    def delete(self, session: Session) -> None:
        self._sessions.pop(session.id, None)

    def _put(self, session: Session) -> None:
        self._sessions[session.id] = session
        while len(self._sessions) > self._max_entries:
            self._sessions.popitem(last=False)


class SessionMiddleware:
    """Loads (or starts) the session before the route and sets the cookie when its id changed.

    A pure ASGI middleware: the route reads the session through `dependencies.SessionDep`.
    """

    def __init__(self, app: ASGIApp, *, store: SessionStore, settings: WebSettings) -> None:
        self.app = app
        self.store = store
        self.cookie_name = settings.session_cookie_name
        self.secure = settings.secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope["path"]).startswith(SESSIONLESS_PREFIXES):
            await self.app(scope, receive, send)
            return
        incoming = self._cookie(scope)
        session = self.store.get(incoming)
        if session is None:
            session = self.store.create()
        scope[SCOPE_KEY] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                current = self.store.get(session.id)
                if current is None:  # signed out: the browser forgets the id
                    message.setdefault("headers", []).append(
                        (b"set-cookie", self._set_cookie("", max_age=0))
                    )
                elif current.id != incoming:
                    message.setdefault("headers", []).append(
                        (b"set-cookie", self._set_cookie(current.id, max_age=None))
                    )
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                jar: SimpleCookie = SimpleCookie()
                try:
                    jar.load(value.decode("latin-1"))
                except CookieError:  # a malformed Cookie header is the same as none
                    return None
                morsel = jar.get(self.cookie_name)
                return morsel.value if morsel is not None else None
        return None

    def _set_cookie(self, value: str, *, max_age: int | None) -> bytes:
        parts = [f"{self.cookie_name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts).encode("latin-1")
