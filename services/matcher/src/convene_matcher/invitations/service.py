"""Invitation rules. Every write is one transaction with its exposure rows and outbox rows.

- Inviting: the call must be the body's, open and before its deadline, and matched. Refs not
  in the call's matches are refused whole (422, nothing changed). Each citizen is re-checked
  against the matcher's current store (consent to matching, unavailable periods overlapping
  [now, deadline], this month's invitations against their cap; erased citizens) under a
  per-citizen transaction lock, so two bodies cannot both take a citizen's last slot. Those
  who fail are reported in ``skipped`` with the reason. Idempotency-Key: the first answer is
  stored and replayed; a reuse with another request is a 422.
- Expiry: a pending invitation whose call's deadline has passed reads as ``expired``.
- Answers: accept (hours_offered at most the hours asked; default the hours asked), decline
  (optional reason), undo (back to pending) -- each only while the call is open and before
  its deadline. Accepting twice, answering a declined invitation without undoing, an
  expired or withdrawn invitation: 409 problems. Undo is refused once the body has rated.
- Rating: only accepted invitations; the rating goes to the profiles ledger (contribution id
  = invitation id, topic = the call title) and is recorded here once per body.
- Withdrawing one invitation (the body): a pending or accepted invitation of the body's open
  call, before its deadline; the citizen is emailed and the body's webhook told. Withdrawing a
  declined, already withdrawn or rated invitation, or after the deadline or closing: 409.
  Answering a withdrawn invitation: 409 ``invitation-withdrawn``.
- Closing: the call becomes closed, pending invitations are withdrawn, and every contributor
  (accepted invitation) is sent the outcome. Closing twice: 409.
- Confidentiality (the citizen's view of the call, ``call_summary``): ``public`` shows every
  detail; ``restricted`` shows title, description and questions (the wanted skills once
  accepted); ``confidential`` shows only the title and a note until the citizen accepts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

import asyncpg
import httpx

from convene_common.cursors import InvalidCursorError, decode_cursor, encode_cursor
from convene_common.internal_auth import INTERNAL_TOKEN_HEADER
from convene_matcher.calls.errors import IdempotencyKeyReusedError
from convene_matcher.citizens.store import CitizenStore
from convene_matcher.config import MatcherSettings
from convene_matcher.errors import NotFoundError
from convene_matcher.invitations import figures, repository
from convene_matcher.invitations.errors import (
    AlreadyAnsweredError,
    CallClosedError,
    CallNotMatchedError,
    ContributionNotAcceptedError,
    DuplicateRatingError,
    InvitationDeclinedError,
    InvitationExpiredError,
    InvitationThrottledError,
    InvitationValidationError,
    InvitationWithdrawnError,
    NothingToUndoError,
    ProfilesUnavailableError,
    RatingLockedError,
)
from convene_matcher.invitations.schemas import (
    AcceptRequest,
    BodyStats,
    CallSummary,
    CitizenInvitationDetail,
    CitizenInvitationPage,
    CitizenInvitationRead,
    CloseRequest,
    CloseResult,
    DeclineRequest,
    EvidenceShown,
    ExposureFigures,
    InvitationBatch,
    InvitationBodyRead,
    InvitationCreate,
    InvitationList,
    InvitationStatus,
    LorenzPoint,
    RatingCreate,
    RatingRead,
    Skipped,
    WhyYou,
)
from convene_matcher.notifications import repository as outbox
from convene_matcher.routing.repository import record_invitation
from convene_matcher.routing.service import month_start

logger = logging.getLogger("convene.matcher.invitations")

Pool: TypeAlias = "asyncpg.Pool[Any]"
TOPIC_MAX_CHARS = 300


def _now() -> datetime:
    return datetime.now(UTC)


def effective_status(row: asyncpg.Record, *, now: datetime) -> InvitationStatus:
    status: InvitationStatus = row["status"]
    if status == "pending" and row["deadline"] <= now:
        return "expired"
    return status


def _evidence(row: asyncpg.Record) -> list[dict[str, Any]]:
    explanation = _json(row["explanation"])
    evidence = explanation.get("evidence", [])
    return evidence if isinstance(evidence, list) else []


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def body_read(row: asyncpg.Record, *, now: datetime) -> InvitationBodyRead:
    status = effective_status(row, now=now)
    return InvitationBodyRead(
        id=row["id"],
        call_id=row["call_id"],
        ref=row["ref"],
        status=status,
        fills=list(row["fills"] or []),
        explanation=_json(row["explanation"]),
        message=row["message"],
        hours_offered=row["hours_offered"],
        invited_at=row["created_at"],
        answered_at=row["answered_at"],
        rating=row["rating"],
        contact_citizen_id=row["citizen_id"] if status == "accepted" else None,
    )


def citizen_read(row: asyncpg.Record, *, now: datetime) -> CitizenInvitationRead:
    return CitizenInvitationRead(
        id=row["id"],
        call_id=row["call_id"],
        status=effective_status(row, now=now),
        call_title=row["call_title"],
        public_body_name=row["public_body_name"],
        deadline=row["deadline"],
        hours_asked=row["hours_asked"],
        hours_offered=row["hours_offered"],
        decline_reason=row["decline_reason"],
        invited_at=row["created_at"],
        answered_at=row["answered_at"],
    )


CONFIDENTIAL_NOTE = (
    "This call is confidential: its description, questions and the skills it asks for are "
    "shown once you accept. You can undo your answer until the deadline."
)
RESTRICTED_NOTE = "The skills this restricted call asks for are shown once you accept."


def call_summary(row: asyncpg.Record) -> CallSummary:
    """Tiers, until the citizen accepts: ``public`` shows everything; ``restricted`` title,
    description and questions; ``confidential`` the title and a note (with the body, deadline
    and hours, which the invitation itself states). Accepted: everything."""
    summary = CallSummary(
        id=row["call_id"],
        title=row["call_title"],
        public_body_name=row["public_body_name"],
        confidentiality=row["confidentiality"],
        deadline=row["deadline"],
        hours=row["hours_asked"],
        status=row["call_status"],
    )
    tier = row["confidentiality"] if row["status"] != "accepted" else "public"
    if tier == "confidential":
        summary.withheld = ["description", "questions", "skills"]
        summary.note = CONFIDENTIAL_NOTE
        return summary
    summary.description = row["description"]
    summary.questions = list(_json(row["questions"]))
    if tier == "restricted":
        summary.withheld = ["skills"]
        summary.note = RESTRICTED_NOTE
        return summary
    summary.skills = [skill["label"] for skill in _json(row["skills"])]
    return summary


def citizen_detail(row: asyncpg.Record, *, now: datetime) -> CitizenInvitationDetail:
    base = citizen_read(row, now=now)
    explanation = _json(row["explanation"])
    open_call = row["call_status"] == "open" and row["deadline"] > now
    return CitizenInvitationDetail(
        **base.model_dump(),
        message=row["message"],
        why_you=WhyYou(
            evidence=[EvidenceShown.model_validate(e) for e in _evidence(row)],
            roles=list(explanation.get("roles", [])),
            fills=list(row["fills"] or []),
        ),
        call=call_summary(row),
        outcome=row["outcome"],
        can_undo=open_call and base.status in ("accepted", "declined") and row["rating"] is None,
    )


def request_hash(*, call_id: uuid.UUID, body: InvitationCreate) -> bytes:
    canonical = json.dumps(
        {"call_id": str(call_id), **body.model_dump(mode="json")},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).digest()


# -- public bodies ----------------------------------------------------------------------
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
    now = _now()
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
        if call["status"] != "open":
            raise CallClosedError("The call is closed; it cannot invite anyone.")
        if call["deadline"] <= now:
            raise CallClosedError("The call's deadline has passed; it cannot invite anyone.")
        if body.refs is None:
            matches = await repository.panel_matches(connection, call_id=call_id)
            if not matches:
                raise CallNotMatchedError(
                    "The call has no proposed panel yet: match it first "
                    "(POST /v1/calls/{id}/match), or give refs from its shortlist."
                )
        else:
            refs = list(dict.fromkeys(body.refs))
            matches = await repository.matches_by_ref(connection, call_id=call_id, refs=refs)
            unknown = sorted(set(refs) - {m["ref"] for m in matches})
            if unknown:
                raise InvitationValidationError(
                    "refs", f"not candidates of this call: {', '.join(unknown[:20])}"
                )
            order = {ref: position for position, ref in enumerate(refs)}
            matches.sort(key=lambda m: order[m["ref"]])
        await _check_throttle(
            connection,
            settings=settings,
            public_body_id=public_body_id,
            wanted=len(matches),
            now=now,
        )
        already = await repository.invited_citizens(connection, call_id=call_id)
        candidates = [m for m in matches if m["citizen_id"] not in already]
        skipped = [
            Skipped(ref=m["ref"], reason="already_invited")
            for m in matches
            if m["citizen_id"] in already
        ]
        citizen_ids = [m["citizen_id"] for m in candidates]
        await repository.lock_citizens(connection, citizen_ids=citizen_ids)
        this_month = await repository.invitations_this_month(
            connection, citizen_ids=citizen_ids, month_start=month_start(now)
        )
        invited: list[tuple[uuid.UUID, asyncpg.Record]] = []
        notifications: list[tuple[str, outbox.Channel, str, dict[str, Any]]] = []
        for match in candidates:
            reason = _recheck(
                store,
                citizen_id=match["citizen_id"],
                now=now,
                deadline=call["deadline"],
                this_month=this_month.get(match["citizen_id"], 0),
            )
            if reason is not None:
                skipped.append(Skipped(ref=match["ref"], reason=reason))
                continue
            invitation_id = uuid.uuid4()
            await repository.insert_invitation(
                connection,
                invitation_id=invitation_id,
                call_id=call_id,
                ref=match["ref"],
                citizen_id=match["citizen_id"],
                public_body_id=public_body_id,
                message=body.message,
                created_at=now,
            )
            await record_invitation(
                connection,
                citizen_id=match["citizen_id"],
                public_body_id=public_body_id,
                call_id=call_id,
                invited_at=now,
            )
            notifications.append(
                (
                    "invitation",
                    "email",
                    match["citizen_id"],
                    {"invitation_id": str(invitation_id), "call_id": str(call_id)},
                )
            )
            invited.append((invitation_id, match))
        await outbox.enqueue_many(connection, rows=notifications)
        rows = await repository.list_for_call(connection, call_id=call_id)
        by_id = {row["id"]: row for row in rows}
        result = InvitationBatch(
            call_id=call_id,
            items=[body_read(by_id[invitation_id], now=now) for invitation_id, _ in invited],
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


def _replay(previous: asyncpg.Record, digest: bytes) -> InvitationBatch:
    if bytes(previous["request_hash"]) != digest:
        raise IdempotencyKeyReusedError(
            "This Idempotency-Key was used with a different request; use a new key."
        )
    return InvitationBatch.model_validate(previous["response"])


def _recheck(
    store: CitizenStore, *, citizen_id: str, now: datetime, deadline: datetime, this_month: int
) -> Any:
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
    return None


async def _check_throttle(
    connection: repository.Connection,
    *,
    settings: MatcherSettings,
    public_body_id: uuid.UUID,
    wanted: int,
    now: datetime,
) -> None:
    stats, oldest = await _body_stats(
        connection, settings=settings, public_body_id=public_body_id, now=now
    )
    if not stats.throttled:
        return
    if stats.invitations_last_24h + wanted <= settings.throttle_daily_invitations:
        return
    retry_after = 3600
    if oldest is not None:
        retry_after = max(60, int((oldest + timedelta(hours=24) - now).total_seconds()) + 1)
    raise InvitationThrottledError(
        f"Invitations are limited to {settings.throttle_daily_invitations} a day for this "
        f"organisation: only {stats.response_rate or 0:.0%} of its last "
        f"{stats.invitations_sent} invitations were answered (below "
        f"{settings.throttle_min_response_rate:.0%}). Invite fewer, better-matched people, "
        "or wait for answers.",
        retry_after_seconds=retry_after,
        figures={
            "response_rate": stats.response_rate,
            "invitations_last_24h": stats.invitations_last_24h,
            "daily_limit": settings.throttle_daily_invitations,
        },
    )


async def _body_stats(
    connection: repository.Connection,
    *,
    settings: MatcherSettings,
    public_body_id: uuid.UUID,
    now: datetime,
) -> tuple[BodyStats, datetime | None]:
    """The body's figures, and its oldest invitation of the last 24 hours (Retry-After)."""
    row = await repository.body_figures(
        connection,
        public_body_id=public_body_id,
        since=now - timedelta(days=settings.throttle_window_days),
        due_before=now - timedelta(hours=settings.throttle_grace_hours),
        day_start=now - timedelta(hours=24),
    )
    sent, answered, due = int(row["sent"]), int(row["answered"]), int(row["due"])
    response_rate = answered / due if due else None
    throttled = (
        due >= settings.throttle_min_due
        and response_rate is not None
        and response_rate < settings.throttle_min_response_rate
    )
    median = row["median_seconds"]
    stats = BodyStats(
        public_body_id=public_body_id,
        window_days=settings.throttle_window_days,
        invitations_sent=sent,
        answered=answered,
        accepted=int(row["accepted"]),
        declined=int(row["declined"]),
        response_rate=round(response_rate, 4) if response_rate is not None else None,
        acceptance_rate=round(int(row["accepted"]) / answered, 4) if answered else None,
        median_hours_to_answer=round(float(median) / 3600, 3) if median is not None else None,
        invitations_last_24h=int(row["last_day"]),
        throttled=throttled,
        throttle_reason=(
            f"response rate {response_rate:.0%} below "
            f"{settings.throttle_min_response_rate:.0%} over {due} invitations: at most "
            f"{settings.throttle_daily_invitations} invitations a day"
            if throttled and response_rate is not None
            else None
        ),
    )
    return stats, row["oldest_in_day"]


async def body_stats(
    *, pool: Pool, settings: MatcherSettings, public_body_id: uuid.UUID
) -> BodyStats:
    async with pool.acquire() as connection:
        stats, _ = await _body_stats(
            connection, settings=settings, public_body_id=public_body_id, now=_now()
        )
    return stats


async def list_for_call(
    *, pool: Pool, call_id: uuid.UUID, public_body_id: uuid.UUID
) -> InvitationList:
    now = _now()
    async with pool.acquire() as connection:
        call = await repository.get_call(connection, call_id=call_id, public_body_id=public_body_id)
        if call is None:
            raise NotFoundError("No such call.")
        rows = await repository.list_for_call(connection, call_id=call_id)
    return InvitationList(items=[body_read(row, now=now) for row in rows])


async def rate(
    *,
    pool: Pool,
    profiles: httpx.AsyncClient,
    internal_token: str | None,
    call_id: uuid.UUID,
    public_body_id: uuid.UUID,
    ref: str,
    body: RatingCreate,
) -> RatingRead:
    async with pool.acquire() as connection:
        call = await repository.get_call(connection, call_id=call_id, public_body_id=public_body_id)
        if call is None:
            raise NotFoundError("No such call.")
        row = await repository.get_for_call_ref(connection, call_id=call_id, ref=ref)
        if row is None:
            raise NotFoundError("No invitation of this call has that ref.")
        if row["status"] != "accepted":
            raise ContributionNotAcceptedError(
                "Only a contribution whose invitation was accepted can be rated."
            )
        if row["rating"] is not None:
            raise DuplicateRatingError("This contribution has already been rated by you.")
    headers = {INTERNAL_TOKEN_HEADER: internal_token} if internal_token else {}
    try:
        response = await profiles.post(
            f"/v1/citizens/{row['citizen_id']}/ratings",
            json={
                "public_body_id": str(public_body_id),
                "contribution_id": str(row["id"]),
                "rating": body.rating,
                "comment": body.comment,
                "topic": (row["call_title"] or "")[:TOPIC_MAX_CHARS] or None,
            },
            headers=headers,
            timeout=10.0,
        )
    except httpx.HTTPError as exc:
        raise ProfilesUnavailableError(
            "The ratings ledger is unavailable; try again shortly.", headers={"Retry-After": "5"}
        ) from exc
    if response.status_code not in (201, 409):
        logger.error("rating refused by profiles", extra={"status": response.status_code})
        raise ProfilesUnavailableError(
            "The ratings ledger could not record the rating; try again shortly.",
            headers={"Retry-After": "5"},
        )
    async with pool.acquire() as connection:
        saved = await repository.insert_rating(
            connection,
            invitation_id=row["id"],
            public_body_id=public_body_id,
            rating=body.rating,
            comment=body.comment,
        )
    if saved is None or response.status_code == 409:
        raise DuplicateRatingError("This contribution has already been rated by you.")
    return RatingRead(
        call_id=call_id,
        ref=ref,
        rating=saved["rating"],
        comment=saved["comment"],
        rated_at=saved["created_at"],
    )


async def withdraw(
    *, pool: Pool, call_id: uuid.UUID, public_body_id: uuid.UUID, invitation_id: uuid.UUID
) -> InvitationBodyRead:
    now = _now()
    async with pool.acquire() as connection, connection.transaction():
        call = await repository.lock_call(
            connection, call_id=call_id, public_body_id=public_body_id
        )
        if call is None:
            raise NotFoundError("No such call.")
        row = await repository.get_for_call(
            connection, call_id=call_id, invitation_id=invitation_id, lock=True
        )
        if row is None:
            raise NotFoundError("No such invitation for this call.")
        if row["status"] == "withdrawn":
            raise InvitationWithdrawnError("The invitation has already been withdrawn.")
        if call["status"] != "open":
            raise CallClosedError("The call is closed; its invitations can no longer change.")
        if call["deadline"] <= now:
            raise InvitationExpiredError(
                "The call's deadline has passed; its invitations can no longer be withdrawn."
            )
        if row["status"] == "declined":
            raise InvitationDeclinedError(
                "The citizen declined this invitation; there is nothing to withdraw."
            )
        if row["rating"] is not None:
            raise RatingLockedError(
                "You have rated this contribution; the invitation can no longer be withdrawn."
            )
        await repository.withdraw(connection, invitation_id=invitation_id)
        await outbox.enqueue(
            connection,
            kind="withdrawn",
            channel="email",
            recipient_id=row["citizen_id"],
            payload={"invitation_id": str(invitation_id), "call_id": str(call_id)},
        )
        await _webhook(
            connection,
            public_body_id=public_body_id,
            event="invitation.withdrawn",
            data={"invitation_id": str(invitation_id), "call_id": str(call_id), "ref": row["ref"]},
        )
        updated = await repository.get_for_call(
            connection, call_id=call_id, invitation_id=invitation_id
        )
    assert updated is not None
    logger.info(
        "invitation withdrawn",
        extra={"invitation_id": str(invitation_id), "was": row["status"]},
    )
    return body_read(updated, now=now)


async def close(
    *, pool: Pool, call_id: uuid.UUID, public_body_id: uuid.UUID, body: CloseRequest
) -> CloseResult:
    async with pool.acquire() as connection, connection.transaction():
        call = await repository.lock_call(
            connection, call_id=call_id, public_body_id=public_body_id
        )
        if call is None:
            raise NotFoundError("No such call.")
        if call["status"] == "closed":
            raise CallClosedError("The call is already closed; its outcome was sent.")
        closed = await repository.close_call(connection, call_id=call_id, outcome=body.outcome)
        withdrawn = await repository.withdraw_pending(connection, call_id=call_id)
        contributors = await repository.accepted_citizens(connection, call_id=call_id)
        await outbox.enqueue_many(
            connection,
            rows=[
                (
                    "outcome",
                    "email",
                    row["citizen_id"],
                    {"invitation_id": str(row["id"]), "call_id": str(call_id)},
                )
                for row in contributors
            ],
        )
        await _webhook(
            connection,
            public_body_id=public_body_id,
            event="call.closed",
            data={
                "call_id": str(call_id),
                "contributors": len(contributors),
                "withdrawn": withdrawn,
            },
        )
    logger.info(
        "call closed",
        extra={"call_id": str(call_id), "notified": len(contributors), "withdrawn": withdrawn},
    )
    return CloseResult(
        call_id=call_id,
        outcome=closed["outcome"],
        closed_at=closed["closed_at"],
        notified=len(contributors),
        withdrawn=withdrawn,
    )


async def _webhook(
    connection: repository.Connection,
    *,
    public_body_id: uuid.UUID,
    event: str,
    data: dict[str, Any],
) -> None:
    """Enqueues a webhook event when the body has an endpoint (no personal data in it)."""
    endpoint = await outbox.get_webhook_endpoint(connection, public_body_id=public_body_id)
    if endpoint is None:
        return
    await outbox.enqueue(
        connection,
        kind=event,
        channel="webhook",
        recipient_id=public_body_id,
        payload={"type": event, "data": data},
    )


# -- citizens ---------------------------------------------------------------------------
async def list_for_citizen(
    *, pool: Pool, citizen_id: uuid.UUID, limit: int, cursor: str | None
) -> CitizenInvitationPage:
    after: tuple[datetime, uuid.UUID] | None = None
    if cursor is not None:
        created_at, invitation_id = decode_cursor(cursor, arity=2)
        try:
            after = (datetime.fromisoformat(str(created_at)), uuid.UUID(str(invitation_id)))
        except ValueError as exc:
            raise InvalidCursorError("The cursor is malformed; use next_cursor as given.") from exc
    now = _now()
    async with pool.acquire() as connection:
        rows = await repository.list_for_citizen(
            connection, citizen_id=citizen_id, limit=limit + 1, after=after
        )
    items = [citizen_read(row, now=now) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last["created_at"].isoformat(), str(last["id"])])
    return CitizenInvitationPage(items=items, next_cursor=next_cursor)


async def get_for_citizen(
    *, pool: Pool, citizen_id: uuid.UUID, invitation_id: uuid.UUID
) -> CitizenInvitationDetail:
    async with pool.acquire() as connection:
        row = await repository.get_for_citizen(
            connection, invitation_id=invitation_id, citizen_id=citizen_id
        )
    if row is None:
        raise NotFoundError("No such invitation.")
    return citizen_detail(row, now=_now())


def _check_answerable(row: asyncpg.Record, *, now: datetime) -> None:
    if row["status"] == "withdrawn":
        raise InvitationWithdrawnError(
            "The invitation was withdrawn; it can no longer be answered."
        )
    if row["call_status"] != "open":
        raise CallClosedError("The call is closed; its invitations can no longer be answered.")
    if row["deadline"] <= now:
        raise InvitationExpiredError(
            f"The invitation expired at the call's deadline ({row['deadline'].isoformat()})."
        )


async def accept(
    *, pool: Pool, citizen_id: uuid.UUID, invitation_id: uuid.UUID, body: AcceptRequest
) -> CitizenInvitationDetail:
    now = _now()
    async with pool.acquire() as connection, connection.transaction():
        row = await _locked(connection, citizen_id=citizen_id, invitation_id=invitation_id)
        _check_answerable(row, now=now)
        if row["status"] == "accepted":
            raise AlreadyAnsweredError("You have already accepted this invitation.")
        if row["status"] == "declined":
            raise AlreadyAnsweredError("You declined this invitation; undo it first to accept.")
        hours_asked = row["hours_asked"]
        hours = body.hours_offered
        if hours is not None and hours_asked is not None and hours > hours_asked:
            raise InvitationValidationError(
                "hours_offered", f"must be at most the {hours_asked:g} hours the call asks"
            )
        if hours is None:
            hours = hours_asked
        await repository.set_answer(
            connection,
            invitation_id=invitation_id,
            status="accepted",
            hours_offered=hours,
            decline_reason=None,
            answered_at=now,
        )
        await _answer_webhook(connection, row=row, status="accepted", hours=hours)
        updated = await _locked(connection, citizen_id=citizen_id, invitation_id=invitation_id)
    logger.info("invitation accepted", extra={"invitation_id": str(invitation_id)})
    return citizen_detail(updated, now=now)


async def decline(
    *, pool: Pool, citizen_id: uuid.UUID, invitation_id: uuid.UUID, body: DeclineRequest
) -> CitizenInvitationDetail:
    now = _now()
    async with pool.acquire() as connection, connection.transaction():
        row = await _locked(connection, citizen_id=citizen_id, invitation_id=invitation_id)
        _check_answerable(row, now=now)
        if row["status"] in ("accepted", "declined"):
            raise AlreadyAnsweredError(
                f"You have already {row['status']} this invitation; undo it first."
            )
        await repository.set_answer(
            connection,
            invitation_id=invitation_id,
            status="declined",
            hours_offered=None,
            decline_reason=body.reason,
            answered_at=now,
        )
        if body.reason == "not_my_expertise":
            texts = sorted({str(e["text"]) for e in _evidence(row) if e.get("text")})
            await repository.add_feedback(
                connection, invitation_id=invitation_id, citizen_id=citizen_id, texts=texts
            )
        await _answer_webhook(connection, row=row, status="declined", hours=None)
        updated = await _locked(connection, citizen_id=citizen_id, invitation_id=invitation_id)
    logger.info("invitation declined", extra={"invitation_id": str(invitation_id)})
    return citizen_detail(updated, now=now)


async def undo(
    *, pool: Pool, citizen_id: uuid.UUID, invitation_id: uuid.UUID
) -> CitizenInvitationDetail:
    now = _now()
    async with pool.acquire() as connection, connection.transaction():
        row = await _locked(connection, citizen_id=citizen_id, invitation_id=invitation_id)
        _check_answerable(row, now=now)
        if row["status"] not in ("accepted", "declined"):
            raise NothingToUndoError("The invitation has no answer to undo.")
        if row["rating"] is not None:
            raise RatingLockedError("The body has rated your contribution; it cannot be undone.")
        await repository.set_answer(
            connection,
            invitation_id=invitation_id,
            status="pending",
            hours_offered=None,
            decline_reason=None,
            answered_at=None,
        )
        await repository.remove_feedback(connection, invitation_id=invitation_id)
        await _answer_webhook(connection, row=row, status="pending", hours=None)
        updated = await _locked(connection, citizen_id=citizen_id, invitation_id=invitation_id)
    logger.info("invitation answer undone", extra={"invitation_id": str(invitation_id)})
    return citizen_detail(updated, now=now)


async def _locked(
    connection: repository.Connection, *, citizen_id: uuid.UUID, invitation_id: uuid.UUID
) -> asyncpg.Record:
    row = await repository.get_for_citizen(
        connection, invitation_id=invitation_id, citizen_id=citizen_id, lock=True
    )
    if row is None:
        raise NotFoundError("No such invitation.")
    return row


async def _answer_webhook(
    connection: repository.Connection, *, row: asyncpg.Record, status: str, hours: float | None
) -> None:
    await _webhook(
        connection,
        public_body_id=row["public_body_id"],
        event="invitation.answered",
        data={
            "invitation_id": str(row["id"]),
            "call_id": str(row["call_id"]),
            "ref": row["ref"],
            "status": status,
            "hours_offered": hours,
        },
    )


# -- admins -----------------------------------------------------------------------------
async def exposure_figures(*, pool: Pool, store: CitizenStore, days: int) -> ExposureFigures:
    since = _now() - timedelta(days=days)
    async with pool.acquire() as connection:
        counts = await repository.exposure_counts(connection, since=since)
        accepted, new = await repository.new_voices(connection, since=since)
        this_month = await repository.exposure_counts_by_citizen(
            connection, since=month_start(_now())
        )
    # The population is every citizen the matcher knows; the never-invited count as zeros.
    population = max(len(store), len(counts))
    padded = counts + [0] * (population - len(counts))
    gini = figures.gini(padded)
    top = figures.top_share(padded)
    return ExposureFigures(
        window_days=days,
        citizens=population,
        invitations=sum(counts),
        citizens_invited=len(counts),
        top_5_percent_share=round(top, 4) if top is not None else None,
        gini=round(gini, 4) if gini is not None else None,
        accepted=accepted,
        new_voices_share=round(new / accepted, 4) if accepted else None,
        lorenz=[
            LorenzPoint(population=population_share, share=share)
            for population_share, share in figures.lorenz(padded)
        ],
        citizens_at_monthly_cap=_citizens_at_cap(store, this_month),
    )


def _citizens_at_cap(store: CitizenStore, month_counts: dict[str, int]) -> int:
    """How many citizens invited this month have reached their own monthly cap."""
    reached = 0
    for citizen_id, count in month_counts.items():
        record = store.get(citizen_id)
        if record is None:
            continue
        cap = record.snapshot.availability.max_invitations_per_month
        if cap is not None and count >= cap:
            reached += 1
    return reached
