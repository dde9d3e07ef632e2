"""Contribution rules at the gateway: the principal's own ids only; contact details resolved
from profiles at read time (accepted AND consent.contact), never the citizen id itself."""

from __future__ import annotations

import uuid

from convene_common.db import Pool
from convene_gateway.auth.schemas import PublicBodyPrincipal
from convene_gateway.clients.matcher import MatcherClient
from convene_gateway.clients.matcher_invitations import MatcherInvitationsClient
from convene_gateway.clients.profiles import ProfilesClient
from convene_gateway.contributions.schemas import BodyContribution, BodyContributionList
from convene_gateway.invitations.service import contacts_of, record_revealed


def client(matcher: MatcherClient) -> MatcherInvitationsClient:
    return MatcherInvitationsClient(matcher)


async def list_for_call(
    *,
    call_id: uuid.UUID,
    body: PublicBodyPrincipal,
    matcher: MatcherClient,
    profiles: ProfilesClient,
    pool: Pool,
) -> BodyContributionList:
    listing = await client(matcher).list_contributions(
        call_id=call_id, public_body_id=body.organisation_id
    )
    # The matcher lists contributions of accepted invitations only.
    contacts = await contacts_of(
        [item.contact_citizen_id for item in listing.items if item.contact_citizen_id],
        profiles=profiles,
    )
    with_ids = [item for item in listing.items if item.contact_citizen_id]
    by_ref = {item.ref: contact for item, contact in zip(with_ids, contacts, strict=True)}
    items = [
        BodyContribution(
            **item.model_dump(exclude={"contact_citizen_id"}), contact=by_ref.get(item.ref)
        )
        for item in listing.items
    ]
    revealed = [item.ref for item in items if item.contact is not None]
    await record_revealed(pool=pool, body=body, call_id=call_id, detail={"contributions": revealed})
    return BodyContributionList(items=items)
