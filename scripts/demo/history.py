"""Demo history: simulated invitation answers and ratings from a hidden ground truth.

For ``make run`` (and tests): posts demo calls to the matcher, routes each through its API
(the real pipeline, stored as usual), "invites" the top of each shortlist, and draws each
invitee's answer and rating from a ground truth the matcher never sees: per call topic, the
skill words and roles that truly make someone useful (broader than the call's text says),
plus seeded noise. Accepted and rated >= 4 is a relevant label; declined as
not_my_expertise is a not-relevant one. Rows go to ``outcome_label`` (source "demo") and the
exposure ledger. Seeded: the same population, seed and calls give the same history.

    python -m scripts.demo.history --dsn ... --matcher-url ... \
        --profiles-url ... [--internal-token ...] [--calls 24] [--seed 11] [--if-empty]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from convene_common.db import Pool, create_pool
from convene_matcher.clients.profiles import CitizenProfile, ProfilesClient
from convene_matcher.evaluation import repository
from convene_matcher.routing.repository import record_invitation

logger = logging.getLogger("convene.demo.history")

SOURCE = "demo"
DEMO_BODY_ID = uuid.UUID("00000000-0000-4000-8000-0000000de770")
DEMO_BODY_NAME = "Demo City Council"
INVITED_PER_CALL = 15


@dataclass(frozen=True)
class Topic:
    title: str
    description: str
    skills: tuple[str, ...]
    perspectives: tuple[str, ...]
    # Hidden ground truth: words in a skill label and roles that truly make someone useful.
    true_words: tuple[str, ...]
    true_roles: tuple[str, ...]


TOPICS = (
    Topic(
        "Protected bike lanes on Oxford Road",
        "Segregated cycle lanes and junction changes: we want people who plan streets, "
        "engineer traffic signals, cycle the route or drive along it.",
        ("urban planning", "transport engineering"),
        ("cyclist", "cab-driver"),
        ("cycl", "traffic", "planning", "road", "transport", "driving", "street"),
        ("cyclist", "cab-driver", "bus-driver", "wheelchair-user"),
    ),
    Topic(
        "Accessible bus stops",
        "Redesigning bus stops so that disabled and older residents can use them.",
        ("accessibility", "street design"),
        ("wheelchair-user", "public-transport-user"),
        ("access", "disab", "bus", "street", "caring", "transport"),
        ("wheelchair-user", "disabled-person", "public-transport-user", "older-resident", "carer"),
    ),
    Topic(
        "Support for unpaid carers",
        "What would help people who care for a relative at home?",
        ("social care", "caring for a disabled relative"),
        ("carer",),
        ("car", "social", "mental", "nurs", "health"),
        ("carer", "social-worker", "nurse", "older-resident"),
    ),
    Topic(
        "After-school youth provision",
        "Planning youth clubs and after-school activities across the borough.",
        ("youth work", "teaching"),
        ("teacher", "parent-school-age"),
        ("youth", "teach", "community", "social"),
        ("teacher", "parent-school-age", "social-worker"),
    ),
    Topic(
        "Local shops and the high street",
        "How should the council support small shops on the high street?",
        ("running a small shop", "finance"),
        ("local-business-owner",),
        ("shop", "retail", "finance", "business", "community"),
        ("local-business-owner", "small-provider"),
    ),
    Topic(
        "Air quality near schools",
        "Measuring and reducing air pollution around primary schools.",
        ("public health", "data analysis"),
        ("parent-school-age",),
        ("health", "data", "environment", "statistic", "traffic"),
        ("parent-school-age", "teacher", "pedestrian"),
    ),
)


def truth(topic: Topic, citizen: CitizenProfile, rng: random.Random) -> float:
    """How useful this person truly is for the topic (0..1), with seeded noise."""
    labels = [skill.label.casefold() for skill in citizen.skills]
    roles = {role.role.casefold() for role in citizen.roles}
    skill_hits = sum(1 for label in labels if any(w in label for w in topic.true_words))
    role_hits = len(roles & set(topic.true_roles))
    score = 0.35 * min(skill_hits, 2) + 0.3 * min(role_hits, 1) + rng.gauss(0, 0.12)
    return max(0.0, min(1.0, score))


def answer(value: float, rng: random.Random) -> tuple[str, str | None, int | None]:
    """(answer, decline reason, rating) drawn from the true usefulness."""
    if rng.random() < 0.1:
        return "no_answer", None, None
    if rng.random() < 0.15 + 0.75 * value:
        rating = 5 if value > 0.6 else 4 if value > 0.4 else rng.choice([2, 3])
        return "accepted", None, rating
    reason = "not_my_expertise" if value < 0.35 else rng.choice(["no_time", "not_interested"])
    return "declined", reason, None


def call_body(topic: Topic, *, with_perspectives: bool, now: datetime) -> dict[str, Any]:
    return {
        "public_body_id": str(DEMO_BODY_ID),
        "public_body_name": DEMO_BODY_NAME,
        "title": topic.title,
        "description": topic.description,
        "skills": [{"label": s} for s in topic.skills],
        "perspectives": [{"role": r, "min": 1, "max": 3} for r in topic.perspectives]
        if with_perspectives
        else [],
        "deadline": (now + timedelta(days=30)).isoformat(),
        "panel_size": 10,
    }


async def _post_call(matcher: httpx.AsyncClient, topic: Topic, now: datetime) -> dict[str, Any]:
    response = await matcher.post(
        "/v1/calls", json=call_body(topic, with_perspectives=True, now=now)
    )
    if response.status_code == 422:  # a wanted role nobody holds in this population
        response = await matcher.post(
            "/v1/calls", json=call_body(topic, with_perspectives=False, now=now)
        )
    response.raise_for_status()
    created: dict[str, Any] = response.json()
    return created


async def generate_history(
    *,
    pool: Pool,
    matcher: httpx.AsyncClient,
    profiles: ProfilesClient,
    calls: int,
    seed: int,
    invited_per_call: int = INVITED_PER_CALL,
) -> dict[str, int]:
    """Posts ``calls`` demo calls, routes them and records simulated outcomes."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    counts = {"calls": 0, "invited": 0, "relevant": 0, "not_relevant": 0}
    citizens: dict[str, CitizenProfile] = {}
    for number in range(calls):
        topic = TOPICS[number % len(TOPICS)]
        call = await _post_call(matcher, topic, now)
        matched = await matcher.post(
            f"/v1/calls/{call['id']}/match",
            params={"public_body_id": str(DEMO_BODY_ID)},
            json={"seed": seed + number},
        )
        matched.raise_for_status()
        async with pool.acquire() as connection:
            rows = await connection.fetch(
                """SELECT citizen_id::text AS citizen_id FROM call_match
                   WHERE call_id = $1 AND latest ORDER BY position LIMIT $2""",
                uuid.UUID(call["id"]),
                invited_per_call,
            )
        outcomes: list[tuple[Any, ...]] = []
        for row in rows:
            citizen_id = row["citizen_id"]
            if citizen_id not in citizens:
                profile = await profiles.get_citizen(citizen_id=citizen_id)
                if profile is None:  # erased since it was matched
                    continue
                citizens[citizen_id] = profile
            value = truth(topic, citizens[citizen_id], rng)
            said, reason, rating = answer(value, rng)
            outcomes.append((uuid.UUID(call["id"]), citizen_id, said, reason, rating, SOURCE))
            counts["invited"] += 1
            counts["relevant"] += said == "accepted" and (rating or 0) >= 4
            counts["not_relevant"] += reason == "not_my_expertise"
        async with pool.acquire() as connection, connection.transaction():
            await repository.insert_outcomes(connection, rows=outcomes)
            for outcome in outcomes:
                await record_invitation(
                    connection,
                    citizen_id=outcome[1],
                    public_body_id=DEMO_BODY_ID,
                    call_id=outcome[0],
                    invited_at=datetime.now(UTC),
                )
        counts["calls"] += 1
    logger.info("demo history generated", extra=counts)
    return counts


async def _wait_indexed(matcher: httpx.AsyncClient, *, timeout: float) -> None:
    """Until the matcher has applied the whole change feed (the demo data is indexed)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await matcher.get("/v1/index/status")
        if response.status_code == 200:
            status = response.json()
            if status.get("citizens", 0) > 0 and status.get("lag") == 0:
                return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the matcher did not finish indexing the demo data in time")
        await asyncio.sleep(1.0)


async def _main(args: argparse.Namespace) -> None:
    headers = {"X-Internal-Token": args.internal_token} if args.internal_token else {}
    pool = await create_pool(args.dsn, schema="matcher", min_size=1, max_size=2)
    try:
        async with pool.acquire() as connection:
            existing = await repository.count_outcomes(connection, source=SOURCE)
        if args.if_empty and existing:
            print(json.dumps({"skipped": True, "outcomes": existing}))  # noqa: T201
            return
        timeout = httpx.Timeout(60.0, connect=5.0)
        profiles = ProfilesClient.create(
            base_url=args.profiles_url, timeout_seconds=60.0, internal_token=args.internal_token
        )
        try:
            async with httpx.AsyncClient(
                base_url=args.matcher_url, headers=headers, timeout=timeout
            ) as matcher:
                await _wait_indexed(matcher, timeout=args.wait_seconds)
                counts = await generate_history(
                    pool=pool, matcher=matcher, profiles=profiles, calls=args.calls, seed=args.seed
                )
        finally:
            await profiles.aclose()
        print(json.dumps(counts))  # noqa: T201
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--matcher-url", default="http://127.0.0.1:8002")
    parser.add_argument("--profiles-url", default="http://127.0.0.1:8001")
    # From the environment by default: a token on the command line shows in process lists.
    parser.add_argument(
        "--internal-token", default=os.environ.get("CONVENE_MATCHER_INTERNAL_TOKEN")
    )
    parser.add_argument("--calls", type=int, default=24)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--wait-seconds", type=float, default=600.0)
    parser.add_argument("--if-empty", action="store_true")
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
