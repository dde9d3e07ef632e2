"""Creates or updates the admin account and, optionally, an organisation with a fresh API key.

    python -m convene_gateway.bootstrap --dsn DSN --admin-email E --admin-password P \\
        [--admin-totp-secret BASE32] \\
        [--organisation NAME [--organisation-kind council] [--scopes calls:read,calls:write] \\
         [--print-api-key] [--member EMAIL:PASSWORD:ROLE ...]]

Idempotent: the admin's password is reset to the one given; an existing organisation (by name)
is reused. Applies the gateway's migrations first. Prints JSON
{admin_email, admin_id, organisation_id, api_key}; api_key is null unless --print-api-key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any, get_args

import asyncpg

from convene_common.migrations import apply_migrations
from convene_gateway.accounts import service as accounts
from convene_gateway.auth import second_factor
from convene_gateway.auth.passwords import PasswordHasher
from convene_gateway.config import GatewaySettings
from convene_gateway.main import MIGRATIONS_DIR
from convene_gateway.organisations import service as organisations
from convene_gateway.organisations.schemas import (
    DEFAULT_API_KEY_SCOPES,
    ApiKeyScope,
    OrganisationKind,
)

SCHEMA = GatewaySettings.model_fields["database_schema"].default


async def bootstrap(
    *,
    dsn: str,
    admin_email: str,
    admin_password: str,
    organisation: str | None,
    organisation_kind: str,
    scopes: list[str],
    create_api_key: bool,
    hasher: PasswordHasher,
    admin_totp_secret: str | None = None,
    members: list[tuple[str, str, str]] | None = None,
) -> dict[str, Any]:
    """members: (email, password, role) of staff of the organisation, made or reset (demo)."""
    connection = await asyncpg.connect(dsn, server_settings={"search_path": SCHEMA})
    try:
        await apply_migrations(connection, schema=SCHEMA, directory=MIGRATIONS_DIR)
        admin = await accounts.ensure_admin(
            connection=connection, hasher=hasher, email=admin_email, password=admin_password
        )
        result: dict[str, Any] = {
            "admin_email": admin.email,
            "admin_id": str(admin.id),
            "organisation_id": None,
            "api_key": None,
        }
        if admin_totp_secret is not None:
            enrolment = await second_factor.enrol(
                connection, account_id=admin.id, email=admin.email, secret=admin_totp_secret
            )
            await second_factor.mark_confirmed(connection, account_id=admin.id)
            result["admin_totp_secret"] = enrolment.secret
        if organisation is not None:
            org = await organisations.ensure_organisation(
                connection=connection, name=organisation, kind=organisation_kind
            )
            result["organisation_id"] = str(org.id)
            for email, password, role in members or []:
                await accounts.ensure_member(
                    connection=connection,
                    hasher=hasher,
                    organisation_id=org.id,
                    email=email,
                    password=password,
                    role=role,
                )
            if create_api_key:
                created = await organisations.create_api_key_with(
                    connection=connection,
                    organisation_id=org.id,
                    name="bootstrap",
                    scopes=scopes,
                    created_by=admin.id,
                )
                result["api_key"] = created.plaintext
        return result
    finally:
        await connection.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--dsn", required=True, help="gateway database DSN (role convene_gateway)")
    parser.add_argument("--admin-email", required=True)
    parser.add_argument("--admin-password", required=True)
    parser.add_argument("--organisation", help="create (or reuse) this organisation")
    parser.add_argument(
        "--organisation-kind", default="council", choices=get_args(OrganisationKind)
    )
    parser.add_argument(
        "--scopes",
        default=",".join(DEFAULT_API_KEY_SCOPES),
        help=f"comma-separated API key scopes from: {', '.join(get_args(ApiKeyScope))}",
    )
    parser.add_argument(
        "--print-api-key", action="store_true", help="create a fresh API key and print it"
    )
    parser.add_argument(
        "--admin-totp-secret",
        help="enrol (or re-enrol) the admin's TOTP second factor with this base32 secret",
    )
    parser.add_argument(
        "--member",
        action="append",
        default=[],
        metavar="EMAIL:PASSWORD:ROLE",
        help="a staff member of --organisation (role manager or officer); repeatable",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    scopes = [scope.strip() for scope in args.scopes.split(",") if scope.strip()]
    unknown = sorted(set(scopes) - set(get_args(ApiKeyScope)))
    if unknown or not scopes:
        sys.stderr.write(f"unknown or missing scopes: {unknown}\n")
        return 2
    if len(args.admin_password) < 10:
        sys.stderr.write("the admin password must be at least 10 characters\n")
        return 2
    if args.print_api_key and not args.organisation:
        sys.stderr.write("--print-api-key needs --organisation\n")
        return 2
    # The service's default parameters; the hash records them, and a login with the service's
    # own parameters rehashes if they differ. No service settings (secrets) are needed here.
    fields = GatewaySettings.model_fields
    hasher = PasswordHasher(
        time_cost=fields["argon2_time_cost"].default,
        memory_cost_kib=fields["argon2_memory_cost_kib"].default,
        parallelism=fields["argon2_parallelism"].default,
        concurrency=1,
    )
    members: list[tuple[str, str, str]] = []
    for spec in args.member:
        email, _, rest = spec.partition(":")
        password, _, role = rest.rpartition(":")
        if role not in ("manager", "officer") or len(password) < 10 or not email:
            sys.stderr.write("--member needs EMAIL:PASSWORD:ROLE (password >= 10 characters)\n")
            return 2
        members.append((email, password, role))
    if members and not args.organisation:
        sys.stderr.write("--member needs --organisation\n")
        return 2
    result = asyncio.run(
        bootstrap(
            dsn=args.dsn,
            admin_email=args.admin_email,
            admin_password=args.admin_password,
            organisation=args.organisation,
            organisation_kind=args.organisation_kind,
            scopes=scopes,
            create_api_key=args.print_api_key,
            hasher=hasher,
            admin_totp_secret=args.admin_totp_secret,
            members=members,
        )
    )
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
