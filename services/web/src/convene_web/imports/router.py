"""GET/POST /admin/imports (upload), GET /admin/imports/{id} (progress: a progress bar, a
"Refresh" link, htmx polling when JS runs; the rejected rows), and the citizen's
GET/POST /account/imports ("we found N of your past responses ... use them as evidence?").
Every form is POST -> redirect -> GET."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import UploadFile

from convene_web.dependencies import (
    AdminSession,
    CheckedForm,
    CitizenSession,
    GatewayDep,
    PagesDep,
)
from convene_web.errors import GatewayProblem
from convene_web.forms import back_with_errors, see_other, text
from convene_web.imports import gateway as api

router = APIRouter(tags=["imports"], default_response_class=HTMLResponse)

# What the page accepts before the gateway does: the gateway's own limit is the real one.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
MAX_ANSWERS_BYTES = 2 * 1024 * 1024


@router.get("/admin/imports")
async def upload_page(request: Request, pages: PagesDep, session: AdminSession) -> HTMLResponse:
    errors, values = session.take_form("import")
    return pages.render(
        request, "imports/upload.html", {"values": values}, session=session, errors=errors
    )


@router.post("/admin/imports")
async def upload(form: CheckedForm, session: AdminSession, gateway: GatewayDep) -> RedirectResponse:
    file_format = text(form, "format")
    upload_file = form.get("file")
    errors: dict[str, str] = {}
    if file_format not in {"jsonl", "csv"}:
        errors["format"] = "Select the file's format"
    content = b""
    if not isinstance(upload_file, UploadFile) or not upload_file.filename:
        errors["file"] = "Select a file to import"
    else:
        content = await upload_file.read(MAX_UPLOAD_BYTES + 1)
        if not content:
            errors["file"] = "The selected file is empty"
        elif len(content) > MAX_UPLOAD_BYTES:
            errors["file"] = "The selected file must be smaller than 64 MB"
    if errors:
        return back_with_errors(
            session, form="import", url="/admin/imports", errors=errors, values={}
        )
    assert isinstance(upload_file, UploadFile)
    try:
        job = await api.upload(
            gateway,
            session=session,
            filename=upload_file.filename or "upload",
            content=content,
            file_format=file_format,
        )
    except GatewayProblem as problem:
        if problem.status not in (400, 413, 422):
            raise
        return back_with_errors(
            session,
            form="import",
            url="/admin/imports",
            errors={"file": problem.detail or problem.title},
            values={},
        )
    return see_other(f"/admin/imports/{job.id}")


@router.get("/admin/imports/{import_id:uuid}")
async def progress_page(
    import_id: uuid.UUID,
    request: Request,
    pages: PagesDep,
    session: AdminSession,
    gateway: GatewayDep,
) -> HTMLResponse:
    job = await api.get_job(gateway, session=session, import_id=import_id)
    return pages.render(
        request,
        "imports/progress.html",
        {"job": job, "running": job.status in {"queued", "running"}},
        session=session,
    )


# -- the citizen's confirmation ------------------------------------------------------------------
@router.get("/account/imports")
async def confirm_page(
    request: Request, pages: PagesDep, session: CitizenSession, gateway: GatewayDep
) -> HTMLResponse:
    found = await api.my_imports(gateway, session=session)
    errors, _ = session.take_form("imports")
    return pages.render(
        request, "imports/confirm.html", {"found": found}, session=session, errors=errors
    )


@router.post("/account/imports")
async def decide(
    form: CheckedForm, session: CitizenSession, gateway: GatewayDep
) -> RedirectResponse:
    answer = text(form, "use")
    if answer not in {"yes", "no"}:
        return back_with_errors(
            session,
            form="imports",
            url="/account/imports",
            errors={"use": "Select yes if we may use these responses as evidence"},
            values={},
        )
    await api.decide(gateway, session=session, confirm=answer == "yes")
    return see_other("/account/imports")


# -- the citizen's answers from question-and-answer sites ----------------------------------------
@router.get("/account/answers")
async def answers_page(
    request: Request, pages: PagesDep, session: CitizenSession, gateway: GatewayDep
) -> HTMLResponse:
    answers = await api.my_answers(gateway, session=session)
    errors, values = session.take_form("answers")
    return pages.render(
        request,
        "imports/answers.html",
        {"answers": answers.items, "result": values.get("result")},
        session=session,
        errors=errors,
    )


@router.post("/account/answers")
async def upload_answers(
    form: CheckedForm, session: CitizenSession, gateway: GatewayDep
) -> RedirectResponse:
    upload_file = form.get("file")
    error = None
    content = b""
    if not isinstance(upload_file, UploadFile) or not upload_file.filename:
        error = "Select a file of your answers"
    else:
        content = await upload_file.read(MAX_ANSWERS_BYTES + 1)
        if not content:
            error = "The selected file is empty"
        elif len(content) > MAX_ANSWERS_BYTES:
            error = "The selected file must be smaller than 2 MB"
    if error is None and isinstance(upload_file, UploadFile):
        try:
            result = await api.upload_answers(
                gateway, session=session, filename=upload_file.filename or "", content=content
            )
        except GatewayProblem as problem:
            if problem.status not in (400, 409, 413, 422):
                raise
            error = problem.detail or problem.title
        else:
            session.stash_form("answers", errors={}, values={"result": result.model_dump()})
            return see_other("/account/answers")
    return back_with_errors(
        session, form="answers", url="/account/answers", errors={"file": error or ""}, values={}
    )
