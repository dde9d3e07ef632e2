"""Typed access to what create_app and the lifespan put on app.state (routes never read it raw)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from convene_web.config import WebSettings
from convene_web.errors import BadCsrfToken, NotAllowed, SignInRequired
from convene_web.gateway import GatewayClient
from convene_web.sessions import SCOPE_KEY, Session, SessionStore
from convene_web.templating import Pages


def get_settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def get_gateway(request: Request) -> GatewayClient:
    gateway: GatewayClient = request.app.state.gateway
    return gateway


def get_sessions(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.sessions
    return store


def get_pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


def get_session(request: Request) -> Session:
    session = request.scope.get(SCOPE_KEY)
    if not isinstance(session, Session):
        raise RuntimeError("SessionMiddleware is not installed")
    return session


SettingsDep = Annotated[WebSettings, Depends(get_settings)]
GatewayDep = Annotated[GatewayClient, Depends(get_gateway)]
SessionStoreDep = Annotated[SessionStore, Depends(get_sessions)]
PagesDep = Annotated[Pages, Depends(get_pages)]
SessionDep = Annotated[Session, Depends(get_session)]


def require_role(*roles: str) -> object:
    def check(session: SessionDep) -> Session:
        if not session.signed_in:
            raise SignInRequired("sign in first")
        if session.role not in roles:
            raise NotAllowed("this page is for another kind of account")
        return session

    return check


CitizenSession = Annotated[Session, Depends(require_role("citizen"))]
StaffSession = Annotated[Session, Depends(require_role("staff"))]
AdminSession = Annotated[Session, Depends(require_role("admin"))]


async def checked_form(request: Request, session: SessionDep) -> AsyncIterator[FormData]:
    """The posted form, once its CSRF token matches the session's (every POST route uses it).
    Closed after the response: an uploaded file's spooled temporary file is released."""
    form = await request.form()
    try:
        sent = form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
        if not isinstance(sent, str) or not secrets.compare_digest(sent, session.csrf_token):
            raise BadCsrfToken("the form was out of date or not sent by this site")
        yield form
    finally:
        await form.close()


CheckedForm = Annotated[FormData, Depends(checked_form)]
