"""The text and HTML of every account email. Links point at the web service's pages."""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Message:
    kind: str
    subject: str
    text: str
    html: str


def _link(base_url: str, path: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{path}?token={quote(token, safe='')}"


def _message(*, kind: str, subject: str, paragraphs: list[str], link: str | None) -> Message:
    text_lines = [*paragraphs]
    html_parts = [f"<p>{html.escape(p)}</p>" for p in paragraphs]
    if link is not None:
        text_lines += ["", link]
        html_parts.append(f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p>')
    text_lines += ["", "Convene"]
    html_parts.append("<p>Convene</p>")
    return Message(
        kind=kind,
        subject=subject,
        text="\n".join(text_lines) + "\n",
        html="<!doctype html><html><body>" + "".join(html_parts) + "</body></html>",
    )


def verify_email(*, base_url: str, token: str, hours: int) -> Message:
    return _message(
        kind="verify_email",
        subject="Confirm your email address for Convene",
        paragraphs=[
            "Please confirm this email address by following the link below.",
            f"The link works once and expires in {hours} hours. Until you confirm, you are "
            "not matched or invited to calls for expertise.",
        ],
        link=_link(base_url, "/verify-email", token),
    )


def reset_password(*, base_url: str, token: str, minutes: int) -> Message:
    return _message(
        kind="reset_password",
        subject="Reset your Convene password",
        paragraphs=[
            "Someone asked to reset the password of the Convene account with this address.",
            f"If it was you, follow the link below (it works once, within {minutes} minutes). "
            "Every device signed in to your account will be signed out.",
            "If it was not you, ignore this email: your password is unchanged.",
        ],
        link=_link(base_url, "/reset-password", token),
    )


def join(*, base_url: str, token: str, organisation: str, role: str, days: int) -> Message:
    return _message(
        kind="staff_invitation",
        subject=f"You are invited to join {organisation} on Convene",
        paragraphs=[
            f"You are invited to join {organisation} on Convene as {role}.",
            f"Follow the link below to set your password (it works once, within {days} days).",
        ],
        link=_link(base_url, "/join", token),
    )


def already_registered(*, base_url: str) -> Message:
    """Sent instead of a second registration: the answer to the registration itself is the
    same as for a new address, so only the address's owner learns it is taken."""
    return _message(
        kind="already_registered",
        subject="Someone tried to register with your email address",
        paragraphs=[
            "Someone (perhaps you) tried to create a Convene account with this address, "
            "which already has one. No new account was made.",
            "If you forgot your password, you can reset it from the sign-in page.",
        ],
        link=f"{base_url.rstrip('/')}/reset-password",
    )


def email_change_requested(*, base_url: str) -> Message:
    return _message(
        kind="email_change_notice",
        subject="Your Convene email address is being changed",
        paragraphs=[
            "A change of your Convene account's email address was asked for. It takes "
            "effect once the new address is confirmed.",
            "If this was not you, reset your password at once.",
        ],
        link=f"{base_url.rstrip('/')}/reset-password",
    )
