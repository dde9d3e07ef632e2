"""Form handling as POST -> redirect -> GET, with the GOV.UK error summary on the GET."""

from __future__ import annotations

from typing import Any

from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from convene_web.sessions import Session


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def back_with_errors(
    session: Session, *, form: str, url: str, errors: dict[str, str], values: dict[str, Any]
) -> RedirectResponse:
    """Keeps what was typed (never a password) and the errors for the page's next GET."""
    session.stash_form(form, errors=errors, values=values)
    return see_other(url)


def text(form: FormData, name: str, *, strip: bool = True) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return value.strip() if strip else value


def safe_next(value: str | None, default: str) -> str:
    """Only a path on this site (never //host or a scheme): no open redirect after sign-in."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default
