"""Inviting a call's panel (or chosen refs).

The call must be the body's, open and before its deadline, and matched. Refs not in the
call's matches are refused whole (422, nothing changed). Each citizen is re-checked against
the matcher's current store (consent to matching, unavailable periods overlapping [now,
deadline], this month's invitations against their cap; erased citizens) under a per-citizen
transaction lock, so two bodies cannot both take a citizen's last slot. Those who fail are
reported in ``skipped`` with the reason. Each invitation sent records an exposure row and an
email in the same transaction. Idempotency-Key: the first answer is stored and replayed; a
reuse with another request is a 422.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from datetime import datetime

import asyncpg

from convene_common.db import Pool
from convene_matcher.calls.errors import IdempotencyKeyReusedError
from convene_matcher.citizens.store import CitizenStore
from convene_matcher.config import MatcherSettings
from convene_matcher.errors import NotFoundError
from convene_matcher.exposure import repository as exposure
from convene_matcher.exposure.capacity import fits
from convene_matcher.exposure.window import month_start, month_window
from convene_matcher.invitations import events, repository, throttle
from convene_matcher.invitations.errors import (
    CallClosedError,
    CallNotMatchedError,
    InvitationValidationError,
)
from convene_matcher.invitations.repository import MatchRow
from convene_matcher.invitations.schemas import (
    InvitationBatch,
    InvitationCreate,
    Skipped,
    SkipReason,
)
from convene_matcher.invitations.views import body_read, now_utc

logger = logging.getLogger("convene.matcher.invitations")


def request_hash(*, call_id: uuid.UUID, body: InvitationCreate) -> bytes:
    canonical = json.dumps(
        {"call_id": str(call_id), **body.model_dump(mode="json")},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).digest()


async def invite(
    *,
    pool: Pool,
    store: CitizenStore,
    settings: MatcherSettings,
    call_id: uuid.UUID,
    public_body_id: uuid.UUID,
    body: InvitationCreate,
    idempotency_key: str | None,
) -> InvitationBatch:
    digest = request_hash(call_id=call_id, body=body)
    now = now_utc()
    async with pool.acquire() as connection, connection.transaction():
        if idempotency_key is not None:
            await repository.lock_idempotency_key(
                connection, public_body_id=public_body_id, idempotency_key=idempotency_key
            )
            previous = await repository.get_request(
                connection, public_body_id=public_body_id, idempotency_key=idempotency_key
            )
            if previous is not None:
                return _replay(previous, digest)
        call = await repository.lock_call(
            connection, call_id=call_id, public_body_id=public_body_id
        )
        if call is None:
            raise NotFoundError("No such call.")
        if call.status != "open":
            raise CallClosedError("The call is closed; it cannot invite anyone.")
        if call.deadline <= now:
            raise CallClosedError("The call's deadline has passed; it cannot invite anyone.")
        matches = await _chosen_matches(connection, call_id=call_id, refs=body.refs)
        await throttle.check(
            connection,
            settings=settings,
            public_body_id=public_body_id,
            wanted=len(matches),
            now=now,
        )
        already = await repository.invited_citizens(connection, call_id=call_id)
        candidates = [m for m in matches if m.citizen_id not in already]
        skipped = [
            Skipped(ref=m.ref, reason="already_invited") for m in matches if m.citizen_id in already
        ]
        citizen_ids = [m.citizen_id for m in candidates]
        await repository.lock_citizens(connection, citizen_ids=citizen_ids)
        this_month = await exposure.invitations_since(
            connection, citizen_ids=citizen_ids, since=month_start(now)
        )
        start, end = month_window(call.deadline)
        hours_taken = await exposure.accepted_hours(
            connection, month_start=start, month_end=end, citizen_ids=citizen_ids
        )
        invited: list[uuid.UUID] = []
        emails: list[events.EmailRow] = []
        for match in candidates:
            reason = _recheck(
                store,
                citizen_id=match.citizen_id,
                now=now,
                deadline=call.deadline,
                this_month=this_month.get(match.citizen_id, 0),
                hours_accepted=hours_taken.get(match.citizen_id, 0.0),
                hours=call.hours,
            )
            if reason is not None:
                skipped.append(Skipped(ref=match.ref, reason=reason))
                continue
            invitation_id = uuid.uuid4()
            await repository.insert_invitation(
                connection,
                invitation_id=invitation_id,
                call_id=call_id,
                ref=match.ref,
                citizen_id=match.citizen_id,
                public_body_id=public_body_id,
                message=body.message,
                created_at=now,
            )
            await exposure.record_invitation(
                connection,
                citizen_id=match.citizen_id,
                public_body_id=public_body_id,
                call_id=call_id,
                invited_at=now,
            )
            emails.append(
                events.email(
                    kind="invitation",
                    citizen_id=match.citizen_id,
                    invitation_id=invitation_id,
                    call_id=call_id,
                )
            )
            invited.append(invitation_id)
        await events.send_emails(connection, rows=emails)
        rows = await repository.list_for_call(connection, call_id=call_id)
        by_id = {row.id: row for row in rows}
        result = InvitationBatch(
            call_id=call_id,
            items=[body_read(by_id[invitation_id], now=now) for invitation_id in invited],
            skipped=skipped,
        )
        if idempotency_key is not None:
            await repository.save_request(
                connection,
                public_body_id=public_body_id,
                idempotency_key=idempotency_key,
                call_id=call_id,
                request_hash=digest,
                response=result.model_dump(mode="json"),
            )
    logger.info(
        "invitations sent",
        extra={"call_id": str(call_id), "invited": len(invited), "skipped": len(skipped)},
    )
    return result


async def _chosen_matches(
    connection: repository.Connection, *, call_id: uuid.UUID, refs: list[str] | None
) -> list[MatchRow]:
    """The proposed panel (refs None) or the given refs in their order (all must exist)."""
    if refs is None:
        matches = await repository.panel_matches(connection, call_id=call_id)
        if not matches:
            raise CallNotMatchedError(
                "The call has no proposed panel yet: match it first "
                "(POST /v1/calls/{id}/match), or give refs from its shortlist."
            )
        return matches
    wanted = list(dict.fromkeys(refs))
    matches = await repository.matches_by_ref(connection, call_id=call_id, refs=wanted)
    unknown = sorted(set(wanted) - {m.ref for m in matches})
    if unknown:
        raise InvitationValidationError(
            "refs", f"not candidates of this call: {', '.join(unknown[:20])}"
        )
    order = {ref: position for position, ref in enumerate(wanted)}
    matches.sort(key=lambda m: order[m.ref])
    return matches


def _replay(previous: asyncpg.Record, digest: bytes) -> InvitationBatch:
    if bytes(previous["request_hash"]) != digest:
        raise IdempotencyKeyReusedError(
            "This Idempotency-Key was used with a different request; use a new key."
        )
    return InvitationBatch.model_validate(previous["response"])


def _recheck(
    store: CitizenStore,
    *,
    citizen_id: str,
    now: datetime,
    deadline: datetime,
    this_month: int,
    hours_accepted: float,
    hours: float | None,
) -> SkipReason | None:
    """The hard filters that may have changed since the match (None: may be invited)."""
    record = store.get(citizen_id)
    if record is None:
        return "unavailable_citizen"
    snapshot = record.snapshot
    if not snapshot.consent.matching:
        return "consent"
    for period in snapshot.availability.unavailable:
        if period.start < deadline and period.end > now:
            return "availability"
    cap = snapshot.availability.max_invitations_per_month
    if cap is not None and this_month >= cap:
        return "invitation_cap"
    limit = snapshot.availability.hours_per_month
    if not fits(hours_per_month=limit, accepted_hours=hours_accepted, hours=hours):
        return "hours_per_month"
    return None
