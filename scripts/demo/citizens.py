"""Synthetic, reproducible demo citizens: `python -m scripts.demo.citizens --dsn DSN --count 2000`.

Citizens are drawn from personas (planners, engineers, cyclists, cab drivers, carers, nurses,
...) across real UK local authorities, with skills and levels, lived-experience roles,
affiliations, prior rated contributions and Open Badges 3.0 credentials signed by a demo issuer
and verified for real. Every citizen gets its upsert change on the feed, as the matcher builds
its index from the feed. Rows go in with COPY, so 100,000 citizens take about a minute.

Demo skills carry no ESCO code: the codes once written here were invented (an ESCO skill URI
is a real concept id), and a made-up code would look like real taxonomy data.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import asyncpg
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from convene_common.db import Connection
from convene_profiles.badges.verification import TrustedIssuer, VerificationContext, verify_badge
from convene_profiles.changes import repository as changes_repository
from convene_profiles.profile_state import CitizenState, match_snapshot
from convene_profiles.ratings.scoring import RatingPolicy

DEMO_ISSUER_ID = "https://badges.demo.convene.example/issuer"
DEMO_ISSUER_NAME = "Convene Demo Civic Skills Academy"
# A fixed demo key, so runs with different seeds all verify against one registered issuer.
_DEMO_ISSUER_SECRET = 0x5EED_C0DE_0F_C1_71_2E_45

# key -> skill label (no ESCO code: see the module docstring)
SKILLS: dict[str, str] = {
    "urban_planning": "Urban planning",
    "traffic_engineering": "Traffic engineering",
    "cycling_infra": "Cycling infrastructure design",
    "transport_modelling": "Transport modelling",
    "public_health": "Public health",
    "social_care": "Social care",
    "data_analysis": "Data analysis",
    "accessibility": "Accessibility auditing",
    "procurement": "Public procurement",
    "community_organising": "Community organising",
    "road_safety": "Road safety",
    "driving_city": "Driving in city traffic",
    "nursing": "Nursing care",
    "teaching": "Teaching children",
    "housing": "Housing policy",
    "environmental": "Air quality monitoring",
    "gis": "GIS mapping",
    "finance": "Public finance and budgeting",
    "retail": "Running a small shop",
    "youth_work": "Youth work",
    "translation": "Community translation",
    "caring": "Caring for a disabled relative",
    "mental_health": "Mental health peer support",
    "stats": "Survey design and statistics",
    "law": "Planning law",
}

# persona -> (weight, core skills, optional skills, likely curated roles)
PERSONAS: dict[str, tuple[int, list[str], list[str], list[str]]] = {
    "planner": (
        8,
        ["urban_planning"],
        ["gis", "law", "housing", "transport_modelling"],
        ["cyclist", "pedestrian"],
    ),
    "engineer": (
        6,
        ["traffic_engineering"],
        ["transport_modelling", "road_safety", "cycling_infra", "gis"],
        ["cyclist"],
    ),
    "cycle_advocate": (
        8,
        ["cycling_infra"],
        ["community_organising", "road_safety", "data_analysis"],
        ["cyclist", "parent-school-age"],
    ),
    "cab_driver": (
        6,
        ["driving_city"],
        ["road_safety", "retail"],
        ["cab-driver", "local-business-owner"],
    ),
    "bus_driver": (4, ["driving_city"], ["road_safety"], ["bus-driver", "public-transport-user"]),
    "carer": (
        8,
        ["caring"],
        ["social_care", "mental_health", "accessibility"],
        ["carer", "older-resident"],
    ),
    "wheelchair_user": (
        5,
        ["accessibility"],
        ["community_organising", "data_analysis"],
        ["wheelchair-user", "disabled-person", "public-transport-user"],
    ),
    "nurse": (6, ["nursing"], ["public_health", "mental_health"], ["nurse", "parent-school-age"]),
    "teacher": (
        6,
        ["teaching"],
        ["youth_work", "community_organising"],
        ["teacher", "parent-school-age"],
    ),
    "social_worker": (
        4,
        ["social_care"],
        ["housing", "mental_health", "youth_work"],
        ["social-worker"],
    ),
    "analyst": (
        7,
        ["data_analysis"],
        ["stats", "gis", "finance", "public_health"],
        ["cyclist", "tenant"],
    ),
    "procurement_officer": (3, ["procurement"], ["finance", "law"], []),
    "shopkeeper": (
        5,
        ["retail"],
        ["community_organising", "finance"],
        ["local-business-owner", "small-provider"],
    ),
    "public_health": (
        4,
        ["public_health"],
        ["environmental", "stats", "data_analysis"],
        ["pedestrian"],
    ),
    "resident": (
        15,
        [],
        ["community_organising", "translation", "environmental", "housing"],
        ["older-resident", "pedestrian", "tenant", "young-person", "public-transport-user"],
    ),
}

# (GSS code, postcode area, centroid lat, lon, weight)
AUTHORITIES = [
    ("E08000003", "M", 53.4808, -2.2426, 20),
    ("E08000035", "LS", 53.8008, -1.5491, 15),
    ("E06000023", "BS", 51.4545, -2.5879, 12),
    ("E09000033", "SW", 51.4975, -0.1357, 10),
    ("E08000025", "B", 52.4862, -1.8904, 20),
    ("W06000015", "CF", 51.4816, -3.1791, 8),
]

LANGUAGES = [("cy", 3), ("pl", 4), ("ur", 4), ("pa", 3), ("so", 2), ("bn", 2), ("ar", 2), ("fr", 2)]

ACCESS_NEEDS = ["step-free access", "hearing loop", "large print", "BSL interpreter", "quiet room"]

ORGANISATIONS = [
    ("Metro Cabs Ltd", "commercial_interest"),
    ("City Bikes Ltd", "commercial_interest"),
    ("Manchester City Council", "employer"),
    ("Leeds City Council", "employer"),
    ("Bristol Cycling Campaign", "board"),
    ("NHS Greater Manchester", "employer"),
    ("Northern Bus Company", "employer"),
    ("Westminster Residents' Association", "board"),
    ("Greenway Construction plc", "commercial_interest"),
    ("Age UK", "other"),
]

PUBLIC_BODIES = [uuid.UUID(int=0xB0D1E5 * 1_000_003 + index) for index in range(12)]
TOPICS = [
    "bike lanes",
    "bus priority",
    "social care commissioning",
    "school streets",
    "air quality",
    "town centre regeneration",
    "accessible transport",
    "housing repairs",
]
LEVELS = ["want_to_learn", "can_explain", "can_connect", "can_do"]


@dataclass
class _Generated:
    citizens: list[dict[str, Any]]
    skills: list[dict[str, Any]]
    roles: list[dict[str, Any]]
    affiliations: list[dict[str, Any]]
    ratings: list[dict[str, Any]]
    badges: list[dict[str, Any]]


def demo_issuer_key() -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(_DEMO_ISSUER_SECRET, ec.SECP256R1())


def demo_issuer_jwk() -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(demo_issuer_key().public_key()))
    return jwk


def _weighted(rng: random.Random, items: list[tuple[Any, int]]) -> Any:
    return rng.choices([item for item, _ in items], weights=[w for _, w in items])[0]


def _generate(*, count: int, seed: int, offset: int, now: datetime) -> _Generated:
    rng = random.Random(f"convene-demo:{seed}:{offset}")
    out = _Generated([], [], [], [], [], [])
    persona_items = [(name, spec[0]) for name, spec in PERSONAS.items()]
    authority_items = [(a, a[4]) for a in AUTHORITIES]

    def new_id() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    for index in range(count):
        number = offset + index + 1
        citizen_id = new_id()
        persona = _weighted(rng, persona_items)
        _, core, optional, likely_roles = PERSONAS[persona]
        created_at = now - timedelta(days=rng.uniform(0, 900))
        place: tuple[str | None, str | None, float | None, float | None] = (None, None, None, None)
        if rng.random() > 0.07:
            code, area, lat, lon, _ = _weighted(rng, authority_items)
            if rng.random() < 0.8:
                place = (
                    code,
                    area,
                    round(lat + rng.gauss(0, 0.04), 5),
                    round(lon + rng.gauss(0, 0.06), 5),
                )
            else:
                place = (code, area, None, None)
        languages = ["en"] if rng.random() < 0.97 else []
        if rng.random() < 0.18:
            languages.append(_weighted(rng, LANGUAGES))
        unavailable = []
        if rng.random() < 0.1:
            start = now + timedelta(days=rng.randint(1, 120))
            unavailable.append(
                {
                    "start": start.isoformat(),
                    "end": (start + timedelta(days=rng.randint(3, 30))).isoformat(),
                }
            )
        out.citizens.append(
            {
                "id": citizen_id,
                "email": f"citizen{number}@demo.convene.example",
                "display_name": f"Demo Citizen {number}",
                "bio": "",
                "place_authority_code": place[0],
                "place_postcode_area": place[1],
                "place_lat": place[2],
                "place_lon": place[3],
                "languages": list(dict.fromkeys(languages)),
                "access_needs": rng.sample(ACCESS_NEEDS, k=1) if rng.random() < 0.08 else [],
                "consent_matching": rng.random() < 0.92,
                "consent_contact": rng.random() < 0.6,
                # Demo people have confirmed their address (matching needs consent AND it).
                "email_verified": True,
                "max_invitations_per_month": rng.choice([1, 2, 2, 4, 4, 4, 6, 8]),
                "hours_per_month": rng.choice([1, 2, 4, 4, 6, 8, 12]),
                "unavailable": unavailable,
                "created_at": created_at,
                "updated_at": created_at,
            }
        )
        chosen = list(core) + rng.sample(optional, k=rng.randint(0, min(3, len(optional))))
        if rng.random() < 0.3:
            chosen.append(rng.choice(list(SKILLS)))
        for key in dict.fromkeys(chosen):
            label = SKILLS[key]
            level = (
                rng.choices(LEVELS, weights=[1, 3, 2, 6])[0]
                if key in core
                else rng.choices(LEVELS, weights=[3, 4, 2, 2])[0]
            )
            out.skills.append(
                {
                    "id": new_id(),
                    "citizen_id": citizen_id,
                    "label": label,
                    "level": level,
                    "code": None,
                    "visible_to_bodies": True,
                    "created_at": created_at,
                }
            )
        for slug in likely_roles:
            if rng.random() < 0.6:
                out.roles.append(
                    {
                        "id": new_id(),
                        "citizen_id": citizen_id,
                        "role_slug": slug,
                        "label": slug,
                        "visible_to_bodies": True,
                        "created_at": created_at,
                    }
                )
        if rng.random() < 0.03:
            out.roles.append(
                {
                    "id": new_id(),
                    "citizen_id": citizen_id,
                    "role_slug": None,
                    "label": rng.choice(
                        [
                            "Allotment holder",
                            "Canal boat resident",
                            "Night-shift worker",
                            "Market trader",
                        ]
                    ),
                    "visible_to_bodies": True,
                    "created_at": created_at,
                }
            )
        affiliation_chance = (
            0.35 if persona in ("cab_driver", "procurement_officer", "planner") else 0.08
        )
        if rng.random() < affiliation_chance:
            organisation, kind = rng.choice(ORGANISATIONS)
            if persona == "cab_driver" and rng.random() < 0.6:
                organisation, kind = "Metro Cabs Ltd", "commercial_interest"
            out.affiliations.append(
                {
                    "id": new_id(),
                    "citizen_id": citizen_id,
                    "organisation": organisation,
                    "kind": kind,
                    "created_at": created_at,
                }
            )
        if rng.random() < 0.15:
            bodies = rng.sample(PUBLIC_BODIES, k=rng.randint(1, 3))
            for body in bodies:
                quality = rng.gauss(3.8, 0.8)
                topic = rng.choice(TOPICS)
                out.ratings.append(
                    {
                        "id": new_id(),
                        "citizen_id": citizen_id,
                        "public_body_id": body,
                        "contribution_id": new_id(),
                        "rating": max(1, min(5, round(quality))),
                        "comment": None,
                        "topic": None,
                        "rated_at": now - timedelta(days=rng.uniform(1, 700)),
                        # What the demo contributor wrote: their topic, as the evidence text.
                        "contribution_text": topic,
                        "confidential": False,
                    }
                )
        if chosen and rng.random() < 0.18:
            skill_label = SKILLS[chosen[0]]
            expired = rng.random() < 0.1
            out.badges.append(
                {
                    "citizen_id": citizen_id,
                    "email": out.citizens[-1]["email"],
                    "credential_id": f"urn:uuid:{new_id()}",
                    "name": f"{skill_label} practitioner",
                    "issued": now - timedelta(days=rng.uniform(30, 800)),
                    "expired": expired,
                }
            )
    for role in out.roles:
        if role["role_slug"] is not None:
            role["label"] = role["role_slug"].replace("-", " ").capitalize()
    return out


async def _badge_rows(badges: list[dict[str, Any]], *, now: datetime) -> list[dict[str, Any]]:
    key = demo_issuer_key()
    trusted = TrustedIssuer(
        id=DEMO_ISSUER_ID,
        name=DEMO_ISSUER_NAME,
        public_key_jwk=demo_issuer_jwk(),
        revoked_credential_ids=frozenset(),
    )

    async def lookup(issuer_id: str) -> TrustedIssuer | None:
        return trusted if issuer_id == DEMO_ISSUER_ID else None

    # No fetch is ever needed for these credentials: no client, no allowed hosts.
    context = VerificationContext(
        client=cast(Any, None), allowed_hosts=[], max_bytes=0, lookup_issuer=lookup, now=now
    )
    rows = []
    for badge in badges:
        valid_until = badge["issued"] + timedelta(days=365 if badge["expired"] else 3650)
        if badge["expired"]:
            valid_until = min(valid_until, now - timedelta(days=1))
        payload = {
            "iss": DEMO_ISSUER_ID,
            "jti": badge["credential_id"],
            "vc": {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "id": badge["credential_id"],
                "type": ["VerifiableCredential", "OpenBadgeCredential"],
                "issuer": {"id": DEMO_ISSUER_ID, "name": DEMO_ISSUER_NAME},
                "validFrom": badge["issued"].isoformat(),
                "validUntil": valid_until.isoformat(),
                "credentialSubject": {
                    "id": f"mailto:{badge['email']}",
                    "achievement": {
                        "name": badge["name"],
                        "description": f"Assessed practice in {badge['name'].lower()}",
                        "criteria": {"narrative": "Portfolio review and observed practice"},
                    },
                },
            },
        }
        token = jwt.encode(payload, key, algorithm="ES256")
        result = await verify_badge(
            assertion=None, credential=token, email=badge["email"], context=context
        )
        rows.append(
            {
                "id": uuid.uuid5(uuid.NAMESPACE_URL, badge["credential_id"]),
                "citizen_id": badge["citizen_id"],
                "format": result.format,
                "name": result.name,
                "description": result.description,
                "criteria": result.criteria,
                "issuer_id": result.issuer_id,
                "issuer_name": result.issuer_name,
                "raw_credential": result.raw_credential,
                "verified": result.verified,
                "verification": result.verification(),
                "checked_at": now,
                "issued_on": result.issued_on,
                "expires_at": result.expires_at,
                "created_at": result.issued_on or now,
            }
        )
    return rows


async def _copy(connection: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    await connection.copy_records_to_table(
        table, records=[tuple(row[c] for c in columns) for row in rows], columns=columns
    )


async def _insert_many(connection: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """For tables with jsonb columns: binary COPY has no encoder for the jsonb codec."""
    if not rows:
        return
    columns = list(rows[0])
    placeholders = ", ".join(f"${index}" for index in range(1, len(columns) + 1))
    await connection.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
        [tuple(row[c] for c in columns) for row in rows],
    )


async def generate_demo(
    connection: Connection,
    *,
    count: int,
    seed: int,
    policy: RatingPolicy | None = None,
    batch_size: int = 5000,
) -> int:
    """Inserts `count` demo citizens (with their change-feed rows); returns how many.

    The connection must use search_path = profiles and the json/jsonb codecs of
    convene_common.db (as the service's pool does).
    """
    policy = policy or RatingPolicy()
    now = datetime.now(UTC).replace(microsecond=0)
    await connection.execute(
        """INSERT INTO badge_issuer (id, name, public_key_jwk) VALUES ($1, $2, $3)
           ON CONFLICT (id) DO NOTHING""",
        DEMO_ISSUER_ID,
        DEMO_ISSUER_NAME,
        demo_issuer_jwk(),
    )
    offset: int = await connection.fetchval("SELECT count(*) FROM citizen")
    done = 0
    while done < count:
        size = min(batch_size, count - done)
        data = _generate(count=size, seed=seed, offset=offset + done, now=now)
        badges = await _badge_rows(data.badges, now=now)
        async with connection.transaction():
            await _insert_many(connection, "citizen", data.citizens)
            await _copy(connection, "skill", data.skills)
            await _copy(connection, "citizen_role", data.roles)
            await _copy(connection, "affiliation", data.affiliations)
            await _copy(connection, "rating", data.ratings)
            await _insert_many(connection, "badge", badges)
            states = {row["id"]: CitizenState(citizen=cast(Any, row)) for row in data.citizens}
            for key, rows in (
                ("skills", data.skills),
                ("roles", data.roles),
                ("affiliations", data.affiliations),
                ("ratings", data.ratings),
            ):
                for row in rows:
                    getattr(states[row["citizen_id"]], key).append(row)
            for row in badges:
                states[row["citizen_id"]].badges.append(cast(Any, row))
            snapshots = [match_snapshot(state, policy=policy, now=now) for state in states.values()]
            last = await changes_repository.reserve_seqs(connection, count=len(snapshots))
            first = last - len(snapshots) + 1
            await _insert_many(
                connection,
                "change",
                [
                    {
                        "seq": first + index,
                        "citizen_id": snapshot["citizen_id"],
                        "kind": "upsert",
                        "occurred_at": now,
                        "snapshot": snapshot,
                    }
                    for index, snapshot in enumerate(snapshots)
                ],
            )
        done += size
    return done


async def _main(dsn: str, *, count: int, seed: int, if_empty: bool) -> None:
    connection = await asyncpg.connect(dsn, server_settings={"search_path": "profiles"})
    try:
        for type_name in ("json", "jsonb"):
            await connection.set_type_codec(
                type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
            )
        existing = await connection.fetchval("SELECT count(*) FROM citizen")
        if if_empty and existing:
            print(f"profiles already holds {existing} citizens; nothing generated")  # noqa: T201
            return
        started = time.perf_counter()
        made = await generate_demo(connection, count=count, seed=seed)
        elapsed = time.perf_counter() - started
        print(f"generated {made} demo citizens in {elapsed:.1f}s")  # noqa: T201
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Generate synthetic demo citizens.")
    parser.add_argument("--dsn", required=True, help="PostgreSQL DSN (role convene_profiles)")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--if-empty", action="store_true", help="do nothing if citizens exist")
    args = parser.parse_args()
    asyncio.run(_main(args.dsn, count=args.count, seed=args.seed, if_empty=args.if_empty))


if __name__ == "__main__":
    main()
