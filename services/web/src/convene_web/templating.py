"""Jinja2 with the GOV.UK Frontend macros (govuk-frontend-jinja) and the page context."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jinja2
import markupsafe
from fastapi import Request
from fastapi.responses import HTMLResponse

from convene_web.sessions import Session

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
SERVICE_NAME = "Convene"
# The GOV.UK Frontend macros every template can call (imports in base.html would not reach
# the pages that extend it).
GOVUK_MACROS = {
    "back-link": "govukBackLink",
    "button": "govukButton",
    "checkboxes": "govukCheckboxes",
    "date-input": "govukDateInput",
    "details": "govukDetails",
    "error-summary": "govukErrorSummary",
    "fieldset": "govukFieldset",
    "file-upload": "govukFileUpload",
    "generic-header": "govukGenericHeader",
    "input": "govukInput",
    "inset-text": "govukInsetText",
    "notification-banner": "govukNotificationBanner",
    "panel": "govukPanel",
    "password-input": "govukPasswordInput",
    "radios": "govukRadios",
    "select": "govukSelect",
    "service-navigation": "govukServiceNavigation",
    "skip-link": "govukSkipLink",
    "summary-list": "govukSummaryList",
    "table": "govukTable",
    "tag": "govukTag",
    "task-list": "govukTaskList",
    "textarea": "govukTextarea",
    "warning-text": "govukWarningText",
    "character-count": "govukCharacterCount",
    "pagination": "govukPagination",
}


def _date(value: Any) -> str:
    """'2 December 2026' (GOV.UK style) from an ISO string or a datetime."""
    if value is None or value == "":
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return f"{moment.day} {moment:%B %Y}"


def _datetime(value: Any) -> str:
    if value is None or value == "":
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    hour = moment.strftime("%I").lstrip("0") or "12"
    return f"{moment.day} {moment:%B %Y} at {hour}:{moment:%M}{moment:%p}".replace(
        "AM", "am"
    ).replace("PM", "pm")


def csrf_field(token: str) -> markupsafe.Markup:
    """The hidden field every form carries (the token is escaped like any other value)."""
    return markupsafe.Markup('<input type="hidden" name="csrf_token" value="{}">').format(token)


def build_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(TEMPLATES_DIR),
                jinja2.PrefixLoader(
                    {"govuk_frontend_jinja": jinja2.PackageLoader("govuk_frontend_jinja")}
                ),
            ]
        ),
        # Every string is escaped unless a template says otherwise: user text never is.
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["date"] = _date
    environment.filters["datetime"] = _datetime
    environment.globals["service_name"] = SERVICE_NAME
    environment.globals["error_for"] = error_for
    for component, macro in GOVUK_MACROS.items():
        module = environment.get_template(f"govuk_frontend_jinja/components/{component}/macro.html")
        environment.globals[macro] = getattr(module.module, macro)
    environment.globals["csrf_field"] = csrf_field
    environment.filters["query_pairs"] = query_pairs
    environment.globals["goButton"] = environment.get_template("_go_button.html").module.goButton  # type: ignore[attr-defined]
    return environment


def query_pairs(href: str) -> list[tuple[str, str]]:
    """The query of a link as (name, value) pairs: goButton's hidden fields."""
    return parse_qsl(urlsplit(href).query)


def error_list(errors: dict[str, str]) -> list[dict[str, str]]:
    """The error summary's items: each links to its field (id = field name)."""
    return [{"text": message, "href": f"#{field}"} for field, message in errors.items()]


class Pages:
    """Renders one template per page with what every page needs (session, CSRF, nav)."""

    def __init__(self) -> None:
        self.environment = build_environment()

    def render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any] | None = None,
        *,
        session: Session | None = None,
        status_code: int = 200,
        errors: dict[str, str] | None = None,
    ) -> HTMLResponse:
        errors = errors or {}
        values: dict[str, Any] = {
            "request": request,
            "current_path": request.url.path,
            "session": session,
            "role": session.role if session is not None and session.signed_in else None,
            "csrf_token": session.csrf_token if session is not None else "",
            "flash": session.take_flash() if session is not None else [],
            "errors": errors,
            "error_list": error_list(errors),
        }
        values.update(context or {})
        html = self.environment.get_template(template).render(values)
        return HTMLResponse(html, status_code=status_code)


def error_for(errors: dict[str, str], name: str) -> dict[str, str] | None:
    """A macro's errorMessage for one field, or None."""
    message = errors.get(name)
    return {"text": message} if message else None
