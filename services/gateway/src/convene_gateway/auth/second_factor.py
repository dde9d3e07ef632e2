"""TOTP (RFC 6238, pyotp) and one-time recovery codes: enrolment and checks.

Admins must pass it to get admin scope (outside development and test, where an admin who
has not enrolled yet may sign in with a password alone; see GatewaySettings); staff
managers may enrol (encouraged), and once enrolled every sign-in of theirs needs it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

import pyotp

from convene_gateway.dependencies import Connection

ISSUER = "Convene"
RECOVERY_CODES = 10
STEP_SECONDS = 30


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    recovery_codes: list[str]


@dataclass(frozen=True)
class TotpRow:
    secret: str
    confirmed: bool
    last_step: int


def _code_hash(code: str) -> bytes:
    normalised = code.strip().replace("-", "").replace(" ", "").lower()
    return hashlib.sha256(normalised.encode()).digest()


def _recovery_code() -> str:
    raw = secrets.token_hex(5)  # 40 bits each half-shown as xxxxx-xxxxx
    return f"{raw[:5]}-{raw[5:]}"


async def get(connection: Connection, *, account_id: uuid.UUID) -> TotpRow | None:
    record = await connection.fetchrow(
        """SELECT secret, confirmed_at IS NOT NULL AS confirmed, last_step
           FROM account_totp WHERE account_id = $1""",
        account_id,
    )
    return None if record is None else TotpRow(**dict(record))


async def enrol(
    connection: Connection, *, account_id: uuid.UUID, email: str, secret: str | None = None
) -> Enrolment:
    """A new (unconfirmed) secret and recovery codes, replacing any unconfirmed enrolment. A
    confirmed one is replaced too: the caller holds a session that passed it (or is an
    operator running bootstrap)."""
    secret = secret or pyotp.random_base32()
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    async with connection.transaction():
        await connection.execute(
            """INSERT INTO account_totp (account_id, secret) VALUES ($1, $2)
               ON CONFLICT (account_id) DO UPDATE
                   SET secret = excluded.secret, confirmed_at = NULL, last_step = 0,
                       created_at = now()""",
            account_id,
            secret,
        )
        await connection.execute("DELETE FROM recovery_code WHERE account_id = $1", account_id)
        await connection.executemany(
            "INSERT INTO recovery_code (account_id, code_hash) VALUES ($1, $2)",
            [(account_id, _code_hash(code)) for code in codes],
        )
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)
    return Enrolment(secret=secret, otpauth_uri=uri, recovery_codes=codes)


async def mark_confirmed(connection: Connection, *, account_id: uuid.UUID) -> None:
    await connection.execute(
        """UPDATE account_totp SET confirmed_at = coalesce(confirmed_at, now())
           WHERE account_id = $1""",
        account_id,
    )


async def check(
    connection: Connection, *, account_id: uuid.UUID, code: str, allow_unconfirmed: bool = False
) -> bool:
    """A current TOTP code (±1 step, each step once) or an unused recovery code."""
    row = await get(connection, account_id=account_id)
    if row is None or not (row.confirmed or allow_unconfirmed):
        return False
    code = code.strip()
    if code.isdigit() and len(code) == 6:
        now_step = int(time.time()) // STEP_SECONDS
        totp = pyotp.TOTP(row.secret)
        for step in (now_step, now_step - 1, now_step + 1):
            if step <= row.last_step:
                continue
            if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
                updated: str = await connection.execute(
                    """UPDATE account_totp SET last_step = $2
                       WHERE account_id = $1 AND last_step < $2""",
                    account_id,
                    step,
                )
                return updated.endswith(" 1")
        return False
    result: str = await connection.execute(
        """UPDATE recovery_code SET used_at = now()
           WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL""",
        account_id,
        _code_hash(code),
    )
    return result.endswith(" 1")
