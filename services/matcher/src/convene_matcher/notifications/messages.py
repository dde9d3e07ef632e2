"""What an outbox row becomes at send time (personal data is fetched then, never stored)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import asyncpg


def _when(row: asyncpg.Record) -> str:
    return f"{row['deadline']:%d %B %Y, %H:%M} UTC"


def email_for(
    *,
    kind: str,
    context: asyncpg.Record,
    to: str,
    display_name: str | None,
    sender: str,
    delivery_id: str,
    public_url: str,
) -> EmailMessage:
    """Message-ID is the delivery id: a receiver can tell a redelivery from a new message."""
    greeting = f"Dear {display_name}," if display_name else "Hello,"
    # The invitation's page (services/web), where the citizen reads "why you" and answers.
    link = f"{public_url.rstrip('/')}/invitations/{context['id']}"
    title = context["title"] or "a call for expertise"
    body_name = context["public_body_name"]
    hours = f"about {context['hours']:g} hours" if context["hours"] else "some of your time"
    if kind == "invitation":
        subject = f"{body_name} invites you: {title}"
        lines = [
            f"{body_name} would value your expertise on \u201c{title}\u201d.",
            f"They ask for {hours}; answers are open until {_when(context)}.",
        ]
        if context["message"]:
            lines += ["", f"Their message: {context['message']}"]
        lines += ["", f"See why you were invited, and accept or decline: {link}"]
    elif kind == "reminder":
        subject = f"Reminder: {title} closes on {_when(context)}"
        lines = [
            f"You have not yet answered {body_name}'s invitation to \u201c{title}\u201d.",
            f"It expires at {_when(context)}: {link}",
        ]
    elif kind == "withdrawn":
        subject = f"Invitation withdrawn: {title}"
        lines = [
            f"{body_name} has withdrawn its invitation to \u201c{title}\u201d.",
            "There is nothing you need to do. Thank you for your time.",
        ]
    elif kind == "deadline_changed":
        subject = f"New deadline: {title} now closes on {_when(context)}"
        lines = [
            f"{body_name} has changed the deadline of \u201c{title}\u201d.",
            f"Answers are now open until {_when(context)}: {link}",
        ]
    elif kind == "outcome" and context["status"] == "declined":
        # A citizen who declined but asked to be told the outcome.
        subject = f"What came of it: {title}"
        lines = [
            f"You asked to be told what came of \u201c{title}\u201d. {body_name} closed the"
            " call and wrote:",
            "",
            context["outcome"] or "",
        ]
    elif kind == "outcome":
        subject = f"What came of your input: {title}"
        lines = [
            f"Thank you for contributing to \u201c{title}\u201d. {body_name} closed the call"
            " and wrote:",
            "",
            context["outcome"] or "",
            "",
            f"See which of your answers they cited: {link}",
        ]
    else:
        raise ValueError(f"no email for notification kind {kind!r}")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{delivery_id}@convene.notifications>"
    message["X-Convene-Delivery-Id"] = delivery_id
    message["X-Convene-Kind"] = kind
    message.set_content("\n".join([greeting, "", *lines, "", "Convene"]))
    return message


def webhook_payload(
    *, payload: dict[str, Any], delivery_id: str, created_at: str
) -> dict[str, Any]:
    return {
        "type": payload.get("type"),
        "id": delivery_id,
        "timestamp": created_at,
        "data": payload.get("data", {}),
    }
