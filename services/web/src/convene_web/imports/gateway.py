"""The gateway calls the import pages make."""

from __future__ import annotations

import uuid

from pydantic import Field

from convene_web.gateway import GatewayClient
from convene_web.sessions import Session
from convene_web.staff.gateway import Read, request


class Rejected(Read):
    line: int
    reason: str


class ImportJob(Read):
    id: uuid.UUID
    status: str
    progress_percent: int
    rows: int = 0
    imported: int = 0
    pending_confirmation: int = 0
    unclaimed: int = 0
    duplicates: int = 0
    rejected_count: int = 0
    rejected: list[Rejected] = Field(default_factory=list)
    error: str | None = None


class SourceCount(Read):
    source: str
    count: int


class MyImports(Read):
    pending_count: int
    pending_by_source: list[SourceCount]


async def upload(
    gateway: GatewayClient, *, session: Session, filename: str, content: bytes, file_format: str
) -> ImportJob:
    response = await gateway.call(
        "POST",
        "/v1/admin/imports",
        session=session,
        data={"format": file_format},
        files={"file": (filename or "upload", content, "application/octet-stream")},
    )
    return ImportJob.model_validate(response.json())


async def get_job(gateway: GatewayClient, *, session: Session, import_id: uuid.UUID) -> ImportJob:
    return await request(
        gateway, "GET", f"/v1/admin/imports/{import_id}", session=session, model=ImportJob
    )


async def my_imports(gateway: GatewayClient, *, session: Session) -> MyImports:
    return await request(gateway, "GET", "/v1/me/imports", session=session, model=MyImports)


async def decide(gateway: GatewayClient, *, session: Session, confirm: bool) -> None:
    verb = "confirm" if confirm else "decline"
    await gateway.json("POST", f"/v1/me/imports/{verb}", session=session, json={})


class AnswersImported(Read):
    imported: int
    duplicates: int
    rejected: list[Rejected] = Field(default_factory=list)
    total_answers: int


class Answer(Read):
    site: str
    question_title: str
    score: int
    accepted: bool


class AnswerList(Read):
    items: list[Answer]


async def upload_answers(
    gateway: GatewayClient, *, session: Session, filename: str, content: bytes
) -> AnswersImported:
    response = await gateway.call(
        "POST",
        "/v1/me/answers-import",
        session=session,
        files={"file": (filename or "answers", content, "application/octet-stream")},
    )
    return AnswersImported.model_validate(response.json())


async def my_answers(gateway: GatewayClient, *, session: Session) -> AnswerList:
    return await request(gateway, "GET", "/v1/me/answers", session=session, model=AnswerList)
