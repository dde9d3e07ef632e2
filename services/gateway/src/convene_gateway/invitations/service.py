"""Invitation rules at the gateway: the principal's own ids only; contact details resolved
from profiles at read time (accepted AND consent.contact), never the citizen id itself."""

from __future__ import annotations

import asyncio
import logging
import uuid

from convene_common.db import Pool
from convene_gateway.audit import service as audit
from convene_gateway.audit.service import Actor
from convene_gateway.auth.schemas import PublicBodyPrincipal
from convene_gateway.clients.matcher import MatcherClient
from convene_gateway.clients.matcher_invitations import MatcherInvitationsClient
from convene_gateway.clients.profiles import ProfilesClient
from convene_gateway.errors import DownstreamProblemError
from convene_gateway.invitations.schemas import (
    Contact,
    InvitationRead,
    MatcherInvitation,
)

logger = logging.getLogger("convene.gateway.invitations")


async def _contact(profiles: ProfilesClient, citizen_id: uuid.UUID) -> Contact | None:
    try:
        citizen = await profiles.get_citizen(citizen_id=citizen_id)
    except DownstreamProblemError as exc:
        if exc.status == 404:  # erased since accepting
            return None
        raise
    if citizen.consent is None or not citizen.consent.contact:
        return None
    return Contact(name=citizen.display_name, email=citizen.email)


async def contacts_of(
    citizen_ids: list[uuid.UUID], *, profiles: ProfilesClient
) -> list[Contact | None]:
    """Name and email per citizen who consents to contact (None otherwise); the caller
    passes only citizens who accepted."""
    return list(await asyncio.gather(*(_contact(profiles, c) for c in citizen_ids)))


async def with_contacts(
    items: list[MatcherInvitation], *, profiles: ProfilesClient
) -> list[InvitationRead]:
    accepted = [i for i in items if i.status == "accepted" and i.contact_citizen_id is not None]
    contacts = await asyncio.gather(
        *(_contact(profiles, i.contact_citizen_id) for i in accepted if i.contact_citizen_id)
    )
    by_id = {i.id: c for i, c in zip(accepted, contacts, strict=True)}
    return [
        InvitationRead(**i.model_dump(exclude={"contact_citizen_id"}), contact=by_id.get(i.id))
        for i in items
    ]


async def record_revealed(
    *, pool: Pool, body: PublicBodyPrincipal, call_id: uuid.UUID, detail: dict[str, list[str]]
) -> None:
    """The audit entry of a read that showed citizens' contact details (``detail`` names
    what was read: invitations or contributions); nothing when none were shown."""
    if any(detail.values()):
        await audit.record_now(
            pool=pool,
            actor=Actor.of(body),
            action="contact.revealed",
            object_type="call",
            object_id=call_id,
            detail=detail,
        )


def client(matcher: MatcherClient) -> MatcherInvitationsClient:
    return MatcherInvitationsClient(matcher)
