"""Council staff pages (officers, managers): calls, posting a call, the panel, invitations,
answers, ratings, closing, the organisation's figures and its webhook.

Every form is POST -> redirect -> GET; a failed form stashes its errors and values in the
session for the GET to show in the error summary. What the officer is working on (the call
draft, the proposed panel with swaps, the invitation message) lives in the server-side
session, never in the browser.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from convene_web import charts
from convene_web.dependencies import CheckedForm, GatewayDep, PagesDep, StaffSession
from convene_web.errors import GatewayProblem, PageNotFound
from convene_web.forms import back_with_errors, see_other, text
from convene_web.gateway import GatewayClient
from convene_web.sessions import Session
from convene_web.staff import calls as drafts
from convene_web.staff import gateway as api
from convene_web.staff import organisation
from convene_web.staff.panel import SwapError, quota_table, swap

router = APIRouter(tags=["staff"], default_response_class=HTMLResponse)

STATE_ORDER = ("open", "closed", "cancelled")
INVITATION_TAGS = {
    "pending": ("Waiting", "govuk-tag--yellow"),
    "accepted": ("Accepted", "govuk-tag--green"),
    "declined": ("Declined", "govuk-tag--red"),
    "withdrawn": ("Withdrawn", "govuk-tag--grey"),
    "expired": ("Expired", "govuk-tag--grey"),
}


def _work(session: Session) -> dict[str, Any]:
    """The staff member's work in progress, kept in the server-side session."""
    work: dict[str, Any] = session.data.setdefault("staff", {})
    return work


def _draft(session: Session) -> dict[str, Any]:
    work = _work(session)
    draft: dict[str, Any] = work.setdefault("draft", {"done": []})
    return draft


def _match(session: Session, call_id: uuid.UUID) -> api.MatchResult | None:
    stored = _work(session).get("matches", {}).get(str(call_id))
    return api.MatchResult.model_validate(stored) if stored is not None else None


def _keep_match(session: Session, match: api.MatchResult) -> None:
    matches: dict[str, Any] = _work(session).setdefault("matches", {})
    matches[str(match.call_id)] = match.model_dump(mode="json")
    # Bounded: the last few calls an officer works on, not every call ever matched.
    while len(matches) > 10:
        matches.pop(next(iter(matches)))


def _form(form: Any) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _problem_errors(problem: GatewayProblem, *, default_field: str) -> dict[str, str]:
    """A gateway problem as error-summary entries (each field it names, else one)."""
    errors: dict[str, str] = {}
    for error in problem.errors:
        loc = str(error.get("loc", ""))
        parts = [part for part in loc.split(".") if part != "body"]
        name = parts[0] if parts else default_field
        errors.setdefault(name, str(error.get("msg") or problem.detail or problem.title))
    return errors or {default_field: problem.detail or problem.title}


# -- the organisation's calls ---------------------------------------------------------------
@router.get("/calls")
async def calls_page(
    request: Request, pages: PagesDep, session: StaffSession, gateway: GatewayDep
) -> HTMLResponse:
    page = await api.list_calls(gateway, session=session)
    groups: dict[str, list[api.Call]] = {}
    for call in page.items:
        groups.setdefault(call.status, []).append(call)
    ordered = sorted(
        groups.items(),
        key=lambda item: STATE_ORDER.index(item[0]) if item[0] in STATE_ORDER else 99,
    )
    return pages.render(
        request,
        "staff/calls.html",
        {"groups": ordered, "more": page.next_cursor is not None},
        session=session,
    )


# -- posting a call: task list, one page per section, check answers ------------------------
@router.get("/calls/new")
async def new_call_page(request: Request, pages: PagesDep, session: StaffSession) -> HTMLResponse:
    draft = _draft(session)
    sections = [
        {"section": section, "status": drafts.status_of(draft, section.slug)}
        for section in drafts.SECTIONS
    ]
    return pages.render(
        request,
        "staff/new_call.html",
        {"sections": sections, "missing": drafts.missing_sections(draft)},
        session=session,
    )


@router.get("/calls/new/check")
async def check_call_page(request: Request, pages: PagesDep, session: StaffSession) -> Response:
    draft = _draft(session)
    if drafts.missing_sections(draft):
        return see_other("/calls/new")
    errors, _ = session.take_form("call-check")
    return pages.render(
        request,
        "staff/check_call.html",
        {"draft": draft, "call": drafts.payload(draft), "labels": drafts.CONFIDENTIALITY},
        session=session,
        errors=errors,
    )


@router.post("/calls/new/check")
async def post_call(
    form: CheckedForm, session: StaffSession, gateway: GatewayDep
) -> RedirectResponse:
    draft = _draft(session)
    if drafts.missing_sections(draft):
        return see_other("/calls/new")
    try:
        call = await api.create_call(gateway, session=session, call=drafts.payload(draft))
    except GatewayProblem as problem:
        if problem.status not in (400, 409, 422):
            raise
        return back_with_errors(
            session,
            form="call-check",
            url="/calls/new/check",
            errors=_problem_errors(problem, default_field="title"),
            values={},
        )
    _work(session).pop("draft", None)
    try:
        _keep_match(session, await api.match_call(gateway, session=session, call_id=call.id))
    except GatewayProblem:
        session.flash.append("The call is posted, but no panel could be found yet.")
    return see_other(f"/calls/{call.id}/posted")


@router.get("/calls/new/{slug}")
async def section_page(
    slug: str, request: Request, pages: PagesDep, session: StaffSession
) -> HTMLResponse:
    section = drafts.SECTION_BY_SLUG.get(slug)
    if section is None:
        raise PageNotFound("no such section")
    errors, values = session.take_form(f"call-{slug}")
    return pages.render(
        request,
        f"staff/sections/{slug}.html",
        {
            "section": section,
            "values": values or _draft(session),
            "rows": range(1, drafts.PERSPECTIVE_ROWS + 1),
            "labels": drafts.CONFIDENTIALITY,
        },
        session=session,
        errors=errors,
    )


@router.post("/calls/new/{slug}")
async def save_section(slug: str, form: CheckedForm, session: StaffSession) -> RedirectResponse:
    if slug not in drafts.SECTION_BY_SLUG:
        raise PageNotFound("no such section")
    values, errors = drafts.read_section(slug, _form(form), today=datetime.now(UTC).date())
    if errors:
        stash = values
        if slug == "perspectives":
            stash = {"perspectives": values["perspectives"]}
        return back_with_errors(
            session, form=f"call-{slug}", url=f"/calls/new/{slug}", errors=errors, values=stash
        )
    draft = _draft(session)
    draft.update(values)
    if slug not in draft["done"]:
        draft["done"].append(slug)
    if drafts.missing_sections(draft):
        return see_other("/calls/new")
    return see_other("/calls/new/check")


# -- one call -----------------------------------------------------------------------------------
@router.get("/calls/{call_id:uuid}/posted")
async def posted_page(
    call_id: uuid.UUID,
    request: Request,
    pages: PagesDep,
    session: StaffSession,
    gateway: GatewayDep,
) -> HTMLResponse:
    call = await api.get_call(gateway, session=session, call_id=call_id)
    return pages.render(request, "staff/posted.html", {"call": call}, session=session)


@router.get("/calls/{call_id:uuid}")
async def call_page(
    call_id: uuid.UUID,
    request: Request,
    pages: PagesDep,
    session: StaffSession,
    gateway: GatewayDep,
) -> HTMLResponse:
    call = await api.get_call(gateway, session=session, call_id=call_id)
    return pages.render(
        request,
        "staff/call.html",
        {"call": call, "labels": drafts.CONFIDENTIALITY},
        session=session,
    )


@router.get("/calls/{call_id:uuid}/panel")
async def panel_page(
    call_id: uuid.UUID,
    request: Request,
    pages: PagesDep,
    session: StaffSession,
    gateway: GatewayDep,
) -> HTMLResponse:
    # One after the other, not gathered: two parallel calls on a token about to expire would
    # both refresh with the same single-use refresh token, and the gateway ends a session
    # whose refresh token is used twice.
    call = await api.get_call(gateway, session=session, call_id=call_id)
    invitations = (await api.list_invitations(gateway, session=session, call_id=call_id)).items
    match = _match(session, call_id)
    if match is None:
        # Not in this session (signed in again, another officer): the stored last match.
        try:
            match = await api.last_match(gateway, session=session, call_id=call_id)
        except GatewayProblem as problem:
            if problem.status != 404:
                raise
        else:
            _keep_match(session, match)
    errors, _ = session.take_form("panel")
    members: list[dict[str, Any]] = []
    quotas = []
    if match is not None:
        by_ref = {candidate.ref: candidate for candidate in match.candidates}
        members = [
            {"member": member, "candidate": by_ref.get(member.ref)} for member in match.panel
        ]
        quotas = quota_table(perspectives=call.perspectives, match=match, invitations=invitations)
    return pages.render(
        request,
        "staff/panel.html",
        {
            "call": call,
            "match": match,
            "members": members,
            "quotas": quotas,
            "invited": bool(invitations),
            "shortlist_size": len(match.candidates) if match else 0,
        },
        session=session,
        errors=errors,
    )


@router.post("/calls/{call_id:uuid}/panel/match")
async def find_panel(
    call_id: uuid.UUID, form: CheckedForm, session: StaffSession, gateway: GatewayDep
) -> RedirectResponse:
    _keep_match(session, await api.match_call(gateway, session=session, call_id=call_id))
    return see_other(f"/calls/{call_id}/panel")


@router.post("/calls/{call_id:uuid}/panel/swap")
async def swap_member(
    call_id: uuid.UUID, form: CheckedForm, session: StaffSession
) -> RedirectResponse:
    match = _match(session, call_id)
    if match is None:
        return see_other(f"/calls/{call_id}/panel")
    ref = text(form, "ref")
    try:
        swapped, coming = swap(match, ref=ref)
    except SwapError as error:
        return back_with_errors(
            session,
            form="panel",
            url=f"/calls/{call_id}/panel",
            errors={"panel": str(error)},
            values={},
        )
    _keep_match(session, swapped)
    session.flash.append(f"{ref} was swapped for {coming}, the next best on the shortlist.")
    return see_other(f"/calls/{call_id}/panel")


# -- inviting -----------------------------------------------------------------------------------
def _message_key(call_id: uuid.UUID) -> str:
    return f"message:{call_id}"


@router.get("/calls/{call_id:uuid}/invite")
async def invite_page(
    call_id: uuid.UUID,
    request: Request,
    pages: PagesDep,
    session: StaffSession,
    gateway: GatewayDep,
) -> Response:
    call = await api.get_call(gateway, session=session, call_id=call_id)
    match = _match(session, call_id)
    if match is None:
        return see_other(f"/calls/{call_id}/panel")
    errors, values = session.take_form("invite")
    message = values.get("message", _work(session).get(_message_key(call_id), ""))
    return pages.render(
        request,
        "staff/invite.html",
        {
            "call": call,
            "panel": match.panel,
            "message": message,
            "preview": bool(message) and not errors,
        },
        session=session,
        errors=errors,
    )


def _message_errors(message: str) -> dict[str, str]:
    if len(message) > 2000:
        return {"message": "Message must be 2,000 characters or fewer"}
    return {}


@router.post("/calls/{call_id:uuid}/invite/preview")
async def preview_invitation(
    call_id: uuid.UUID, form: CheckedForm, session: StaffSession
) -> RedirectResponse:
    message = text(form, "message")
    errors = _message_errors(message)
    if errors:
        return back_with_errors(
            session,
            form="invite",
            url=f"/calls/{call_id}/invite",
            errors=errors,
            values={"message": message},
        )
    _work(session)[_message_key(call_id)] = message
    return see_other(f"/calls/{call_id}/invite#preview")


@router.post("/calls/{call_id:uuid}/invite")
async def send_invitations(
    call_id: uuid.UUID, form: CheckedForm, session: StaffSession, gateway: GatewayDep
) -> RedirectResponse:
    match = _match(session, call_id)
    if match is None:
        return see_other(f"/calls/{call_id}/panel")
    message = text(form, "message")
    errors = _message_errors(message)
    if errors:
        return back_with_errors(
            session,
            form="invite",
            url=f"/calls/{call_id}/invite",
            errors=errors,
            values={"message": message},
        )
    try:
        batch = await api.invite(
            gateway,
            session=session,
            call_id=call_id,
            refs=[member.ref for member in match.panel],
            message=message or None,
        )
    except GatewayProblem as problem:
        return back_with_errors(
            session,
            form="invite",
            url=f"/calls/{call_id}/invite",
            errors={"message": problem.detail or problem.title},
            values={"message": message},
        )
    _work(session).pop(_message_key(call_id), None)
    sent = len(batch.items)
    note = f"{sent} invitation{'s' if sent != 1 else ''} sent."
    if batch.skipped:
        note += f" {len(batch.skipped)} could not be invited (see the reasons below)."
        _work(session)[f"skipped:{call_id}"] = [s.model_dump() for s in batch.skipped]
    session.flash.append(note)
    return see_other(f"/calls/{call_id}/answers")


# -- answers, ratings -------------------------------------------------------------------------
@router.get("/calls/{call_id:uuid}/answers")
async def answers_page(
    call_id: uuid.UUID,
    request: Request,
    pages: PagesDep,
    session: StaffSession,
    gateway: GatewayDep,
) -> HTMLResponse:
    call = await api.get_call(gateway, session=session, call_id=call_id)
    invitations = (await api.list_invitations(gateway, session=session, call_id=call_id)).items
    contributions = (await api.list_contributions(gateway, session=session, call_id=call_id)).items
    errors, values = session.take_form("rating")
    counts = dict.fromkeys(INVITATION_TAGS, 0)
    for invitation in invitations:
        counts[invitation.status] = counts.get(invitation.status, 0) + 1
    return pages.render(
        request,
        "staff/answers.html",
        {
            "call": call,
            "invitations": invitations,
            "contributions": contributions,
            "tags": INVITATION_TAGS,
            "counts": counts,
            "skipped": _work(session).get(f"skipped:{call_id}", []),
            "values": values,
        },
        session=session,
        errors=errors,
    )


@router.post("/calls/{call_id:uuid}/answers/{ref}/rating")
async def rate_contribution(
    call_id: uuid.UUID, ref: str, form: CheckedForm, session: StaffSession, gateway: GatewayDep
) -> RedirectResponse:
    raw = text(form, "rating")
    comment = text(form, "comment")
    field = f"rating-{ref}"
    errors: dict[str, str] = {}
    if raw not in {"1", "2", "3", "4", "5"}:
        errors[field] = f"Select a rating from 1 to 5 for {ref}"
    if len(comment) > 4000:
        errors[f"comment-{ref}"] = "Comment must be 4,000 characters or fewer"
    if not errors:
        try:
            await api.rate(
                gateway,
                session=session,
                call_id=call_id,
                ref=ref,
                rating=int(raw),
                comment=comment or None,
            )
        except GatewayProblem as problem:
            errors[field] = problem.detail or problem.title
    if errors:
        return back_with_errors(
            session,
            form="rating",
            url=f"/calls/{call_id}/answers",
            errors=errors,
            values={"ref": ref, "comment": comment},
        )
    session.flash.append(f"Your rating of {ref}'s contribution is saved.")
    return see_other(f"/calls/{call_id}/answers")


# -- closing -----------------------------------------------------------------------------------
@router.get("/calls/{call_id:uuid}/close")
async def close_page(
    call_id: uuid.UUID,
    request: Request,
    pages: PagesDep,
    session: StaffSession,
    gateway: GatewayDep,
) -> HTMLResponse:
    call = await api.get_call(gateway, session=session, call_id=call_id)
    contributions = (await api.list_contributions(gateway, session=session, call_id=call_id)).items
    errors, values = session.take_form("close")
    return pages.render(
        request,
        "staff/close.html",
        {"call": call, "values": values, "contributions": contributions},
        session=session,
        errors=errors,
    )


@router.post("/calls/{call_id:uuid}/close")
async def close_call(
    call_id: uuid.UUID, form: CheckedForm, session: StaffSession, gateway: GatewayDep
) -> RedirectResponse:
    how = text(form, "how")
    outcome = text(form, "outcome")
    ticked = [v for v in form.getlist("cited") if isinstance(v, str)]
    errors: dict[str, str] = {}
    if how not in {"close", "cancel"}:
        errors["how"] = "Select whether you are closing the call with an outcome or cancelling it"
    if not outcome:
        errors["outcome"] = (
            "Tell contributors what was done with their input"
            if how != "cancel"
            else "Tell those invited why the call is cancelled"
        )
    elif len(outcome) > (10_000 if how != "cancel" else 2_000):
        limit = "10,000" if how != "cancel" else "2,000"
        errors["outcome"] = f"Outcome must be {limit} characters or fewer"
    if not errors:
        try:
            if how == "cancel":
                cancelled = await api.cancel_call(
                    gateway, session=session, call_id=call_id, reason=outcome
                )
                _work(session)[f"closed:{call_id}"] = {"cancelled": cancelled.withdrawn}
            else:
                cited = await _cited(gateway, session=session, call_id=call_id, ticked=ticked)
                result = await api.close_call(
                    gateway, session=session, call_id=call_id, outcome=outcome, cited=cited
                )
                _work(session)[f"closed:{call_id}"] = result.model_dump(mode="json")
        except GatewayProblem as problem:
            errors["outcome"] = problem.detail or problem.title
        else:
            return see_other(f"/calls/{call_id}/closed")
    return back_with_errors(
        session,
        form="close",
        url=f"/calls/{call_id}/close",
        errors=errors,
        values={"how": how, "outcome": outcome, "cited": ticked},
    )


async def _cited(
    gateway: GatewayClient, *, session: Session, call_id: uuid.UUID, ticked: list[str]
) -> list[api.Cited]:
    """The ticked answers ("<ref>:<answer number>", or "<ref>:comment") as citations; a box
    that names no answer any more (withdrawn since the page was shown) is left out."""
    if not ticked:
        return []
    contributions = (await api.list_contributions(gateway, session=session, call_id=call_id)).items
    by_ref = {c.ref: c for c in contributions}
    cited: list[api.Cited] = []
    for value in ticked:
        ref, _, which = value.partition(":")
        contribution = by_ref.get(ref)
        if contribution is None:
            continue
        if which == "comment":
            cited.append(api.Cited(ref=ref))
        elif which.isdigit() and int(which) < len(contribution.answers):
            cited.append(api.Cited(ref=ref, question=contribution.answers[int(which)].question))
    return cited


@router.get("/calls/{call_id:uuid}/closed")
async def closed_page(
    call_id: uuid.UUID,
    request: Request,
    pages: PagesDep,
    session: StaffSession,
    gateway: GatewayDep,
) -> HTMLResponse:
    call = await api.get_call(gateway, session=session, call_id=call_id)
    stored = _work(session).get(f"closed:{call_id}") or {}
    withdrawn = stored.get("cancelled") if "cancelled" in stored else None
    result = api.CloseResult.model_validate(stored) if "outcome" in stored else None
    return pages.render(
        request,
        "staff/closed.html",
        {"call": call, "result": result, "withdrawn": withdrawn},
        session=session,
    )


# -- the organisation's figures ----------------------------------------------------------------
@router.get("/figures")
async def figures_page(
    request: Request, pages: PagesDep, session: StaffSession, gateway: GatewayDep
) -> HTMLResponse:
    stats = await api.organisation_stats(gateway, session=session)
    chart = charts.bar_chart(
        title=f"Answers to your invitations, last {stats.window_days} days",
        description="Response rate (share of invitations answered) and acceptance rate "
        "(share of answers that accepted).",
        labels=["Response rate", "Acceptance rate"],
        values=[stats.response_rate, stats.acceptance_rate],
        label_heading="Figure",
        value_heading="Rate",
        fmt="percent",
    )
    return pages.render(
        request, "staff/figures.html", {"stats": stats, "chart": chart}, session=session
    )


# -- managers: the webhook ---------------------------------------------------------------------
@router.get("/organisation/webhook")
async def webhook_page(request: Request, pages: PagesDep, session: StaffSession) -> HTMLResponse:
    errors, values = session.take_form("webhook")
    secret = _work(session).pop("webhook_secret", None)
    return pages.render(
        request,
        "staff/webhook.html",
        {"values": values, "secret": secret},
        session=session,
        errors=errors,
    )


@router.post("/organisation/webhook")
async def set_webhook(
    form: CheckedForm, session: StaffSession, gateway: GatewayDep
) -> RedirectResponse:
    url = text(form, "url")
    errors: dict[str, str] = {}
    if not url.startswith("https://") and not url.startswith("http://"):
        errors["url"] = "Enter a web address starting with https://"
    elif len(url) > 2000:
        errors["url"] = "Web address must be 2,000 characters or fewer"
    if not errors:
        try:
            webhook = await api.set_webhook(gateway, session=session, url=url)
        except GatewayProblem as problem:
            errors["url"] = problem.detail or problem.title
        else:
            if webhook.secret:
                _work(session)["webhook_secret"] = webhook.secret
            session.flash.append("Your webhook address is saved.")
            return see_other("/organisation/webhook")
    return back_with_errors(
        session, form="webhook", url="/organisation/webhook", errors=errors, values={"url": url}
    )


# -- managers: members, API keys, audit log ----------------------------------------------------
router.include_router(organisation.router)
