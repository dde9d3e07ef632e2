"""Admin pages: matching configurations (list, settings, diff, create from another,
preview on a real call, activate, roll back, history), evaluations, exposure, organisations
and keys, index and change-feed status, dead letters.

Every form is POST -> redirect -> GET with the error summary on the GET.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from convene_web import charts
from convene_web.admin import configs
from convene_web.admin import gateway as api
from convene_web.dependencies import AdminSession, CheckedForm, GatewayDep, PagesDep
from convene_web.errors import GatewayProblem
from convene_web.forms import back_with_errors, see_other, text
from convene_web.staff import gateway as staff_api

router = APIRouter(prefix="/admin", tags=["admin"], default_response_class=HTMLResponse)

# The measures an evaluation reports, as the comparison charts name them.
HISTORY_MEASURES = (
    ("ndcg_at_10", "nDCG@10"),
    ("acceptance_rate_at_10", "Acceptance"),
    ("quota_coverage", "Quota coverage"),
    ("top5_share", "Top-5% share"),
    ("gini", "Gini"),
    ("new_voices_rate", "New voices"),
)


def _problem_text(problem: GatewayProblem) -> str:
    details = [str(e.get("msg", "")) + f" ({e.get('loc', '')})" for e in problem.errors]
    return "; ".join(details) if details else (problem.detail or problem.title)


def _config_id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None


# -- configurations -----------------------------------------------------------------------------
@router.get("/configs")
async def configs_page(
    request: Request, pages: PagesDep, session: AdminSession, gateway: GatewayDep
) -> HTMLResponse:
    listing = await api.list_configs(gateway, session=session)
    history = await api.activations(gateway, session=session)
    errors, values = session.take_form("configs")
    return pages.render(
        request,
        "admin/configs.html",
        {"configs": listing.items, "history": history.items, "values": values},
        session=session,
        errors=errors,
    )


@router.get("/configs/diff")
async def diff_page(
    request: Request,
    pages: PagesDep,
    session: AdminSession,
    gateway: GatewayDep,
    a: str = "",
    b: str = "",
) -> Response:
    left_id, right_id = _config_id(a), _config_id(b)
    errors: dict[str, str] = {}
    if left_id is None:
        errors["a"] = "Select the first configuration"
    if right_id is None:
        errors["b"] = "Select the second configuration"
    if errors or left_id is None or right_id is None:
        return back_with_errors(
            session, form="configs", url="/admin/configs", errors=errors, values={"a": a, "b": b}
        )
    left = await api.get_config(gateway, session=session, config_id=left_id)
    right = await api.get_config(gateway, session=session, config_id=right_id)
    return pages.render(
        request,
        "admin/diff.html",
        {"left": left, "right": right, "differences": configs.diff(left.settings, right.settings)},
        session=session,
    )


@router.get("/configs/new")
async def new_config_page(
    request: Request, pages: PagesDep, session: AdminSession, gateway: GatewayDep, base: str = ""
) -> HTMLResponse:
    base_id = _config_id(base)
    origin = (
        await api.get_config(gateway, session=session, config_id=base_id)
        if base_id is not None
        else await api.active_config(gateway, session=session)
    )
    errors, values = session.take_form("new-config")
    return pages.render(
        request,
        "admin/new_config.html",
        {"base": origin, "settings": configs.flatten(origin.settings), "values": values},
        session=session,
        errors=errors,
    )


@router.post("/configs/new")
async def create_config(
    form: CheckedForm, session: AdminSession, gateway: GatewayDep
) -> RedirectResponse:
    base_id = _config_id(text(form, "base"))
    submitted = {k: v for k, v in form.items() if isinstance(v, str)}
    note = text(form, "note")
    back = f"/admin/configs/new?base={base_id}" if base_id else "/admin/configs/new"
    if base_id is None:
        return see_other("/admin/configs")
    base = await api.get_config(gateway, session=session, config_id=base_id)
    settings, errors = configs.apply_changes(base.settings, submitted)
    if not note:
        errors["note"] = "Say what this configuration changes and why"
    elif len(note) > 2000:
        errors["note"] = "Note must be 2,000 characters or fewer"
    if not errors:
        try:
            created = await api.create_config(
                gateway, session=session, settings=settings, note=note
            )
        except GatewayProblem as problem:
            if problem.status != 422:
                raise
            errors["note"] = f"The matcher refused these settings: {_problem_text(problem)}"
        else:
            session.flash.append(f"Configuration {created.id} created. It is not active yet.")
            return see_other(f"/admin/configs/{created.id}")
    return back_with_errors(session, form="new-config", url=back, errors=errors, values=submitted)


@router.get("/configs/{config_id:int}")
async def config_page(
    config_id: int, request: Request, pages: PagesDep, session: AdminSession, gateway: GatewayDep
) -> HTMLResponse:
    config = await api.get_config(gateway, session=session, config_id=config_id)
    errors, values = session.take_form(f"config-{config_id}")
    return pages.render(
        request,
        "admin/config.html",
        {"config": config, "settings": configs.flatten(config.settings), "values": values},
        session=session,
        errors=errors,
    )


@router.post("/configs/{config_id:int}/activate")
async def activate(
    config_id: int, form: CheckedForm, session: AdminSession, gateway: GatewayDep
) -> RedirectResponse:
    await api.activate_config(gateway, session=session, config_id=config_id)
    session.flash.append(f"Configuration {config_id} is now active.")
    return see_other("/admin/configs")


@router.post("/configs/rollback")
async def rollback(form: CheckedForm, session: AdminSession, gateway: GatewayDep) -> Response:
    try:
        config = await api.rollback(gateway, session=session)
    except GatewayProblem as problem:
        if problem.status not in (404, 409):
            raise
        return back_with_errors(
            session,
            form="configs",
            url="/admin/configs",
            errors={"rollback": problem.detail or "There is no earlier configuration"},
            values={},
        )
    session.flash.append(f"Rolled back: configuration {config.id} is active again.")
    return see_other("/admin/configs")


@router.get("/configs/{config_id:int}/preview")
async def preview_page(
    config_id: int,
    request: Request,
    pages: PagesDep,
    session: AdminSession,
    gateway: GatewayDep,
    call_id: str = "",
) -> Response:
    try:
        call = uuid.UUID(call_id.strip())
    except ValueError:
        return back_with_errors(
            session,
            form=f"config-{config_id}",
            url=f"/admin/configs/{config_id}",
            errors={"call_id": "Enter the call's reference, like 0b7c…-…, from its page"},
            values={"call_id": call_id},
        )
    try:
        preview = await api.preview(gateway, session=session, config_id=config_id, call_id=call)
    except GatewayProblem as problem:
        if problem.status not in (404, 409, 422):
            raise
        return back_with_errors(
            session,
            form=f"config-{config_id}",
            url=f"/admin/configs/{config_id}",
            errors={"call_id": problem.detail or "No call has that reference"},
            values={"call_id": call_id},
        )
    return pages.render(request, "admin/preview.html", {"preview": preview}, session=session)


# -- evaluations -----------------------------------------------------------------------------
@router.post("/evaluations")
async def start_evaluation(
    form: CheckedForm, session: AdminSession, gateway: GatewayDep
) -> RedirectResponse:
    config_id = _config_id(text(form, "config_id"))
    kind = text(form, "kind")
    back = f"/admin/configs/{config_id}" if config_id else "/admin/configs"
    if config_id is None:
        return see_other("/admin/configs")
    if kind not in {"history", "goldstandard"}:
        return back_with_errors(
            session,
            form=f"config-{config_id}",
            url=back,
            errors={"kind": "Select what to evaluate the configuration on"},
            values={},
        )
    try:
        job = await api.start_evaluation(gateway, session=session, config_id=config_id, kind=kind)
    except GatewayProblem as problem:
        if problem.status not in (404, 409, 422):
            raise
        return back_with_errors(
            session,
            form=f"config-{config_id}",
            url=back,
            errors={"kind": problem.detail or problem.title},
            values={},
        )
    return see_other(f"/admin/evaluations/{job.id}")


def _comparison(job: api.Evaluation) -> charts.Chart | None:
    result = job.result or {}
    mine: dict[str, Any] = result.get("config") or {}
    active: dict[str, Any] = result.get("active") or {}
    if job.kind != "history" or not mine:
        return None
    series: dict[str, list[float | None]] = {
        f"Configuration {job.config_id}": [mine.get(key) for key, _ in HISTORY_MEASURES]
    }
    if active:
        series["Active configuration"] = [active.get(key) for key, _ in HISTORY_MEASURES]
    return charts.grouped_bar_chart(
        title=f"Configuration {job.config_id} beside the active one",
        description="Replayed outcomes: nDCG@10, acceptance, quota coverage, the share of "
        "panel seats going to the top 5% of citizens, Gini and new voices, each 0 to 100%.",
        labels=[label for _, label in HISTORY_MEASURES],
        series=series,
        label_heading="Measure",
        fmt="percent",
    )


@router.get("/evaluations/{evaluation_id:uuid}")
async def evaluation_page(
    evaluation_id: uuid.UUID,
    request: Request,
    pages: PagesDep,
    session: AdminSession,
    gateway: GatewayDep,
) -> HTMLResponse:
    job = await api.get_evaluation(gateway, session=session, evaluation_id=evaluation_id)
    return pages.render(
        request,
        "admin/evaluation.html",
        {"job": job, "chart": _comparison(job), "running": job.status in {"queued", "running"}},
        session=session,
    )


# -- exposure ------------------------------------------------------------------------------------
@router.get("/exposure")
async def exposure_page(
    request: Request, pages: PagesDep, session: AdminSession, gateway: GatewayDep, days: int = 365
) -> HTMLResponse:
    days = min(max(days, 1), 3650)
    figures = await api.exposure(gateway, session=session, days=days)
    points = [charts.LorenzPoint(p.population, p.share) for p in figures.lorenz]
    chart = charts.lorenz_curve(
        title=f"Who receives the invitations, last {days} days",
        description=(
            "Lorenz curve of invitations per citizen: the further the curve sags below the "
            "diagonal of equality, the more invitations go to few people. Gini "
            + ("not known" if figures.gini is None else f"{figures.gini:.3f}")
            + "."
        ),
        points=points,
        gini=figures.gini,
        top_5_percent_share=figures.top_5_percent_share,
    )
    return pages.render(
        request,
        "admin/exposure.html",
        {"figures": figures, "chart": chart, "days": days},
        session=session,
    )


# -- organisations, keys, index, dead letters ---------------------------------------------------
@router.get("/organisations")
async def organisations_page(
    request: Request, pages: PagesDep, session: AdminSession, gateway: GatewayDep
) -> HTMLResponse:
    listing = await api.list_organisations(gateway, session=session)
    return pages.render(
        request, "admin/organisations.html", {"organisations": listing.items}, session=session
    )


@router.get("/organisations/{organisation_id:uuid}/keys")
async def keys_page(
    organisation_id: uuid.UUID,
    request: Request,
    pages: PagesDep,
    session: AdminSession,
    gateway: GatewayDep,
) -> HTMLResponse:
    keys = await api.list_api_keys(gateway, session=session, organisation_id=organisation_id)
    return pages.render(
        request,
        "admin/keys.html",
        {"keys": keys.items, "organisation_id": organisation_id},
        session=session,
    )


@router.get("/index")
async def index_page(
    request: Request, pages: PagesDep, session: AdminSession, gateway: GatewayDep
) -> HTMLResponse:
    status = await api.index_status(gateway, session=session)
    return pages.render(request, "admin/index.html", {"status": status}, session=session)


@router.get("/dead-letters")
async def dead_letters_page(
    request: Request, pages: PagesDep, session: AdminSession, gateway: GatewayDep
) -> HTMLResponse:
    page = await api.dead_letters(gateway, session=session)
    return pages.render(request, "admin/dead_letters.html", {"items": page.items}, session=session)


@router.get("/audit")
async def audit_page(
    request: Request,
    pages: PagesDep,
    session: AdminSession,
    gateway: GatewayDep,
    cursor: str | None = None,
) -> HTMLResponse:
    page = await staff_api.admin_audit(gateway, session=session, cursor=cursor)
    return pages.render(
        request,
        "staff/audit.html",
        {
            "entries": page.items,
            "next_cursor": page.next_cursor,
            "base": "/admin/audit",
            "title": "Audit log",
        },
        session=session,
    )
