"""Members: invited by email (admins invite a first manager, managers anyone), joining with
the emailed single-use token, roles, removal (sessions end at once; the last manager stays).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

import asyncpg

from convene_gateway.accounts import lifecycle
from convene_gateway.accounts import repository as accounts
from convene_gateway.audit import service as audit
from convene_gateway.audit.service import Actor
from convene_gateway.auth import repository as sessions
from convene_gateway.auth.cache import CredentialCache
from convene_gateway.auth.passwords import PasswordHasher
from convene_gateway.auth.service import hash_secret
from convene_gateway.clients.matcher import MatcherClient
from convene_gateway.config import GatewaySettings
from convene_gateway.dependencies import Pool
from convene_gateway.emails import messages
from convene_gateway.emails import service as emails
from convene_gateway.errors import ConflictError, InvalidTokenProblem, NotFoundError
from convene_gateway.members import repository
from convene_gateway.members.repository import MemberRow
from convene_gateway.organisations import repository as organisations

logger = logging.getLogger("convene.gateway.members")

LAST_MANAGER = "An organisation keeps at least one manager: appoint another one first."


async def invite(
    *,
    pool: Pool,
    matcher: MatcherClient,
    settings: GatewaySettings,
    actor: Actor,
    organisation_id: uuid.UUID,
    email: str,
    role: str,
) -> datetime:
    """Emails a join link (single use, 7 days). The answer is the same whether or not the
    address has an account, or is already a member (joining then fails)."""
    token = lifecycle.new_token()
    async with pool.acquire() as connection, connection.transaction():
        organisation = await organisations.get_organisation(
            connection, organisation_id=organisation_id
        )
        if organisation is None:
            raise NotFoundError("The organisation does not exist.")
        row = await accounts.insert_token(
            connection,
            token_hash=hash_secret(token),
            purpose="join",
            email=email,
            organisation_id=organisation_id,
            member_role=role,
            created_by=actor.id if actor.kind == "account" else None,
            lifetime_seconds=settings.staff_invitation_ttl_seconds,
        )
        await audit.record(
            connection,
            actor=actor,
            action="member.invited",
            object_type="organisation",
            object_id=organisation_id,
            organisation_id=organisation_id,
            detail={"role": role},
        )
    await emails.send(
        matcher=matcher,
        message=messages.join(
            base_url=settings.web_base_url,
            token=token,
            organisation=organisation.name,
            role="a manager" if role == "manager" else "an officer",
            days=settings.staff_invitation_ttl_seconds // 86400,
        ),
        to=email,
        idempotency_key=f"join:{hash_secret(token).hex()}",
    )
    logger.info("member invited", extra={"organisation_id": str(organisation_id)})
    return row.expires_at


async def join(
    *,
    pool: Pool,
    hasher: PasswordHasher,
    credentials: CredentialCache,
    token: str,
    password: str,
    display_name: str,
) -> MemberRow:
    """A new address becomes a staff account; an existing citizen or staff account (the
    link proves the address, as a reset link would) gets the membership and this password,
    and its other sessions end. Refused tokens of every kind get one answer."""
    hashed = lifecycle.token_hash(token)
    if hashed is None:
        raise InvalidTokenProblem(lifecycle.INVALID_TOKEN)
    password_hash = await hasher.hash(password)
    ended: list[uuid.UUID] = []
    async with pool.acquire() as connection, connection.transaction():
        row = await accounts.take_token(connection, token_hash=hashed, purpose="join")
        if row is None or row.organisation_id is None or row.member_role is None:
            raise InvalidTokenProblem(lifecycle.INVALID_TOKEN)
        account = await accounts.get_by_email(connection, email=row.email, for_update=True)
        if account is None:
            try:
                account = await accounts.insert(
                    connection,
                    account_id=uuid.uuid4(),
                    kind="staff",
                    email=row.email,
                    password_hash=password_hash,
                    citizen_id=None,
                    provisioned=True,
                    verified=True,
                    display_name=display_name,
                )
            except asyncpg.UniqueViolationError as exc:
                raise ConflictError("An account with this address was just made.") from exc
        else:
            if account.kind == "admin" or not account.usable:
                raise ConflictError("This address's account cannot join an organisation.")
            if await repository.get_member(connection, account_id=account.id) is not None:
                raise ConflictError("This account is already a member of an organisation.")
            await accounts.update_password_hash(
                connection, account_id=account.id, password_hash=password_hash
            )
            await accounts.set_display_name(
                connection, account_id=account.id, display_name=display_name
            )
            await accounts.mark_verified(connection, account_id=account.id)
            ended = await sessions.revoke_account_sessions(
                connection, account_id=account.id, reason="joined"
            )
        await repository.insert_member(
            connection,
            account_id=account.id,
            organisation_id=row.organisation_id,
            role=row.member_role,
            invited_by=row.created_by,
        )
        await audit.record(
            connection,
            actor=Actor("account", account.id, row.organisation_id),
            action="member.joined",
            object_type="account",
            object_id=account.id,
            detail={"role": row.member_role},
        )
        member = await repository.get_member(connection, account_id=account.id)
    credentials.forget_sessions(ended)
    assert member is not None
    logger.info("member joined", extra={"organisation_id": str(member.organisation_id)})
    return member


async def list_members(*, pool: Pool, organisation_id: uuid.UUID) -> list[MemberRow]:
    async with pool.acquire() as connection:
        if (
            await organisations.get_organisation(connection, organisation_id=organisation_id)
            is None
        ):
            raise NotFoundError("The organisation does not exist.")
        return await repository.list_members(connection, organisation_id=organisation_id)


async def change_role(
    *,
    pool: Pool,
    credentials: CredentialCache,
    actor: Actor,
    organisation_id: uuid.UUID,
    account_id: uuid.UUID,
    role: str,
) -> MemberRow:
    async with pool.acquire() as connection, connection.transaction():
        managers = await repository.lock_managers(connection, organisation_id=organisation_id)
        member = await repository.get_member(connection, account_id=account_id)
        if member is None or member.organisation_id != organisation_id:
            raise NotFoundError("No member with this account id in your organisation.")
        if role != "manager" and managers == [account_id]:
            raise ConflictError(LAST_MANAGER)
        if member.role != role:
            await repository.update_role(
                connection, account_id=account_id, organisation_id=organisation_id, role=role
            )
            await audit.record(
                connection,
                actor=actor,
                action="member.changed",
                object_type="account",
                object_id=account_id,
                organisation_id=organisation_id,
                detail={"from": member.role, "to": role},
            )
        live = await sessions.live_session_ids(connection, account_id=account_id)
        updated = await repository.get_member(connection, account_id=account_id)
    # The role is read with the session: forget what this process remembers of it.
    credentials.forget_sessions(live)
    assert updated is not None
    return updated


async def remove(
    *,
    pool: Pool,
    credentials: CredentialCache,
    actor: Actor,
    organisation_id: uuid.UUID,
    account_id: uuid.UUID,
) -> None:
    """Ends the membership and every session of the account at once (a citizen who was also
    staff signs in again as a citizen)."""
    async with pool.acquire() as connection, connection.transaction():
        managers = await repository.lock_managers(connection, organisation_id=organisation_id)
        member = await repository.get_member(connection, account_id=account_id)
        if member is None or member.organisation_id != organisation_id:
            raise NotFoundError("No member with this account id in your organisation.")
        if managers == [account_id]:
            raise ConflictError(LAST_MANAGER)
        await repository.delete_member(
            connection, account_id=account_id, organisation_id=organisation_id
        )
        ended = await sessions.revoke_account_sessions(
            connection, account_id=account_id, reason="member_removed"
        )
        await audit.record(
            connection,
            actor=actor,
            action="member.removed",
            object_type="account",
            object_id=account_id,
            organisation_id=organisation_id,
            detail={"role": member.role, "sessions_ended": len(ended)},
        )
    credentials.forget_sessions(ended)
    logger.info("member removed", extra={"organisation_id": str(organisation_id)})
