"""Account rules: citizen registration across gateway and profiles, admins, erasure."""

from __future__ import annotations

import logging
import uuid

import asyncpg

from convene_gateway.accounts import repository
from convene_gateway.accounts.repository import AccountRow
from convene_gateway.auth import repository as sessions
from convene_gateway.auth.cache import CredentialCache
from convene_gateway.auth.passwords import PasswordHasher
from convene_gateway.clients.profiles import ProfilesClient
from convene_gateway.clients.profiles_schemas import CitizenRead
from convene_gateway.dependencies import Connection, Pool
from convene_gateway.errors import DownstreamProblemError, EmailTakenError, NotFoundError

logger = logging.getLogger("convene.gateway.accounts")

EMAIL_TAKEN = "An account with this email address already exists."


async def register_citizen(
    *,
    pool: Pool,
    hasher: PasswordHasher,
    profiles: ProfilesClient,
    email: str,
    password: str,
    display_name: str,
) -> CitizenRead:
    """Registers in two steps that a retry can always complete.

    1. The account is committed unprovisioned (it cannot log in) with the citizen id chosen.
    2. profiles creates the citizen with that id (idempotent by id), then the account is
       marked provisioned.
    If step 2 fails, the next registration with the same email takes over the unprovisioned
    account and its citizen id, so profiles sees the same id again and answers 200.
    """
    password_hash = await hasher.hash(password)
    async with pool.acquire() as connection, connection.transaction():
        existing = await repository.get_by_email(connection, email=email, for_update=True)
        if existing is not None and (
            existing.provisioned_at is not None or existing.kind != "citizen"
        ):
            raise EmailTakenError(EMAIL_TAKEN)
        if existing is not None:
            account = existing
            await repository.update_password_hash(
                connection, account_id=account.id, password_hash=password_hash
            )
        else:
            account = await _insert_citizen(connection, email=email, password_hash=password_hash)
    assert account.citizen_id is not None
    citizen = await profiles.create_citizen(
        citizen_id=account.citizen_id, email=email, display_name=display_name
    )
    async with pool.acquire() as connection:
        await repository.mark_provisioned(connection, account_id=account.id)
    logger.info("citizen registered", extra={"account_id": str(account.id)})
    return citizen


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
    # After the delete: a lookup that read the account before it cannot cache it any more.
    credentials.forget_sessions(ended)
    logger.info("citizen erased", extra={"account_id": str(account_id)})
