"""The signed-in citizen's profile, always addressed by the principal's own citizen id.

Object-level rule: every call to profiles carries the caller's citizen id in its path, so
another citizen's skill, role, affiliation or badge id is simply not found (404) there.
"""

from __future__ import annotations

from datetime import UTC, datetime

from convene_gateway.accounts import service as accounts
from convene_gateway.auth.schemas import CitizenPrincipal
from convene_gateway.citizens.schemas import AccountExport, CitizenExport
from convene_gateway.clients.profiles import ProfilesClient
from convene_gateway.dependencies import Pool


async def export(
    *, pool: Pool, profiles: ProfilesClient, citizen: CitizenPrincipal
) -> CitizenExport:
    account = await accounts.get_account(pool=pool, account_id=citizen.account_id)
    profile = await profiles.export_citizen(citizen_id=citizen.citizen_id)
    return CitizenExport(
        account=AccountExport(
            id=account.id,
            kind=account.kind,
            email=account.email,
            citizen_id=account.citizen_id,
            created_at=account.created_at,
            disabled_at=account.disabled_at,
        ),
        profile=profile,
        exported_at=datetime.now(UTC),
    )


async def erase(*, pool: Pool, profiles: ProfilesClient, citizen: CitizenPrincipal) -> None:
    await accounts.erase_citizen(
        pool=pool, profiles=profiles, account_id=citizen.account_id, citizen_id=citizen.citizen_id
    )
