"""MatchSnapshot-shaped citizens for routing tests, applied through the feed's entry point."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from typing import Any

from fastapi import FastAPI

from convene_matcher.citizens.schemas import Change, MatchSnapshot

MANCHESTER = (53.4808, -2.2426)
SALFORD = (53.4875, -2.2901)  # about 3 km
BOLTON = (53.5769, -2.4282)  # about 17 km
LONDON = (51.5072, -0.1276)

_seq = itertools.count(1)


def snapshot(
    *,
    skills: list[tuple[str, str]] = (),  # type: ignore[assignment]
    roles: list[str] = (),  # type: ignore[assignment]
    badges: list[tuple[str, bool]] = (),  # type: ignore[assignment]
    affiliations: list[tuple[str, str]] = (),  # type: ignore[assignment]
    topics: list[str] = (),  # type: ignore[assignment]
    at: tuple[float, float] | None = MANCHESTER,
    authority_code: str | None = "E08000003",
    languages: list[str] = ["en"],  # noqa: B006 - never mutated
    access_needs: list[str] = (),  # type: ignore[assignment]
    consent: bool = True,
    max_per_month: int | None = None,
    unavailable: list[tuple[datetime, datetime]] = (),  # type: ignore[assignment]
    rating: float | None = None,
) -> MatchSnapshot:
    def new_id() -> str:
        return str(uuid.uuid4())

    def role_entry(role: str) -> dict[str, Any]:
        # "cab-driver" is a curated slug with a label; "cyclist" is free text.
        label = role.replace("-", " ").capitalize()
        return {"id": new_id(), "role": role, "label": label, "curated": "-" in role}

    data: dict[str, Any] = {
        "citizen_id": new_id(),
        "consent": {"matching": consent, "contact": consent},
        "availability": {
            "max_invitations_per_month": max_per_month,
            "unavailable": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in unavailable],
        },
        "place": None
        if at is None
        else {"authority_code": authority_code, "lat": at[0], "lon": at[1]},
        "languages": list(languages),
        "access_needs": list(access_needs),
        "skills": [{"id": new_id(), "label": label, "level": level} for label, level in skills],
        "roles": [role_entry(role) for role in roles],
        "badges": [
            {"id": new_id(), "name": name, "verified": verified} for name, verified in badges
        ],
        "affiliations": [
            {"id": new_id(), "organisation": organisation, "kind": kind}
            for organisation, kind in affiliations
        ],
        # A rated contribution whose text (what they wrote) is evidence.
        "contributions": [{"id": new_id(), "text": topic, "rating": 5} for topic in topics],
        "rating": {"score": rating, "count": 1 if rating else 0},
    }
    return MatchSnapshot.model_validate(data)


async def load(app: FastAPI, *snapshots: MatchSnapshot) -> None:
    changes = [
        Change(seq=next(_seq), citizen_id=s.citizen_id, kind="upsert", snapshot=s)
        for s in snapshots
    ]
    await app.state.evidence.apply_changes(changes)


async def erase(app: FastAPI, citizen_id: str) -> None:
    change = Change(seq=next(_seq), citizen_id=citizen_id, kind="erase", snapshot=None)
    await app.state.evidence.apply_changes([change])
