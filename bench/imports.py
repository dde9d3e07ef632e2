"""How fast a file of past consultation responses imports (issue 12).

Goal: a 100,000-row file imports in under 2 minutes (embedding excluded, reported apart).
Starts an embedded PostgreSQL, migrates profiles, registers --citizens verified citizens,
generates a JSON Lines file of realistic, varied responses (20 sources, 40 questions,
2-6 sentences each from several hundred phrase parts and numbers, so nearly every text is
distinct; a share of the addresses belong to the citizens, the rest to nobody; about 1% bad
rows), posts it to the real profiles app (over ASGI) and polls the job to its end. Then it
embeds a sample of the pending responses' passages with the real model, the cost a citizen's
"yes" adds later, and reports it separately.

    .venv/bin/python bench/imports.py [--rows 100000] [--citizens 2000] [--json-out PATH]

Writes bench/results/imports.json. Prints wall and CPU time (this process: parsing,
sealing, the HTTP and database client; PostgreSQL's own CPU is not in it) and the load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from convene_common.embedded_pg import EmbeddedPostgres
from convene_common.migrations import migrate
from convene_profiles.config import ProfilesSettings
from convene_profiles.main import create_app

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
DATABASE = "bench_imports"
GOAL_SECONDS = 120.0

SOURCES = [
    f"{place} {kind}"
    for place in ("Example", "Leeds", "Salford", "Bristol", "Norwich")
    for kind in ("Council", "Transport Authority", "Health Board", "Parks Trust")
]
TOPICS = [
    "the bus lane on Oxford Road", "the new cycle route", "library opening hours",
    "the school streets scheme", "flood defences along the river", "the town centre car park",
    "council tax support", "the adult social care budget", "air quality near schools",
    "the park's play area", "night-time street lighting", "recycling collections",
    "the community centre lease", "housing repairs backlog", "the high street market",
    "tree planting on residential roads", "the leisure centre pool", "winter gritting routes",
    "pedestrian crossings near the station", "the youth service",
]  # fmt: skip
OPENERS = [
    "As a parent of two children", "Speaking as a wheelchair user", "I have lived here for",
    "As a bus driver on this route", "Having run a shop on the high street for",
    "As a carer for my mother", "I cycle to work every day and", "As a retired nurse",
    "Our residents' association surveyed", "I teach at the primary school and",
    "As a delivery rider", "Having volunteered at the food bank for",
]  # fmt: skip
VIEWS = [
    "I strongly support", "I have serious concerns about", "I would welcome changes to",
    "I do not think the council has explained", "I am broadly in favour of",
    "I object to the proposed cuts to", "I want more consultation on",
]  # fmt: skip
REASONS = [
    "because the current layout is dangerous at peak times",
    "since older residents rely on it to get to appointments",
    "as it would cut journey times by {n} minutes",
    "because {n} families on our street would be affected",
    "since the evidence from {n} similar schemes is mixed",
    "because the consultation leaflet did not reach {n} households",
    "as the cost of {n} thousand pounds seems high for the benefit",
    "because it floods after heavy rain about {n} times a year",
]  # fmt: skip
SUGGESTIONS = [
    "Please consider a trial period before deciding.",
    "A step-free route should be kept open throughout the works.",
    "Loading bays could be moved to the side streets.",
    "The evening hours matter most to people who work shifts.",
    "Publish the traffic counts so residents can check the figures.",
    "Work with the schools on the timing of any closures.",
    "Keep the existing bus stops where they are.",
    "Make sure the signage is clear for people with sight loss.",
]  # fmt: skip
QUESTIONS = [f"What do you think of the proposals for {topic}?" for topic in TOPICS] + [
    f"How would changes to {topic} affect you?" for topic in TOPICS
]


def emit(line: str) -> None:
    print(line)  # noqa: T201


def response_text(rng: random.Random, topic: str) -> str:
    sentences = [
        f"{rng.choice(OPENERS)} {rng.randint(2, 40)} years, {rng.choice(VIEWS).lower()} {topic} "
        f"{rng.choice(REASONS).format(n=rng.randint(2, 90))}."
    ]
    for _ in range(rng.randint(1, 5)):
        if rng.random() < 0.5:
            sentences.append(rng.choice(SUGGESTIONS))
        else:
            sentences.append(
                f"{rng.choice(VIEWS)} {rng.choice(TOPICS)} "
                f"{rng.choice(REASONS).format(n=rng.randint(2, 90))}."
            )
    return " ".join(sentences)


def generate(rows: int, *, citizen_emails: list[str], rng: random.Random) -> tuple[bytes, int, int]:
    """(file, rows for citizens' addresses, bad rows)."""
    lines: list[str] = []
    held = bad = 0
    for n in range(rows):
        topic_index = rng.randrange(len(TOPICS))
        if rng.random() < 0.3:
            email = rng.choice(citizen_emails)
            held += 1
        else:
            email = f"resident{rng.randrange(10**7)}@mail{rng.randrange(50)}.example.org"
        row: dict[str, Any] = {
            "source": rng.choice(SOURCES),
            "external_id": f"resp-{n:07d}",
            "respondent_email": email,
            "responded_at": f"20{rng.randint(15, 25):02d}-{rng.randint(1, 12):02d}-"
            f"{rng.randint(1, 28):02d}",
            "question": QUESTIONS[topic_index + len(TOPICS) * rng.randrange(2)],
            "response_text": response_text(rng, TOPICS[topic_index]),
        }
        if rng.random() < 0.4:
            row["rating"] = rng.randint(1, 5)
        if rng.random() < 0.01:
            bad += 1
            row[rng.choice(["respondent_email", "responded_at", "rating"])] = "not valid"
        lines.append(json.dumps(row))
    return ("\n".join(lines) + "\n").encode(), held, bad


async def run(args: argparse.Namespace, base: Path) -> dict[str, Any]:
    cluster = EmbeddedPostgres(base / "pg")
    cluster.start()
    try:
        await cluster.provision(DATABASE)
        dsn = cluster.dsn(DATABASE, role="convene_profiles")
        await migrate(dsn, schema="profiles", directory=REPO / "services/profiles/migrations")
        rng = random.Random(12)
        emails = [f"citizen{n}@example.org" for n in range(args.citizens)]
        connection = await asyncpg.connect(dsn, server_settings={"search_path": "profiles"})
        await connection.executemany(
            "INSERT INTO citizen (id, email, display_name, email_verified) "
            "VALUES ($1, $2, 'Bench', true)",
            [(uuid.uuid4(), email) for email in emails],
        )
        await connection.close()
        content, held, bad = generate(args.rows, citizen_emails=emails, rng=rng)
        emit(f"file: {args.rows} rows, {len(content) / 1e6:.1f} MB, {bad} made bad")
        settings = ProfilesSettings(
            environment="test",
            database_url=dsn,
            database_pool_max=4,
            imports_purge_interval_seconds=0,
            badge_recheck_interval_seconds=0,
        )
        app = create_app(settings)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bench"
            ) as client,
        ):
            wall, cpu = time.perf_counter(), time.process_time()
            accepted = await client.post(
                "/v1/imports",
                params={"format": "jsonl", "requested_by": "bench"},
                content=content,
            )
            accepted.raise_for_status()
            report: dict[str, Any] = {}
            while True:
                await asyncio.sleep(0.5)
                report = (await client.get(f"/v1/imports/{accepted.json()['id']}")).json()
                if report["status"] in ("succeeded", "failed"):
                    break
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            load = os.getloadavg()
            pool = app.state.pool
            async with pool.acquire() as db:
                texts = [
                    r["response_text"]
                    for r in await db.fetch(
                        "SELECT response_text FROM past_response WHERE status = 'pending' LIMIT $1",
                        args.embed_sample,
                    )
                ]
        embedding = embed_sample(texts, pending=report["pending_confirmation"])
    finally:
        cluster.stop(mode="immediate")
    return {
        "rows": args.rows,
        "file_megabytes": round(len(content) / 1e6, 2),
        "status": report["status"],
        "imported": report["imported"],
        "pending_confirmation": report["pending_confirmation"],
        "unclaimed": report["unclaimed"],
        "rejected": report["rejected_count"],
        "expected_rejected": bad,
        "rows_for_citizens": held,
        "wall_seconds": round(wall, 2),
        "process_cpu_seconds": round(cpu, 2),
        "rows_per_second": round(args.rows / wall, 1),
        "goal_seconds": GOAL_SECONDS,
        "goal_met": report["status"] == "succeeded" and wall < GOAL_SECONDS,
        "load_average_1_5_15": [round(x, 2) for x in load],
        "embedding": embedding,
    }


def embed_sample(texts: list[str], *, pending: int) -> dict[str, Any]:
    """Passages of a sample of pending responses embedded with the real model (batches of
    32, 2 threads): what confirming them costs later, extrapolated to every pending row."""
    from convene_matcher.config import MatcherSettings
    from convene_matcher.embedding.embedder import load_sentence_transformer
    from convene_matcher.evidence.passages import split_passages

    passages = [p for text in texts for p in split_passages(text)]
    if not passages:
        return {}
    model = load_sentence_transformer(MatcherSettings().model_path, torch_threads=2)
    started = time.perf_counter()
    model.encode(passages, batch_size=32, normalize_embeddings=True)
    seconds = time.perf_counter() - started
    per_row = len(passages) / len(texts)
    rate = len(passages) / seconds
    return {
        "sample_rows": len(texts),
        "passages": len(passages),
        "passages_per_row": round(per_row, 2),
        "passages_per_second": round(rate, 1),
        "extrapolated_seconds_for_all_pending": round(pending * per_row / rate, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--citizens", type=int, default=2_000)
    parser.add_argument("--embed-sample", type=int, default=300)
    parser.add_argument("--json-out", type=Path, default=RESULTS / "imports.json")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    base = Path(tempfile.mkdtemp(prefix="bench-imports-", dir=REPO / ".run"))
    try:
        result = asyncio.run(run(args, base))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    emit(
        f"imports: {result['rows']} rows in {result['wall_seconds']} s wall "
        f"({result['rows_per_second']} rows/s; {result['process_cpu_seconds']} s CPU in this "
        f"process), goal < {GOAL_SECONDS:.0f} s: {'met' if result['goal_met'] else 'NOT met'}; "
        f"load {result['load_average_1_5_15']}"
    )
    emit(
        f"  imported {result['imported']} (pending {result['pending_confirmation']}, "
        f"unclaimed {result['unclaimed']}), rejected {result['rejected']} "
        f"(made bad: {result['expected_rejected']})"
    )
    if result["embedding"]:
        e = result["embedding"]
        emit(
            f"  embedding (separate): {e['passages_per_second']} passages/s; all "
            f"{result['pending_confirmation']} pending rows ~{e['passages_per_row']} "
            f"passages each: ~{e['extrapolated_seconds_for_all_pending']} s once confirmed"
        )
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
