"""Managers' pages: the organisation's members (invite, change role, remove), its API keys
(create, shown once; revoke) and its audit log. Officers get the gateway's 403 page."""

from __future__ import annotations

import re
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from convene_web.dependencies import CheckedForm, GatewayDep, PagesDep, StaffSession
from convene_web.errors import GatewayProblem
from convene_web.forms import back_with_errors, see_other, text
from convene_web.staff import gateway as api

router = APIRouter(tags=["staff: organisation"], default_response_class=HTMLResponse)

ROLES = {"officer": "Officer", "manager": "Manager"}
SCOPES = {
    "calls:read": "Read calls and answers",
    "calls:write": "Post calls, route and invite",
    "ratings:write": "Rate contributions",
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@router.get("/organisation")
async def members_page(
    request: Request, pages: PagesDep, session: StaffSession, gateway: GatewayDep
) -> HTMLResponse:
    organisation = await api.my_organisation(gateway, session=session)
    members = await api.list_members(gateway, session=session)
    errors, values = session.take_form("members")
    return pages.render(
        request,
        "staff/members.html",
        {"organisation": organisation, "members": members.items, "roles": ROLES, "values": values},
        session=session,
        errors=errors,
    )


@router.post("/organisation/members")
async def invite_member(
    form: CheckedForm, session: StaffSession, gateway: GatewayDep
) -> RedirectResponse:
    email = text(form, "email")
    role = text(form, "role")
    errors: dict[str, str] = {}
    if not EMAIL.match(email) or len(email) > 320:
        errors["email"] = "Enter an email address in the correct format, like name@example.org"
    if role not in ROLES:
        errors["role"] = "Select the new member's role"
    if not errors:
        try:
            invited = await api.invite_member(gateway, session=session, email=email, role=role)
        except GatewayProblem as problem:
            if problem.status != 422:
                raise
            errors["email"] = problem.detail or "Enter a correct email address"
        else:
            session.flash.append(
                f"An invitation to join as {ROLES[role].lower()} was emailed to {invited.email}."
            )
            return see_other("/organisation")
    return back_with_errors(
        session,
        form="members",
        url="/organisation",
        errors=errors,
        values={"email": email, "role": role},
    )


@router.post("/organisation/members/{account_id:uuid}")
async def change_member(
    account_id: uuid.UUID, form: CheckedForm, session: StaffSession, gateway: GatewayDep
) -> RedirectResponse:
    action = text(form, "action")
    try:
        if action == "remove":
            await api.remove_member(gateway, session=session, account_id=account_id)
            session.flash.append("The member was removed; their sessions have ended.")
        elif action in ROLES:
            await api.change_member(gateway, session=session, account_id=account_id, role=action)
            session.flash.append(f"The member is now {ROLES[action].lower()}.")
    except GatewayProblem as problem:
        if problem.status not in (404, 409):
            raise
        return back_with_errors(
            session,
            form="members",
            url="/organisation",
            errors={"members": problem.detail or problem.title},
            values={},
        )
    return see_other("/organisation")


@router.get("/organisation/api-keys")
async def keys_page(
    request: Request, pages: PagesDep, session: StaffSession, gateway: GatewayDep
) -> HTMLResponse:
    keys = await api.list_api_keys(gateway, session=session)
    errors, values = session.take_form("api-keys")
    work = session.data.setdefault("staff", {})
    created = work.pop("created_key", None)
    return pages.render(
        request,
        "staff/api_keys.html",
        {"keys": keys.items, "scopes": SCOPES, "values": values, "created": created},
        session=session,
        errors=errors,
    )


@router.post("/organisation/api-keys")
async def create_key(
    form: CheckedForm, session: StaffSession, gateway: GatewayDep
) -> RedirectResponse:
    name = text(form, "name")
    scopes = [s for s in form.getlist("scopes") if isinstance(s, str) and s in SCOPES]
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Enter a name for the key, like the system that will use it"
    elif len(name) > 200:
        errors["name"] = "Name must be 200 characters or fewer"
    if not scopes:
        errors["scopes"] = "Select what the key may do"
    if errors:
        return back_with_errors(
            session,
            form="api-keys",
            url="/organisation/api-keys",
            errors=errors,
            values={"name": name, "scopes": scopes},
        )
    created = await api.create_api_key(gateway, session=session, name=name, scopes=scopes)
    session.data.setdefault("staff", {})["created_key"] = {
        "name": created.name,
        "api_key": created.api_key,
    }
    return see_other("/organisation/api-keys")


@router.post("/organisation/api-keys/{key_id:uuid}/revoke")
async def revoke_key(
    key_id: uuid.UUID, form: CheckedForm, session: StaffSession, gateway: GatewayDep
) -> RedirectResponse:
    await api.revoke_api_key(gateway, session=session, key_id=key_id)
    session.flash.append("The key is revoked: it stopped working at once.")
    return see_other("/organisation/api-keys")


@router.get("/organisation/audit")
async def audit_page(
    request: Request,
    pages: PagesDep,
    session: StaffSession,
    gateway: GatewayDep,
    cursor: str | None = None,
) -> HTMLResponse:
    page = await api.organisation_audit(gateway, session=session, cursor=cursor)
    return pages.render(
        request,
        "staff/audit.html",
        {
            "entries": page.items,
            "next_cursor": page.next_cursor,
            "base": "/organisation/audit",
            "title": "Your organisation's audit log",
        },
        session=session,
    )
