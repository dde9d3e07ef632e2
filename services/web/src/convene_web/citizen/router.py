"""Citizens' pages: the profile as a task list (each part with check-your-answers), what we
use to match you, invitations (inbox, one invitation, accept / decline / undo), past calls,
download my data, delete my account. Every form: POST -> redirect -> GET."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from convene_web.citizen import service
from convene_web.dependencies import (
    CheckedForm,
    CitizenSession,
    GatewayDep,
    PagesDep,
    SessionStoreDep,
)
from convene_web.errors import GatewayProblem, PageNotFound
from convene_web.forms import back_with_errors, see_other
from convene_web.gateway import GatewayClient
from convene_web.sessions import Session

router = APIRouter(tags=["citizen"], default_response_class=HTMLResponse)

ListSection = Literal["skills", "roles", "affiliations", "badges"]
ValueSection = Literal["place", "languages", "access-needs", "availability", "consent"]


@dataclass(frozen=True)
class ListPart:
    title: str
    add_label: str
    api: str
    parse: Callable[[FormData], Awaitable[tuple[dict[str, Any], dict[str, str]]]] | None
    parse_sync: Callable[[FormData], tuple[dict[str, Any], dict[str, str]]] | None = None


LIST_PARTS: dict[str, ListPart] = {
    "skills": ListPart("Skills", "Add a skill", "/v1/me/skills", None, service.parse_skill),
    "roles": ListPart("Lived experience", "Add a role", "/v1/me/roles", None, service.parse_role),
    "affiliations": ListPart(
        "Affiliations and interests",
        "Add an affiliation or interest",
        "/v1/me/affiliations",
        None,
        service.parse_affiliation,
    ),
    "badges": ListPart("Badges", "Upload a badge", "/v1/me/badges", service.parse_badge),
}
VALUE_TITLES = {
    "place": "Where you live",
    "languages": "Languages",
    "access-needs": "Access needs",
    "availability": "Availability and pauses",
    "consent": "Consent",
}
TASKS = [
    ("skills", "Skills and how well you know them", "/profile/skills", "skills"),
    ("roles", "Lived experience", "/profile/roles", "roles"),
    ("badges", "Badges", "/profile/badges", "badges"),
    ("affiliations", "Affiliations and interests", "/profile/affiliations", "affiliations"),
    ("place", "Where you live", "/profile/place", "place"),
    ("languages", "Languages", "/profile/languages", "languages"),
    ("access_needs", "Access needs", "/profile/access-needs", "access_needs"),
    ("availability", "Availability and pauses", "/profile/availability", "availability"),
    ("consent", "Consent", "/profile/consent", "consent"),
]


async def _me(gateway: GatewayClient, session: Session) -> dict[str, Any]:
    return await gateway.json("GET", "/v1/me", session=session)


def _render(
    pages: Any,
    request: Request,
    template: str,
    session: Session,
    context: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {"levels": service.SKILL_LEVELS, "kinds": service.AFFILIATION_KINDS, **context}
    return pages.render(request, template, context, session=session, errors=errors)  # type: ignore[no-any-return]


# -- the profile task list ------------------------------------------------------------------
@router.get("/profile")
async def profile(
    request: Request, pages: PagesDep, session: CitizenSession, gateway: GatewayDep
) -> HTMLResponse:
    me = await _me(gateway, session)
    tasks = [
        {
            "title": {"text": title},
            "href": href,
            "status": {"text": "Completed"}
            if service.task_status(me, key)
            else {"tag": {"text": "Not started", "classes": "govuk-tag--blue"}},
        }
        for _, title, href, key in TASKS
    ]
    done = sum(1 for _, _, _, key in TASKS if service.task_status(me, key))
    return _render(
        pages,
        request,
        "citizen/profile.html",
        session,
        {"me": me, "tasks": tasks, "done": done, "total": len(TASKS)},
    )


# -- what we use to match you -----------------------------------------------------------------
@router.get("/profile/evidence")
async def evidence(
    request: Request, pages: PagesDep, session: CitizenSession, gateway: GatewayDep
) -> HTMLResponse:
    held = await gateway.json("GET", "/v1/me/evidence", session=session)
    me = await _me(gateway, session)
    return _render(
        pages,
        request,
        "citizen/evidence.html",
        session,
        {"me": me, "held": held, "rows": service.evidence_rows(held)},
    )


# -- parts that are lists: skills, roles, affiliations, badges --------------------------------
@router.get("/profile/{part}")
async def profile_part(
    part: str,
    request: Request,
    pages: PagesDep,
    session: CitizenSession,
    gateway: GatewayDep,
) -> HTMLResponse:
    if part in LIST_PARTS:
        return await _list_part(part, request, pages, session, gateway)
    if part in VALUE_TITLES:
        return await _value_part(part, request, pages, session, gateway)
    raise PageNotFound("no such part of the profile")


async def _list_part(
    part: str, request: Request, pages: Any, session: Session, gateway: GatewayClient
) -> HTMLResponse:
    spec = LIST_PARTS[part]
    listing = await gateway.json("GET", spec.api, session=session, params={"limit": 100})
    errors, values = session.take_form(f"profile-{part}")
    return _render(
        pages,
        request,
        f"citizen/{part}.html",
        session,
        {"part": part, "spec": spec, "items": listing.get("items", []), "values": values},
        errors,
    )


@router.post("/profile/{part}")
async def add_to_part(
    part: ListSection, form: CheckedForm, session: CitizenSession, gateway: GatewayDep
) -> RedirectResponse:
    spec = LIST_PARTS[part]
    if spec.parse is not None:
        payload, errors = await spec.parse(form)
    else:
        assert spec.parse_sync is not None
        payload, errors = spec.parse_sync(form)
    url = f"/profile/{part}"
    if not errors:
        try:
            await gateway.call("POST", spec.api, session=session, json=payload)
        except GatewayProblem as problem:
            errors = _refusal(part, problem)
    if errors:
        values = {k: v for k, v in payload.items() if isinstance(v, str)}
        return back_with_errors(
            session, form=f"profile-{part}", url=url, errors=errors, values=values
        )
    session.flash.append(f"{spec.title}: saved.")
    return see_other(url)


def _refusal(part: str, problem: GatewayProblem) -> dict[str, str]:
    field = {"skills": "label", "roles": "role", "affiliations": "organisation", "badges": "badge"}[
        part
    ]
    if problem.status == 409:
        return {field: "You have already added this"}
    if part == "badges":
        return {field: "This badge could not be checked: " + (problem.detail or problem.title)}
    return {field: "Check what you entered: " + (problem.detail or problem.title)}


@router.post("/profile/{part}/{item_id}/remove")
async def remove_from_part(
    part: ListSection,
    item_id: uuid.UUID,
    form: CheckedForm,
    session: CitizenSession,
    gateway: GatewayDep,
) -> RedirectResponse:
    spec = LIST_PARTS[part]
    try:
        await gateway.call("DELETE", f"{spec.api}/{item_id}", session=session)
    except GatewayProblem as problem:
        if problem.status != 404:  # already gone is what was asked
            raise
    session.flash.append(f"{spec.title}: removed.")
    return see_other(f"/profile/{part}")


# -- parts that are one answer: place, languages, access needs, availability, consent --------
def _answers(part: str, me: dict[str, Any]) -> list[dict[str, Any]]:
    """The check-your-answers rows of one part (text only: the macro escapes it)."""
    change = f"/profile/{part}/change"

    def row(key: str, value: str) -> dict[str, Any]:
        return {
            "key": {"text": key},
            "value": {"text": value or "Not given"},
            "actions": {
                "items": [{"href": change, "text": "Change", "visuallyHiddenText": key.lower()}]
            },
        }

    if part == "place":
        place = me.get("place") or {}
        return [
            row("Postcode area", place.get("postcode_area") or ""),
            row("Local authority code", place.get("authority_code") or ""),
        ]
    if part == "languages":
        names = [service.LANGUAGES.get(code, code) for code in me.get("languages") or []]
        return [row("Languages", ", ".join(names))]
    if part == "access-needs":
        return [row("Access needs", "; ".join(me.get("access_needs") or []))]
    if part == "availability":
        availability = me.get("availability") or {}
        invitations = availability.get("max_invitations_per_month")
        hours = availability.get("hours_per_month")
        return [
            row("Invitations a month, at most", "" if invitations is None else str(invitations)),
            row("Hours a month", "" if hours is None else f"{hours:g}"),
        ]
    consent = me.get("consent") or {}
    return [
        row("Matching", "Yes" if consent.get("matching") else "No"),
        row("Contact after you accept", "Yes" if consent.get("contact") else "No"),
        row(
            "Rated contributions as evidence",
            "No" if consent.get("contributions_as_evidence") is False else "Yes",
        ),
    ]


async def _value_part(
    part: str, request: Request, pages: Any, session: Session, gateway: GatewayClient
) -> HTMLResponse:
    me = await _me(gateway, session)
    errors, values = session.take_form(f"profile-{part}-pause")
    pauses = (me.get("availability") or {}).get("unavailable") or []
    return _render(
        pages,
        request,
        "citizen/check_answers.html",
        session,
        {
            "part": part,
            "title": VALUE_TITLES[part],
            "rows": _answers(part, me),
            "pauses": pauses if part == "availability" else None,
            "values": values,
        },
        errors,
    )


@router.post("/profile/availability/pauses")
async def add_pause(form: CheckedForm, session: CitizenSession, gateway: GatewayDep) -> Response:
    period, errors = service.parse_pause(form)
    if errors:
        values = {k: v for k, v in form.multi_items() if isinstance(v, str) and k != "csrf_token"}
        return back_with_errors(
            session,
            form="profile-availability-pause",
            url="/profile/availability",
            errors=errors,
            values=values,
        )
    me = await _me(gateway, session)
    availability = dict(me.get("availability") or {})
    availability.setdefault("max_invitations_per_month", 4)
    availability.setdefault("hours_per_month", 4)
    if availability.get("max_invitations_per_month") is None:
        availability["max_invitations_per_month"] = 4
    if availability.get("hours_per_month") is None:
        availability["hours_per_month"] = 4
    availability["hours_per_month"] = int(availability["hours_per_month"])
    availability["unavailable"] = [*(availability.get("unavailable") or []), period]
    await gateway.call("PATCH", "/v1/me", session=session, json={"availability": availability})
    session.flash.append("Pause added: you will not be invited during it.")
    return see_other("/profile/availability")


@router.post("/profile/availability/pauses/{index}/remove")
async def remove_pause(
    index: int, form: CheckedForm, session: CitizenSession, gateway: GatewayDep
) -> Response:
    me = await _me(gateway, session)
    availability = dict(me.get("availability") or {})
    pauses = list(availability.get("unavailable") or [])
    if 0 <= index < len(pauses):
        del pauses[index]
        availability["unavailable"] = pauses
        availability["hours_per_month"] = int(availability.get("hours_per_month") or 0)
        availability["max_invitations_per_month"] = int(
            availability.get("max_invitations_per_month") or 0
        )
        await gateway.call("PATCH", "/v1/me", session=session, json={"availability": availability})
        session.flash.append("Pause removed.")
    return see_other("/profile/availability")


@router.get("/profile/{part}/change")
async def change_value_part(
    part: ValueSection,
    request: Request,
    pages: PagesDep,
    session: CitizenSession,
    gateway: GatewayDep,
) -> HTMLResponse:
    me = await _me(gateway, session)
    errors, values = session.take_form(f"profile-{part}")
    return _render(
        pages,
        request,
        f"citizen/change_{part.replace('-', '_')}.html",
        session,
        {
            "part": part,
            "title": VALUE_TITLES[part],
            "me": me,
            "values": values,
            "language_names": service.LANGUAGES,
        },
        errors,
    )


@router.post("/profile/{part}/change")
async def save_value_part(
    part: ValueSection, form: CheckedForm, session: CitizenSession, gateway: GatewayDep
) -> RedirectResponse:
    if part == "place":
        payload, errors = service.parse_place(form)
    elif part == "languages":
        payload, errors = service.parse_languages(form)
    elif part == "access-needs":
        payload, errors = service.parse_access_needs(form)
    elif part == "availability":
        me = await _me(gateway, session)
        kept = (me.get("availability") or {}).get("unavailable") or []
        payload, errors = service.parse_availability(form, unavailable=kept)
    else:
        payload, errors = service.parse_consent(form)
    if not errors:
        try:
            await gateway.call("PATCH", "/v1/me", session=session, json=payload)
        except GatewayProblem as problem:
            if problem.status != 422:
                raise
            errors = {_first_field(part): "Check what you entered: " + (problem.detail or "")}
    if errors:
        values = {k: v for k, v in form.multi_items() if isinstance(v, str) and k != "csrf_token"}
        return back_with_errors(
            session,
            form=f"profile-{part}",
            url=f"/profile/{part}/change",
            errors=errors,
            values=values,
        )
    session.flash.append(f"{VALUE_TITLES[part]}: saved.")
    return see_other(f"/profile/{part}")


def _first_field(part: str) -> str:
    return {
        "place": "postcode_area",
        "languages": "languages",
        "access-needs": "access_needs",
        "availability": "max_invitations_per_month",
        "consent": "consent",
    }[part]


# -- invitations ---------------------------------------------------------------------------
async def _invitations(gateway: GatewayClient, session: Session) -> list[dict[str, Any]]:
    listing = await gateway.json(
        "GET", "/v1/me/invitations", session=session, params={"limit": 100}
    )
    items: list[dict[str, Any]] = listing.get("items", [])
    return items


@router.get("/invitations")
async def invitations(
    request: Request, pages: PagesDep, session: CitizenSession, gateway: GatewayDep
) -> HTMLResponse:
    items = await _invitations(gateway, session)
    return _render(
        pages,
        request,
        "citizen/invitations.html",
        session,
        {"groups": service.invitation_groups(items), "statuses": service.STATUS_LABELS},
    )


async def _invitation(
    gateway: GatewayClient, session: Session, invitation_id: uuid.UUID
) -> dict[str, Any]:
    try:
        return await gateway.json("GET", f"/v1/me/invitations/{invitation_id}", session=session)
    except GatewayProblem as problem:
        if problem.status in (404, 422):
            raise PageNotFound("no such invitation") from problem
        raise


@router.get("/invitations/{invitation_id}")
async def invitation(
    invitation_id: uuid.UUID,
    request: Request,
    pages: PagesDep,
    session: CitizenSession,
    gateway: GatewayDep,
) -> HTMLResponse:
    detail = await _invitation(gateway, session, invitation_id)
    contribution = (
        await _contribution(gateway, session, invitation_id)
        if detail.get("has_contribution")
        else None
    )
    errors, values = session.take_form(f"invitation-{invitation_id}")
    return _render(
        pages,
        request,
        "citizen/invitation.html",
        session,
        {
            "invitation": detail,
            "contribution": contribution,
            "statuses": service.STATUS_LABELS,
            "reasons": service.DECLINE_REASONS,
            "values": values,
        },
        errors,
    )


# -- your contribution: write, check, submit, change, withdraw -----------------------------
def _drafts(session: Session) -> dict[str, Any]:
    drafts: dict[str, Any] = session.data.setdefault("citizen-contributions", {})
    return drafts


async def _contribution(
    gateway: GatewayClient, session: Session, invitation_id: uuid.UUID
) -> dict[str, Any] | None:
    try:
        return await gateway.json(
            "GET", f"/v1/me/invitations/{invitation_id}/contribution", session=session
        )
    except GatewayProblem as problem:
        if problem.status == 404:
            return None
        raise


def _writable(detail: dict[str, Any]) -> None:
    if not detail.get("can_contribute"):
        raise PageNotFound("this invitation takes no contribution now")


@router.get("/invitations/{invitation_id}/contribution")
async def contribution_form(
    invitation_id: uuid.UUID,
    request: Request,
    pages: PagesDep,
    session: CitizenSession,
    gateway: GatewayDep,
) -> HTMLResponse:
    detail = await _invitation(gateway, session, invitation_id)
    _writable(detail)
    questions = list(detail.get("call", {}).get("questions") or [])
    errors, values = session.take_form(f"contribution-{invitation_id}")
    if not values:
        draft = _drafts(session).get(str(invitation_id))
        values = draft["values"] if draft else {}
    if not values:
        stored = await _contribution(gateway, session, invitation_id)
        values = service.contribution_form_values(stored, questions)
    return _render(
        pages,
        request,
        "citizen/contribution.html",
        session,
        {"invitation": detail, "questions": questions, "values": values},
        errors,
    )


@router.post("/invitations/{invitation_id}/contribution")
async def contribution_continue(
    invitation_id: uuid.UUID, form: CheckedForm, session: CitizenSession, gateway: GatewayDep
) -> RedirectResponse:
    detail = await _invitation(gateway, session, invitation_id)
    _writable(detail)
    questions = list(detail.get("call", {}).get("questions") or [])
    payload, errors, values = service.parse_contribution(form, questions)
    if errors:
        return back_with_errors(
            session,
            form=f"contribution-{invitation_id}",
            url=f"/invitations/{invitation_id}/contribution",
            errors=errors,
            values=values,
        )
    _drafts(session)[str(invitation_id)] = {"payload": payload, "values": values}
    return see_other(f"/invitations/{invitation_id}/contribution/check")


@router.get("/invitations/{invitation_id}/contribution/check")
async def contribution_check(
    invitation_id: uuid.UUID,
    request: Request,
    pages: PagesDep,
    session: CitizenSession,
    gateway: GatewayDep,
) -> Response:
    detail = await _invitation(gateway, session, invitation_id)
    draft = _drafts(session).get(str(invitation_id))
    if draft is None:
        return see_other(f"/invitations/{invitation_id}/contribution")
    errors, _ = session.take_form(f"contribution-check-{invitation_id}")
    return _render(
        pages,
        request,
        "citizen/contribution_check.html",
        session,
        {"invitation": detail, "draft": draft["payload"]},
        errors,
    )


@router.post("/invitations/{invitation_id}/contribution/submit")
async def contribution_submit(
    invitation_id: uuid.UUID, form: CheckedForm, session: CitizenSession, gateway: GatewayDep
) -> RedirectResponse:
    draft = _drafts(session).get(str(invitation_id))
    if draft is None:
        return see_other(f"/invitations/{invitation_id}/contribution")
    try:
        await gateway.call(
            "POST",
            f"/v1/me/invitations/{invitation_id}/contribution",
            session=session,
            json=draft["payload"],
        )
    except GatewayProblem as problem:
        if problem.status == 404:
            raise PageNotFound("no such invitation") from problem
        return back_with_errors(
            session,
            form=f"contribution-check-{invitation_id}",
            url=f"/invitations/{invitation_id}/contribution/check",
            errors={"submit": "Your contribution was not saved: " + (problem.detail or "")},
            values={},
        )
    _drafts(session).pop(str(invitation_id), None)
    session.flash.append("Your contribution was submitted. You can change it until the deadline.")
    return see_other(f"/invitations/{invitation_id}")


@router.post("/invitations/{invitation_id}/contribution/withdraw")
async def contribution_withdraw(
    invitation_id: uuid.UUID, form: CheckedForm, session: CitizenSession, gateway: GatewayDep
) -> RedirectResponse:
    url = f"/invitations/{invitation_id}"
    try:
        await gateway.call(
            "DELETE", f"/v1/me/invitations/{invitation_id}/contribution", session=session
        )
    except GatewayProblem as problem:
        if problem.status == 404:
            raise PageNotFound("no such contribution") from problem
        return back_with_errors(
            session,
            form=f"invitation-{invitation_id}",
            url=url,
            errors={"withdraw": "You cannot withdraw it now: " + (problem.detail or "")},
            values={},
        )
    _drafts(session).pop(str(invitation_id), None)
    session.flash.append("Your contribution was withdrawn.")
    return see_other(url)


@router.post("/invitations/{invitation_id}/{action}")
async def answer_invitation(
    invitation_id: uuid.UUID,
    action: Literal["accept", "decline", "undo", "follow-outcome"],
    form: CheckedForm,
    session: CitizenSession,
    gateway: GatewayDep,
) -> RedirectResponse:
    url = f"/invitations/{invitation_id}"
    payload: dict[str, Any] | None = None
    errors: dict[str, str] = {}
    if action == "accept":
        detail = await _invitation(gateway, session, invitation_id)
        asked = detail.get("hours_asked")
        payload, errors = service.parse_accept(form, hours_asked=asked)
    elif action == "decline":
        payload, errors = service.parse_decline(form)
    if not errors:
        try:
            await gateway.call(
                "POST",
                f"/v1/me/invitations/{invitation_id}/{action}",
                session=session,
                json=payload,
            )
        except GatewayProblem as problem:
            if problem.status == 404:
                raise PageNotFound("no such invitation") from problem
            field = {
                "accept": "hours_offered",
                "decline": "reason",
                "undo": "undo",
                "follow-outcome": "follow",
            }[action]
            errors = {field: "You cannot do that now: " + (problem.detail or problem.title)}
    if errors:
        values = {k: v for k, v in form.multi_items() if isinstance(v, str) and k != "csrf_token"}
        return back_with_errors(
            session, form=f"invitation-{invitation_id}", url=url, errors=errors, values=values
        )
    session.flash.append(
        {
            "accept": "You accepted. The public body can now see your contact details.",
            "decline": "You declined this invitation.",
            "undo": "Your answer was undone: the invitation is open again.",
            "follow-outcome": "We will email you the outcome when the call closes.",
        }[action]
    )
    return see_other(url)


# -- past calls: what came of them ----------------------------------------------------------
@router.get("/past-calls")
async def past_calls(
    request: Request, pages: PagesDep, session: CitizenSession, gateway: GatewayDep
) -> HTMLResponse:
    items = await _invitations(gateway, session)
    accepted = [item for item in items if item.get("status") == "accepted"]
    details = [
        await _invitation(gateway, session, uuid.UUID(str(item["id"]))) for item in accepted[:20]
    ]
    past = [d for d in details if d.get("outcome") or d.get("call", {}).get("status") != "open"]
    return _render(pages, request, "citizen/past_calls.html", session, {"past": past})


# -- your account: download, delete --------------------------------------------------------
@router.get("/account")
async def account(
    request: Request, pages: PagesDep, session: CitizenSession, gateway: GatewayDep
) -> HTMLResponse:
    me = await _me(gateway, session)
    return _render(pages, request, "citizen/account.html", session, {"me": me})


@router.get("/account/download")
async def download(session: CitizenSession, gateway: GatewayDep) -> Response:
    exported = await gateway.json("GET", "/v1/me/export", session=session)
    return Response(
        json.dumps(exported, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="convene-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/account/delete")
async def delete_page(request: Request, pages: PagesDep, session: CitizenSession) -> HTMLResponse:
    errors, _ = session.take_form("delete-account")
    return _render(pages, request, "citizen/delete.html", session, {}, errors)


@router.post("/account/delete")
async def delete_account(
    form: CheckedForm, session: CitizenSession, store: SessionStoreDep, gateway: GatewayDep
) -> RedirectResponse:
    if form.get("confirm") != "yes":
        return back_with_errors(
            session,
            form="delete-account",
            url="/account/delete",
            errors={"confirm": "Select yes to confirm you want to delete your account"},
            values={},
        )
    await gateway.call("DELETE", "/v1/me", session=session)
    store.delete(session)
    return see_other("/account/deleted")


@router.get("/account/deleted")
async def deleted(request: Request, pages: PagesDep) -> HTMLResponse:
    return pages.render(request, "citizen/deleted.html")
