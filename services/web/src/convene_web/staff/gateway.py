"""The gateway calls the council staff pages make (typed; functions taking the client).

Every function takes the web service's :class:`GatewayClient` and the signed-in person's
session (whose tokens stay server-side), and reads the answer through a declared model that
ignores what it does not declare. Errors are the client's: ``GatewayProblem`` for a 4xx
problem+json answer (a form shows its words), ``GatewayUnavailable`` otherwise.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from convene_web.gateway import GatewayClient
from convene_web.sessions import Session

Model = TypeVar("Model", bound=BaseModel)


class Read(BaseModel):
    model_config = ConfigDict(extra="ignore")


async def request(
    gateway: GatewayClient,
    method: str,
    path: str,
    *,
    session: Session,
    model: type[Model],
    json: Any = None,
    params: dict[str, str | int | None] | None = None,
) -> Model:
    """One gateway call as the signed-in person, its answer read through ``model``."""
    body = await gateway.json(
        method,
        path,
        session=session,
        json=json,
        params={k: v for k, v in (params or {}).items() if v is not None},
    )
    return model.model_validate(body)


# -- calls ------------------------------------------------------------------------------
class SkillWanted(Read):
    label: str
    code: str | None = None


class Perspective(Read):
    role: str
    min: int
    max: int


class CallPlace(Read):
    authority_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None


class Call(Read):
    id: uuid.UUID
    public_body_name: str
    title: str
    description: str
    questions: list[str] = Field(default_factory=list)
    skills: list[SkillWanted] = Field(default_factory=list)
    perspectives: list[Perspective] = Field(default_factory=list)
    place: CallPlace | None = None
    languages: list[str] = Field(default_factory=list)
    access_offered: list[str] = Field(default_factory=list)
    hours: float | None = None
    deadline: datetime
    panel_size: int
    conflicts: list[str] = Field(default_factory=list)
    confidentiality: str
    status: str
    created_at: datetime


class CallPage(Read):
    items: list[Call]
    next_cursor: str | None = None


class Evidence(Read):
    kind: str
    text: str
    similarity: float
    verified: bool | None = None
    level: str | None = None
    # Imported records: "answered on <site>", "response to a <source> consultation".
    source: str | None = None


class Candidate(Read):
    ref: str
    score: float
    evidence: list[Evidence]
    roles: list[str] = Field(default_factory=list)


class PanelMember(Read):
    ref: str
    fills: list[str]


class Unmet(Read):
    role: str
    wanted: int
    found: int
    reason: str


class MatchResult(Read):
    call_id: uuid.UUID
    candidates: list[Candidate]
    panel: list[PanelMember]
    unmet: list[Unmet]


class Contact(Read):
    name: str
    email: str


class Invitation(Read):
    id: uuid.UUID
    call_id: uuid.UUID
    ref: str
    status: str
    fills: list[str] = Field(default_factory=list)
    message: str | None = None
    hours_offered: float | None = None
    invited_at: datetime
    answered_at: datetime | None = None
    rating: int | None = None
    contact: Contact | None = None


class Skipped(Read):
    ref: str
    reason: str


class InvitationBatch(Read):
    call_id: uuid.UUID
    items: list[Invitation]
    skipped: list[Skipped]


class InvitationList(Read):
    items: list[Invitation]


class Rating(Read):
    ref: str
    rating: int
    comment: str | None = None


class Cited(Read):
    ref: str
    question: str | None = None


class CloseResult(Read):
    call_id: uuid.UUID
    outcome: str
    closed_at: datetime
    notified: int
    withdrawn: int
    cited: list[Cited] = Field(default_factory=list)


class Answer(Read):
    question: str
    text: str


class Contribution(Read):
    ref: str
    answers: list[Answer] = Field(default_factory=list)
    comment: str | None = None
    submitted_at: datetime
    updated_at: datetime | None = None
    rating: int | None = None
    contact: Contact | None = None


class ContributionList(Read):
    items: list[Contribution]


class BodyStats(Read):
    window_days: int
    invitations_sent: int
    answered: int
    accepted: int
    declined: int
    response_rate: float | None
    acceptance_rate: float | None
    median_hours_to_answer: float | None
    invitations_last_24h: int = 0
    throttled: bool = False
    throttle_reason: str | None = None


class Webhook(Read):
    url: str
    secret: str | None = None


async def list_calls(
    gateway: GatewayClient, *, session: Session, cursor: str | None = None, limit: int = 100
) -> CallPage:
    return await request(
        gateway,
        "GET",
        "/v1/calls",
        session=session,
        model=CallPage,
        params={"limit": limit, "cursor": cursor},
    )


async def get_call(gateway: GatewayClient, *, session: Session, call_id: uuid.UUID) -> Call:
    return await request(gateway, "GET", f"/v1/calls/{call_id}", session=session, model=Call)


async def create_call(gateway: GatewayClient, *, session: Session, call: dict[str, Any]) -> Call:
    """Post a call (the page forgets the draft once posted: a second submit finds none)."""
    return await request(
        gateway,
        "POST",
        "/v1/calls",
        session=session,
        model=Call,
        json=call,
    )


async def match_call(
    gateway: GatewayClient, *, session: Session, call_id: uuid.UUID, seed: int | None = None
) -> MatchResult:
    return await request(
        gateway,
        "POST",
        f"/v1/calls/{call_id}/match",
        session=session,
        model=MatchResult,
        json={"seed": seed} if seed is not None else None,
    )


async def last_match(
    gateway: GatewayClient, *, session: Session, call_id: uuid.UUID
) -> MatchResult:
    """The call's last match as stored (no routing)."""
    return await request(
        gateway, "GET", f"/v1/calls/{call_id}/match", session=session, model=MatchResult
    )


async def invite(
    gateway: GatewayClient,
    *,
    session: Session,
    call_id: uuid.UUID,
    refs: list[str] | None,
    message: str | None,
) -> InvitationBatch:
    body: dict[str, Any] = {}
    if refs is not None:
        body["refs"] = refs
    if message:
        body["message"] = message
    return await request(
        gateway,
        "POST",
        f"/v1/calls/{call_id}/invitations",
        session=session,
        model=InvitationBatch,
        json=body,
    )


async def list_invitations(
    gateway: GatewayClient, *, session: Session, call_id: uuid.UUID
) -> InvitationList:
    return await request(
        gateway, "GET", f"/v1/calls/{call_id}/invitations", session=session, model=InvitationList
    )


async def rate(
    gateway: GatewayClient,
    *,
    session: Session,
    call_id: uuid.UUID,
    ref: str,
    rating: int,
    comment: str | None,
) -> Rating:
    return await request(
        gateway,
        "POST",
        f"/v1/calls/{call_id}/contributions/{ref}/rating",
        session=session,
        model=Rating,
        json={"rating": rating, "comment": comment or None},
    )


async def list_contributions(
    gateway: GatewayClient, *, session: Session, call_id: uuid.UUID
) -> ContributionList:
    return await request(
        gateway,
        "GET",
        f"/v1/calls/{call_id}/contributions",
        session=session,
        model=ContributionList,
    )


async def close_call(
    gateway: GatewayClient,
    *,
    session: Session,
    call_id: uuid.UUID,
    outcome: str,
    cited: list[Cited] = (),  # type: ignore[assignment]
) -> CloseResult:
    return await request(
        gateway,
        "POST",
        f"/v1/calls/{call_id}/close",
        session=session,
        model=CloseResult,
        json={"outcome": outcome, "cited": [c.model_dump() for c in cited]},
    )


class CallCancelled(Call):
    withdrawn: int = 0


async def cancel_call(
    gateway: GatewayClient, *, session: Session, call_id: uuid.UUID, reason: str
) -> CallCancelled:
    return await request(
        gateway,
        "POST",
        f"/v1/calls/{call_id}/cancel",
        session=session,
        model=CallCancelled,
        json={"reason": reason},
    )


async def organisation_stats(gateway: GatewayClient, *, session: Session) -> BodyStats:
    return await request(gateway, "GET", "/v1/organisation/stats", session=session, model=BodyStats)


async def set_webhook(gateway: GatewayClient, *, session: Session, url: str) -> Webhook:
    return await request(
        gateway,
        "PUT",
        "/v1/organisation/webhook",
        session=session,
        model=Webhook,
        json={"url": url},
    )


# -- managers: members, API keys, audit log (the accounts issue's routes) ------------------
class MyOrganisation(Read):
    id: uuid.UUID
    name: str
    kind: str
    role: str


class Member(Read):
    account_id: uuid.UUID
    email: str
    display_name: str
    role: str
    joined_at: datetime


class MemberList(Read):
    items: list[Member]


class MemberInvited(Read):
    email: str
    role: str
    expires_at: datetime


class ApiKey(Read):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class ApiKeyCreated(ApiKey):
    api_key: str


class ApiKeyList(Read):
    items: list[ApiKey]


class AuditEntry(Read):
    id: int
    occurred_at: datetime
    actor_kind: str
    actor_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    action: str
    object_type: str
    object_id: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class AuditPage(Read):
    items: list[AuditEntry]
    next_cursor: str | None = None


async def my_organisation(gateway: GatewayClient, *, session: Session) -> MyOrganisation:
    return await request(gateway, "GET", "/v1/organisation", session=session, model=MyOrganisation)


async def list_members(gateway: GatewayClient, *, session: Session) -> MemberList:
    return await request(
        gateway, "GET", "/v1/organisation/members", session=session, model=MemberList
    )


async def invite_member(
    gateway: GatewayClient, *, session: Session, email: str, role: str
) -> MemberInvited:
    return await request(
        gateway,
        "POST",
        "/v1/organisation/members",
        session=session,
        model=MemberInvited,
        json={"email": email, "role": role},
    )


async def change_member(
    gateway: GatewayClient, *, session: Session, account_id: uuid.UUID, role: str
) -> Member:
    return await request(
        gateway,
        "PATCH",
        f"/v1/organisation/members/{account_id}",
        session=session,
        model=Member,
        json={"role": role},
    )


async def remove_member(gateway: GatewayClient, *, session: Session, account_id: uuid.UUID) -> None:
    await gateway.call("DELETE", f"/v1/organisation/members/{account_id}", session=session)


async def list_api_keys(gateway: GatewayClient, *, session: Session) -> ApiKeyList:
    return await request(
        gateway, "GET", "/v1/organisation/api-keys", session=session, model=ApiKeyList
    )


async def create_api_key(
    gateway: GatewayClient, *, session: Session, name: str, scopes: list[str]
) -> ApiKeyCreated:
    return await request(
        gateway,
        "POST",
        "/v1/organisation/api-keys",
        session=session,
        model=ApiKeyCreated,
        json={"name": name, "scopes": scopes},
    )


async def revoke_api_key(gateway: GatewayClient, *, session: Session, key_id: uuid.UUID) -> None:
    await gateway.call("DELETE", f"/v1/organisation/api-keys/{key_id}", session=session)


async def organisation_audit(
    gateway: GatewayClient, *, session: Session, cursor: str | None = None
) -> AuditPage:
    return await request(
        gateway,
        "GET",
        "/v1/organisation/audit",
        session=session,
        model=AuditPage,
        params={"limit": 100, "cursor": cursor},
    )


async def admin_audit(
    gateway: GatewayClient, *, session: Session, cursor: str | None = None
) -> AuditPage:
    return await request(
        gateway,
        "GET",
        "/v1/admin/audit",
        session=session,
        model=AuditPage,
        params={"limit": 100, "cursor": cursor},
    )
