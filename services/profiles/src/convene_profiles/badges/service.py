from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import jwt

from convene_common.cursors import decode_cursor, encode_cursor
from convene_common.db import Pool
from convene_profiles.badges import repository
from convene_profiles.badges.fetch import FetchError
from convene_profiles.badges.schemas import (
    BadgeCreate,
    BadgeIssuerCreate,
    BadgeIssuerList,
    BadgeIssuerRead,
    BadgeList,
    BadgeRead,
    BadgeRecheckResult,
)
from convene_profiles.badges.verification import (
    SUPPORTED_ALGORITHMS,
    TrustedIssuer,
    VerificationContext,
    VerifiedBadge,
    verify_badge,
)
from convene_profiles.citizens import repository as citizens_repository
from convene_profiles.config import ProfilesSettings
from convene_profiles.errors import (
    CitizenNotFoundError,
    InvalidBadgeError,
    InvalidCursorError,
    InvalidIssuerKeyError,
    IssuerExistsError,
    NotFoundError,
)
from convene_profiles.profile_state import badge_read, load_states
from convene_profiles.unit_of_work import citizen_change

logger = logging.getLogger("convene.profiles.badges")


def issuer_lookup(pool: Pool) -> Any:
    async def lookup(issuer_id: str) -> TrustedIssuer | None:
        async with pool.acquire() as connection:
            row = await repository.get_issuer(connection, issuer_id=issuer_id)
        if row is None:
            return None
        return TrustedIssuer(
            id=row["id"],
            name=row["name"],
            public_key_jwk=row["public_key_jwk"],
            revoked_credential_ids=frozenset(row["revoked_credential_ids"]),
        )

    return lookup


async def import_badge(
    pool: Pool,
    *,
    client: httpx.AsyncClient,
    citizen_id: UUID,
    data: BadgeCreate,
    settings: ProfilesSettings,
) -> BadgeRead:
    """Verifies (fetching outside any transaction), then stores the badge and its result."""
    async with pool.acquire() as connection:
        citizen = await citizens_repository.get_citizen(connection, citizen_id=citizen_id)
    if citizen is None:
        raise CitizenNotFoundError(f"No citizen with id {citizen_id}.")
    context = VerificationContext(
        client=client,
        allowed_hosts=settings.badge_fetch_allowed_hosts,
        max_bytes=settings.badge_fetch_max_bytes,
        lookup_issuer=issuer_lookup(pool),
    )
    result = await verify_badge(
        assertion=data.assertion,
        credential=data.credential,
        email=citizen["email"],
        context=context,
    )
    async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
        row = await repository.insert_badge(
            connection,
            badge_id=uuid.uuid4(),
            citizen_id=citizen_id,
            format=result.format,
            name=result.name,
            description=result.description,
            criteria=result.criteria,
            issuer_id=result.issuer_id,
            issuer_name=result.issuer_name,
            raw_credential=result.raw_credential,
            verified=result.verified,
            verification=result.verification(),
            checked_at=context.now,
            issued_on=result.issued_on,
            expires_at=result.expires_at,
        )
    logger.info(
        "badge imported",
        extra={"citizen_id": str(citizen_id), "format": result.format, "verified": result.verified},
    )
    return badge_read(row)


async def list_badges(pool: Pool, *, citizen_id: UUID) -> BadgeList:
    async with pool.acquire() as connection:
        states = await load_states(connection, citizen_ids=[citizen_id])
    if citizen_id not in states:
        raise CitizenNotFoundError(f"No citizen with id {citizen_id}.")
    return BadgeList(items=[badge_read(row) for row in states[citizen_id].badges])


async def remove_badge(
    pool: Pool, *, citizen_id: UUID, badge_id: UUID, settings: ProfilesSettings
) -> None:
    async with citizen_change(pool, citizen_id=citizen_id, settings=settings) as connection:
        if not await repository.delete_badge(connection, citizen_id=citizen_id, badge_id=badge_id):
            raise NotFoundError("This citizen has no badge with that id.", slug="badge-not-found")


def _check_public_key(jwk: dict[str, Any]) -> None:
    if "d" in jwk or "p" in jwk:
        raise InvalidIssuerKeyError(
            "public_key_jwk holds private key material; send only the public key."
        )
    try:
        key = jwt.PyJWK(jwk)
    except (jwt.PyJWKError, jwt.InvalidKeyError) as exc:
        raise InvalidIssuerKeyError(f"public_key_jwk is not a usable public JWK: {exc}") from exc
    if key.algorithm_name not in SUPPORTED_ALGORITHMS:
        raise InvalidIssuerKeyError(
            f"public_key_jwk is for {key.algorithm_name}; supported: "
            + ", ".join(SUPPORTED_ALGORITHMS)
        )


def issuer_read(row: Any) -> BadgeIssuerRead:
    return BadgeIssuerRead(
        id=row["id"],
        name=row["name"],
        public_key_jwk=row["public_key_jwk"],
        revoked_credential_ids=list(row["revoked_credential_ids"]),
        created_at=row["created_at"],
    )


async def register_issuer(pool: Pool, *, data: BadgeIssuerCreate) -> BadgeIssuerRead:
    if data.public_key_jwk is not None:
        _check_public_key(data.public_key_jwk)
    async with pool.acquire() as connection:
        row = await repository.insert_issuer(
            connection,
            issuer_id=data.id,
            name=data.name,
            public_key_jwk=data.public_key_jwk,
            revoked_credential_ids=data.revoked_credential_ids,
        )
    if row is None:
        raise IssuerExistsError("This issuer is already registered.")
    return issuer_read(row)


async def list_issuers(pool: Pool, *, limit: int, cursor: str | None) -> BadgeIssuerList:
    after_id: str | None = None
    if cursor is not None:
        (raw,) = decode_cursor(cursor, arity=1)
        if not isinstance(raw, str):
            raise InvalidCursorError("The cursor is malformed; use next_cursor as given.")
        after_id = raw
    async with pool.acquire() as connection:
        rows = await repository.list_issuers(connection, after_id=after_id, limit=limit + 1)
    page = rows[:limit]
    return BadgeIssuerList(
        items=[issuer_read(row) for row in page],
        next_cursor=encode_cursor([page[-1]["id"]]) if len(rows) > limit else None,
    )


# -- Revocation re-check ---------------------------------------------------------------------


@dataclass
class _RecheckContext(VerificationContext):
    """A verification context that remembers every fetch that failed: a re-check that could
    not reach the issuer has learnt nothing, so it must not change the badge."""

    fetch_failures: list[str] = field(default_factory=list)

    async def fetch(self, url: str) -> Any:
        try:
            return await super().fetch(url)
        except FetchError as exc:
            self.fetch_failures.append(str(exc))
            raise


async def _reverify(row: Any, context: VerificationContext) -> VerifiedBadge:
    raw = row["raw_credential"]
    if row["format"] == "ob3":
        return await verify_badge(
            assertion=None, credential=str(raw), email=row["email"], context=context
        )
    if row["format"] == "ob2_hosted" and isinstance(raw, dict) and "submitted" in raw:
        raw = raw["submitted"]
    return await verify_badge(assertion=raw, credential=None, email=row["email"], context=context)


async def recheck_revocations(
    pool: Pool,
    *,
    client: httpx.AsyncClient,
    settings: ProfilesSettings,
    now: datetime | None = None,
) -> BadgeRecheckResult:
    """Re-verifies the revocation of verified badges last checked over badge_recheck_hours
    ago (at most badge_recheck_batch_size of them). One the issuer now revokes becomes
    verified=false with revoked_at set, through the citizen's unit of work, so the change
    feed carries it; one whose documents cannot be fetched is left as it was and retried on
    the next run. Fetching happens outside any transaction."""
    now = now or datetime.now(UTC)
    async with pool.acquire() as connection:
        due = await repository.badges_due_for_recheck(
            connection,
            checked_before=now - timedelta(hours=settings.badge_recheck_hours),
            limit=settings.badge_recheck_batch_size,
        )
    lookup = issuer_lookup(pool)
    still_valid: list[UUID] = []
    checked = revoked = unreachable = 0
    for row in due:
        context = _RecheckContext(
            client=client,
            allowed_hosts=settings.badge_fetch_allowed_hosts,
            max_bytes=settings.badge_fetch_max_bytes,
            lookup_issuer=lookup,
            now=now,
        )
        log_extra = {"citizen_id": str(row["citizen_id"]), "badge_id": str(row["id"])}
        try:
            result = await _reverify(row, context)
        except InvalidBadgeError as exc:
            logger.warning("badge recheck: stored badge no longer parses: %s", exc, extra=log_extra)
            continue
        if context.fetch_failures:
            unreachable += 1
            logger.warning(
                "badge recheck: issuer documents unreachable, badge left as it was: %s",
                "; ".join(context.fetch_failures),
                extra=log_extra,
            )
            continue
        checked += 1
        if result.checks["revocation"]:
            still_valid.append(row["id"])
            continue
        verification = dict(row["verification"])
        checks = {**verification.get("checks", {}), "revocation": False}
        reasons = [error for error in result.errors if "revoked" in error]
        errors = list(verification.get("errors", [])) + (reasons or ["the badge is revoked"])
        try:
            async with citizen_change(
                pool, citizen_id=row["citizen_id"], settings=settings
            ) as connection:
                changed = await repository.revoke_badge(
                    connection,
                    citizen_id=row["citizen_id"],
                    badge_id=row["id"],
                    verification={"checks": checks, "errors": errors},
                    at=now,
                )
        except CitizenNotFoundError:
            continue  # erased meanwhile: nothing left to revoke
        if changed:
            revoked += 1
            logger.info("badge revoked by its issuer after import", extra=log_extra)
    if still_valid:
        async with pool.acquire() as connection:
            await repository.mark_rechecked(connection, badge_ids=still_valid, at=now)
    logger.info(
        "badge revocation recheck",
        extra={"checked": checked, "revoked": revoked, "unreachable": unreachable},
    )
    return BadgeRecheckResult(checked=checked, revoked=revoked)


async def recheck_loop(
    pool: Pool, *, client: httpx.AsyncClient, settings: ProfilesSettings
) -> None:
    """The lifespan's background task: one bounded re-check every interval, the first after
    one interval; a failing run is logged and the next one tries again."""
    interval = settings.badge_recheck_interval_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            await recheck_revocations(pool, client=client, settings=settings)
        except Exception:
            logger.exception("badge revocation recheck failed; retrying next interval")
