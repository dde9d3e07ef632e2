"""Invitation routes: public bodies (X-API-Key), citizens (bearer), admins (bearer, admin)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, status

from convene_common.problems import problem_responses
from convene_gateway.audit import service as audit
from convene_gateway.audit.service import Actor
from convene_gateway.auth.dependencies import CurrentAdmin, CurrentCitizen, require_public_body
from convene_gateway.auth.schemas import PublicBodyPrincipal
from convene_gateway.dependencies import MatcherDep, PoolDep, ProfilesDep
from convene_gateway.errors import ForbiddenError
from convene_gateway.invitations import service
from convene_gateway.invitations.schemas import (
    AcceptRequest,
    BodyStats,
    CitizenInvitationDetail,
    CitizenInvitationPage,
    CloseRequest,
    CloseResult,
    DeadLetterPage,
    DeclineRequest,
    ExposureFigures,
    InvitationBatch,
    InvitationCreate,
    InvitationList,
    InvitationRead,
    RatingCreate,
    RatingRead,
    WebhookEndpointRead,
    WebhookEndpointUpdate,
)

DOWNSTREAM = (502, 503, 504)
AUTHED = (401, 403, 422, *DOWNSTREAM)
Reader = Annotated[PublicBodyPrincipal, Depends(require_public_body("calls:read"))]
Writer = Annotated[PublicBodyPrincipal, Depends(require_public_body("calls:write"))]
# The per-call pseudonymous reference the match response hands out (see the matcher's refs).
CandidateRef = Annotated[str, Path(pattern=r"^c_[0-9a-f]{20}$", description="candidate ref")]

router = APIRouter(tags=["invitations"])


@router.post(
    "/v1/calls/{call_id:uuid}/invitations",
    status_code=status.HTTP_201_CREATED,
    summary="Invite the proposed panel, or chosen refs from the shortlist",
    responses=problem_responses(400, 404, 409, 429, *AUTHED),
)
async def invite(
    call_id: uuid.UUID,
    body: Writer,
    matcher: MatcherDep,
    profiles: ProfilesDep,
    pool: PoolDep,
    request_body: InvitationCreate | None = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> InvitationBatch:
    batch = await service.client(matcher).invite(
        call_id=call_id,
        public_body_id=body.organisation_id,
        body=(request_body or InvitationCreate()).model_dump(mode="json", exclude_none=True),
        idempotency_key=idempotency_key,
    )
    items = await service.with_contacts(batch.items, profiles=profiles)
    await audit.record_now(
        pool=pool,
        actor=Actor.of(body),
        action="invitation.created",
        object_type="call",
        object_id=call_id,
        detail={"invitations": [str(i.id) for i in items], "skipped": len(batch.skipped)},
    )
    await _record_contacts(pool=pool, body=body, call_id=call_id, items=items)
    return InvitationBatch(call_id=batch.call_id, items=items, skipped=batch.skipped)


async def _record_contacts(
    *, pool: PoolDep, body: PublicBodyPrincipal, call_id: uuid.UUID, items: list[InvitationRead]
) -> None:
    """One audit entry per answer that showed a citizen's contact details to the body."""
    revealed = [str(item.id) for item in items if item.contact is not None]
    await service.record_revealed(
        pool=pool, body=body, call_id=call_id, detail={"invitations": revealed}
    )


@router.get(
    "/v1/calls/{call_id:uuid}/invitations",
    summary="Invitations of your call (contact details only once accepted, with consent)",
    responses=problem_responses(404, *AUTHED),
)
async def list_invitations(
    call_id: uuid.UUID, body: Reader, matcher: MatcherDep, profiles: ProfilesDep, pool: PoolDep
) -> InvitationList:
    listing = await service.client(matcher).list_for_call(
        call_id=call_id, public_body_id=body.organisation_id
    )
    items = await service.with_contacts(listing.items, profiles=profiles)
    await _record_contacts(pool=pool, body=body, call_id=call_id, items=items)
    return InvitationList(items=items)


@router.post(
    "/v1/calls/{call_id:uuid}/invitations/{invitation_id}/withdraw",
    summary="Withdraw one invitation (pending or accepted, before the deadline)",
    description="The citizen is told by email. A declined, already withdrawn or rated "
    "invitation, or one of a closed or past-deadline call, gives a 409 problem.",
    responses=problem_responses(404, 409, *AUTHED),
)
async def withdraw(
    call_id: uuid.UUID, invitation_id: uuid.UUID, body: Writer, matcher: MatcherDep
) -> InvitationRead:
    withdrawn = await service.client(matcher).withdraw(
        call_id=call_id, public_body_id=body.organisation_id, invitation_id=invitation_id
    )
    return InvitationRead(**withdrawn.model_dump(exclude={"contact_citizen_id"}))


@router.post(
    "/v1/calls/{call_id:uuid}/contributions/{ref}/rating",
    status_code=status.HTTP_201_CREATED,
    summary="Rate a submitted contribution (once)",
    description="1-5 and an optional comment. The contribution must have been submitted "
    "(409 contribution-not-submitted otherwise). Its text becomes evidence of the citizen's "
    "expertise, weighted by the rating (1-2 stars: none), when they consent.",
    responses=problem_responses(404, 409, *AUTHED),
)
async def rate(
    call_id: uuid.UUID,
    ref: CandidateRef,
    rating: RatingCreate,
    body: Writer,
    matcher: MatcherDep,
    pool: PoolDep,
) -> RatingRead:
    rated = await service.client(matcher).rate(
        call_id=call_id,
        public_body_id=body.organisation_id,
        ref=ref,
        body=rating.model_dump(mode="json"),
    )
    await audit.record_now(
        pool=pool,
        actor=Actor.of(body),
        action="rating.created",
        object_type="call",
        object_id=call_id,
        detail={"ref": ref},
    )
    return rated


@router.post(
    "/v1/calls/{call_id:uuid}/close",
    summary="Close the call and tell every contributor the outcome",
    responses=problem_responses(404, 409, *AUTHED),
)
async def close(
    call_id: uuid.UUID,
    request_body: CloseRequest,
    body: Writer,
    matcher: MatcherDep,
    pool: PoolDep,
) -> CloseResult:
    closed = await service.client(matcher).close(
        call_id=call_id,
        public_body_id=body.organisation_id,
        body=request_body.model_dump(mode="json"),
    )
    await audit.record_now(
        pool=pool,
        actor=Actor.of(body),
        action="call.closed",
        object_type="call",
        object_id=call_id,
        detail={"notified": closed.notified, "withdrawn": closed.withdrawn},
    )
    return closed


@router.get(
    "/v1/organisation/stats",
    summary="Your invitations: sent, response and acceptance rates, time to answer",
    responses=problem_responses(*AUTHED),
)
async def stats(body: Reader, matcher: MatcherDep) -> BodyStats:
    return await service.client(matcher).stats(public_body_id=body.organisation_id)


@router.put(
    "/v1/organisation/webhook",
    summary="Set your webhook URL (the signing secret is shown once)",
    responses=problem_responses(*AUTHED),
)
async def set_webhook(
    request_body: WebhookEndpointUpdate, body: Writer, matcher: MatcherDep
) -> WebhookEndpointRead:
    if body.member_role == "officer":
        raise ForbiddenError("Only the organisation's managers set its webhook.")
    return await service.client(matcher).set_webhook(
        public_body_id=body.organisation_id, body=request_body.model_dump()
    )


# -- citizens ---------------------------------------------------------------------------
@router.get(
    "/v1/me/invitations", summary="Your invitations", responses=problem_responses(400, *AUTHED)
)
async def my_invitations(
    citizen: CurrentCitizen,
    matcher: MatcherDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> CitizenInvitationPage:
    return await service.client(matcher).citizen_list(
        citizen_id=citizen.citizen_id, limit=limit, cursor=cursor
    )


@router.get(
    "/v1/me/invitations/{invitation_id}",
    summary='One invitation with "why you"',
    responses=problem_responses(404, *AUTHED),
)
async def my_invitation(
    invitation_id: uuid.UUID, citizen: CurrentCitizen, matcher: MatcherDep
) -> CitizenInvitationDetail:
    return await service.client(matcher).citizen_get(
        citizen_id=citizen.citizen_id, invitation_id=invitation_id
    )


@router.post(
    "/v1/me/invitations/{invitation_id}/accept",
    summary="Accept (optionally with fewer hours than asked)",
    responses=problem_responses(404, 409, *AUTHED),
)
async def accept(
    invitation_id: uuid.UUID,
    citizen: CurrentCitizen,
    matcher: MatcherDep,
    body: AcceptRequest | None = None,
) -> CitizenInvitationDetail:
    return await service.client(matcher).citizen_answer(
        citizen_id=citizen.citizen_id,
        invitation_id=invitation_id,
        action="accept",
        body=(body or AcceptRequest()).model_dump(),
    )


@router.post(
    "/v1/me/invitations/{invitation_id}/decline",
    summary="Decline, optionally with a reason",
    responses=problem_responses(404, 409, *AUTHED),
)
async def decline(
    invitation_id: uuid.UUID,
    citizen: CurrentCitizen,
    matcher: MatcherDep,
    body: DeclineRequest | None = None,
) -> CitizenInvitationDetail:
    return await service.client(matcher).citizen_answer(
        citizen_id=citizen.citizen_id,
        invitation_id=invitation_id,
        action="decline",
        body=(body or DeclineRequest()).model_dump(),
    )


@router.post(
    "/v1/me/invitations/{invitation_id}/follow-outcome",
    summary="You declined: ask to be told the outcome when the call closes",
    description="The outcome is emailed to you at close and shown on your invitation. Only "
    "for invitations you declined (409 otherwise; contributors are told anyway).",
    responses=problem_responses(404, 409, *AUTHED),
)
async def follow_outcome(
    invitation_id: uuid.UUID, citizen: CurrentCitizen, matcher: MatcherDep
) -> CitizenInvitationDetail:
    return await service.client(matcher).citizen_answer(
        citizen_id=citizen.citizen_id,
        invitation_id=invitation_id,
        action="follow-outcome",
        body=None,
    )


@router.post(
    "/v1/me/invitations/{invitation_id}/undo",
    summary="Undo your answer (until the deadline)",
    responses=problem_responses(404, 409, *AUTHED),
)
async def undo(
    invitation_id: uuid.UUID, citizen: CurrentCitizen, matcher: MatcherDep
) -> CitizenInvitationDetail:
    return await service.client(matcher).citizen_answer(
        citizen_id=citizen.citizen_id, invitation_id=invitation_id, action="undo", body=None
    )


# -- admins -----------------------------------------------------------------------------
@router.get(
    "/v1/admin/exposure",
    summary="Concentration of invitations (top-5% share, Gini, new voices)",
    responses=problem_responses(*AUTHED),
)
async def exposure(
    admin: CurrentAdmin,
    matcher: MatcherDep,
    days: Annotated[int, Query(ge=1, le=3650)] = 365,
) -> ExposureFigures:
    return await service.client(matcher).exposure(days=days)


@router.get(
    "/v1/admin/notifications/dead",
    summary="Notifications that could not be delivered",
    responses=problem_responses(400, *AUTHED),
)
async def dead_letters(
    admin: CurrentAdmin,
    matcher: MatcherDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> DeadLetterPage:
    return await service.client(matcher).dead_letters(limit=limit, cursor=cursor)
