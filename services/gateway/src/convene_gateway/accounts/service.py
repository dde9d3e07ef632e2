"""Account rules: citizen registration across gateway and profiles, admins, erasure."""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass

import asyncpg

from convene_gateway.accounts import lifecycle, repository
from convene_gateway.accounts.repository import AccountRow
from convene_gateway.audit import service as audit
from convene_gateway.auth import repository as sessions
from convene_gateway.auth.cache import CredentialCache
from convene_gateway.auth.passwords import PasswordHasher
from convene_gateway.clients.matcher import MatcherClient
from convene_gateway.clients.profiles import ProfilesClient
from convene_gateway.config import GatewaySettings
from convene_gateway.dependencies import Connection, Pool
from convene_gateway.emails import messages
from convene_gateway.emails import service as emails
from convene_gateway.errors import DownstreamProblemError, EmailTakenError, NotFoundError

logger = logging.getLogger("convene.gateway.accounts")

EMAIL_TAKEN = "An account with this email address already exists."


@dataclass(frozen=True)
class Registered:
    """What the registration answers: the same shape whether or not the address was free."""

    id: uuid.UUID
    email: str
    display_name: str


async def register_citizen(
    *,
    pool: Pool,
    hasher: PasswordHasher,
    profiles: ProfilesClient,
    matcher: MatcherClient,
    settings: GatewaySettings,
    email: str,
    password: str,
    display_name: str,
) -> Registered:
    """Registers in two steps that a retry can always complete.

    1. The account is committed unprovisioned (it cannot log in) with the citizen id chosen.
    2. profiles creates the citizen with that id (idempotent by id), then the account is
       marked provisioned.
    If step 2 fails, the next registration with the same email takes over the unprovisioned
    account and its citizen id, so profiles sees the same id again and answers 200.

    An address that already has an account gets the same answer as a new one (a made-up id)
    and its owner an email saying so: the answer does not tell who is registered. The new
    account starts unverified: a verification link is emailed (lifecycle.send_verification).
    """
    password_hash = await hasher.hash(password)
    async with pool.acquire() as connection, connection.transaction():
        existing = await repository.get_by_email(connection, email=email, for_update=True)
        if existing is not None and (
            existing.provisioned_at is not None or existing.kind != "citizen"
        ):
            taken = existing
        else:
            taken = None
            if existing is not None:
                account = existing
                await repository.update_password_hash(
                    connection, account_id=account.id, password_hash=password_hash
                )
            else:
                account = await _insert_citizen(
                    connection, email=email, password_hash=password_hash
                )
    if taken is not None:
        await emails.send(
            matcher=matcher,
            message=messages.already_registered(base_url=settings.web_base_url),
            to=taken.email,
            # At most one such email per account and hour, however often it is tried.
            idempotency_key=f"already-registered:{taken.id}:{int(time.time()) // 3600}",
            account_id=taken.id,
        )
        logger.info("registration for a taken address", extra={"account_id": str(taken.id)})
        return Registered(id=uuid.uuid4(), email=email, display_name=display_name)
    assert account.citizen_id is not None
    citizen = await profiles.create_citizen(
        citizen_id=account.citizen_id,
        email=email,
        display_name=display_name,
        email_verified=account.email_verified_at is not None,
    )
    async with pool.acquire() as connection:
        await repository.mark_provisioned(connection, account_id=account.id)
    logger.info("citizen registered", extra={"account_id": str(account.id)})
    await lifecycle.send_verification(
        pool=pool, matcher=matcher, settings=settings, account_id=account.id, email=email
    )
    return Registered(id=citizen.id, email=citizen.email, display_name=citizen.display_name)


async def _insert_citizen(connection: Connection, *, email: str, password_hash: str) -> AccountRow:
    try:
        async with connection.transaction():
            return await repository.insert(
                connection,
                account_id=uuid.uuid4(),
                kind="citizen",
                email=email,
                password_hash=password_hash,
                citizen_id=uuid.uuid4(),
                provisioned=False,
                verified=False,
            )
    except asyncpg.UniqueViolationError as exc:
        # A concurrent registration with the same email won the race.
        raise EmailTakenError(EMAIL_TAKEN) from exc


async def ensure_admin(
    *, connection: Connection, hasher: PasswordHasher, email: str, password: str
) -> AccountRow:
    """Creates the admin account or resets its password (idempotent, used by bootstrap)."""
    password_hash = hasher.hash_sync(password)
    async with connection.transaction():
        existing = await repository.get_by_email(connection, email=email, for_update=True)
        if existing is None:
            return await repository.insert(
                connection,
                account_id=uuid.uuid4(),
                kind="admin",
                email=email,
                password_hash=password_hash,
                citizen_id=None,
                provisioned=True,
            )
        if existing.kind != "admin":
            raise EmailTakenError("This email belongs to a citizen account, not an admin.")
        await repository.update_admin(
            connection, account_id=existing.id, email=email, password_hash=password_hash
        )
        refreshed = await repository.get_by_id(connection, account_id=existing.id)
        assert refreshed is not None
        return refreshed


async def get_account(*, pool: Pool, account_id: uuid.UUID) -> AccountRow:
    async with pool.acquire() as connection:
        account = await repository.get_by_id(connection, account_id=account_id)
    if account is None:
        raise NotFoundError("The account does not exist.")
    return account


async def erase_citizen(
    *,
    pool: Pool,
    profiles: ProfilesClient,
    credentials: CredentialCache,
    account_id: uuid.UUID,
    citizen_id: uuid.UUID,
) -> None:
    """Erases in profiles first, then the account: a failure leaves a retryable state.

    profiles' 404 means an earlier attempt already erased the record there.
    """
    try:
        await profiles.erase_citizen(citizen_id=citizen_id)
    except DownstreamProblemError as exc:
        if exc.status != 404:
            raise
    async with pool.acquire() as connection, connection.transaction():
        ended = await sessions.revoke_account_sessions(
            connection, account_id=account_id, reason="erased"
        )
        await repository.delete(connection, account_id=account_id)
        # A tombstone id, not the citizen id: the entry proves an erasure without keeping
        # a key to what was erased.
        await audit.record(
            connection,
            actor=audit.Actor("account", None),
            action="citizen.erased",
            object_type="tombstone",
            object_id=hashlib.sha256(f"erased:{citizen_id}".encode()).hexdigest()[:32],
        )
    # After the delete: a lookup that read the account before it cannot cache it any more.
    credentials.forget_sessions(ended)
    logger.info("citizen erased", extra={"account_id": str(account_id)})


async def ensure_member(
    *,
    connection: Connection,
    hasher: PasswordHasher,
    organisation_id: uuid.UUID,
    email: str,
    password: str,
    role: str,
) -> AccountRow:
    """A verified staff account of the organisation with this password and role, made or
    reset (idempotent, used by bootstrap for the demo council's staff)."""
    password_hash = hasher.hash_sync(password)
    async with connection.transaction():
        account = await repository.get_by_email(connection, email=email, for_update=True)
        if account is None:
            account = await repository.insert(
                connection,
                account_id=uuid.uuid4(),
                kind="staff",
                email=email,
                password_hash=password_hash,
                citizen_id=None,
                provisioned=True,
                verified=True,
                display_name=email.partition("@")[0],
            )
        elif account.kind == "admin":
            raise EmailTakenError("This email belongs to an admin account.")
        else:
            await repository.update_password_hash(
                connection, account_id=account.id, password_hash=password_hash
            )
            await repository.mark_verified(connection, account_id=account.id)
        await connection.execute(
            """INSERT INTO organisation_member (account_id, organisation_id, role)
               VALUES ($1, $2, $3)
               ON CONFLICT (account_id) DO UPDATE
                   SET organisation_id = excluded.organisation_id, role = excluded.role""",
            account.id,
            organisation_id,
            role,
        )
    return account
