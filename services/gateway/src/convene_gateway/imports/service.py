"""Who may import, and reading the uploaded files (bounded: never more than the limit plus
one chunk is read into memory)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import UploadFile

from convene_common.db import Pool
from convene_common.problems import ServiceError
from convene_gateway.audit import service as audit
from convene_gateway.audit.service import Actor
from convene_gateway.auth.schemas import AdminPrincipal, StaffPrincipal
from convene_gateway.clients.profiles import ProfilesClient
from convene_gateway.clients.profiles_schemas import ImportAccepted, ImportRead

_CHUNK = 1024 * 1024


class UploadTooLargeError(ServiceError):
    status = 413
    slug = "upload-too-large"


@dataclass(frozen=True)
class Importer:
    """An admin (imports for any source) or a manager (their organisation is the source
    body of every row, and they see only its imports)."""

    principal: AdminPrincipal | StaffPrincipal

    @property
    def source_body_id(self) -> uuid.UUID | None:
        if isinstance(self.principal, StaffPrincipal):
            return self.principal.organisation_id
        return None


async def read_upload(upload: UploadFile, *, limit: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise UploadTooLargeError(f"The file may be at most {limit} bytes.")
        parts.append(chunk)
    return b"".join(parts)


async def submit(
    *,
    pool: Pool,
    profiles: ProfilesClient,
    importer: Importer,
    upload: UploadFile,
    file_format: str,
    limit: int,
) -> ImportAccepted:
    content = await read_upload(upload, limit=limit)
    actor = Actor.of(importer.principal)
    accepted = await profiles.submit_import(
        content=content,
        file_format=file_format,
        source_body_id=importer.source_body_id,
        requested_by=f"{actor.kind}:{actor.id}",
    )
    await audit.record_now(
        pool=pool,
        actor=actor,
        action="import.submitted",
        object_type="import",
        object_id=accepted.id,
        organisation_id=importer.source_body_id,
        detail={"format": file_format, "bytes": len(content)},
    )
    return accepted


async def read(*, profiles: ProfilesClient, importer: Importer, import_id: uuid.UUID) -> ImportRead:
    return await profiles.get_import(import_id=import_id, source_body_id=importer.source_body_id)
