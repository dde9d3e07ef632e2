"""A citizen's whole state read in one batch of queries, and the views built from it:
CitizenRead for the API, MatchSnapshot for the change feed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from convene_common.db import Connection
from convene_profiles.affiliations import repository as affiliations_repository
from convene_profiles.affiliations.schemas import AffiliationRead
from convene_profiles.answers import repository as answers_repository
from convene_profiles.badges import repository as badges_repository
from convene_profiles.badges.schemas import BadgeExport, BadgeRead
from convene_profiles.changes.schemas import MatchSnapshot
from convene_profiles.citizens import repository as citizens_repository
from convene_profiles.citizens.schemas import Availability, CitizenRead, Consent, Place
from convene_profiles.experience import repository as experience_repository
from convene_profiles.experience.schemas import ExperienceRead
from convene_profiles.imports import repository as imports_repository
from convene_profiles.ratings import repository as ratings_repository
from convene_profiles.ratings.schemas import RatingAggregate, RatingRead
from convene_profiles.ratings.scoring import RatingPolicy, aggregate_score
from convene_profiles.roles import repository as roles_repository
from convene_profiles.roles.schemas import CitizenRoleRead
from convene_profiles.skills import repository as skills_repository
from convene_profiles.skills.schemas import SkillRead


@dataclass
class CitizenState:
    citizen: asyncpg.Record
    skills: list[asyncpg.Record] = field(default_factory=list)
    roles: list[asyncpg.Record] = field(default_factory=list)
    badges: list[asyncpg.Record] = field(default_factory=list)
    affiliations: list[asyncpg.Record] = field(default_factory=list)
    ratings: list[asyncpg.Record] = field(default_factory=list)
    experience: list[asyncpg.Record] = field(default_factory=list)
    # Imported past responses the citizen confirmed (only those are evidence).
    past_responses: list[asyncpg.Record] = field(default_factory=list)
    answers: list[asyncpg.Record] = field(default_factory=list)


async def load_states(
    connection: Connection, *, citizen_ids: list[UUID]
) -> dict[UUID, CitizenState]:
    """States keyed by id, in the order of citizen_ids; unknown ids are left out."""
    citizens = await citizens_repository.get_citizens(connection, citizen_ids=citizen_ids)
    by_id = {row["id"]: CitizenState(citizen=row) for row in citizens}
    if not by_id:
        return {}
    ids = list(by_id)
    for row in await skills_repository.skills_for_citizens(connection, citizen_ids=ids):
        by_id[row["citizen_id"]].skills.append(row)
    for row in await roles_repository.roles_for_citizens(connection, citizen_ids=ids):
        by_id[row["citizen_id"]].roles.append(row)
    for row in await badges_repository.badges_for_citizens(connection, citizen_ids=ids):
        by_id[row["citizen_id"]].badges.append(row)
    for row in await affiliations_repository.affiliations_for_citizens(connection, citizen_ids=ids):
        by_id[row["citizen_id"]].affiliations.append(row)
    for row in await ratings_repository.ratings_for_citizens(connection, citizen_ids=ids):
        by_id[row["citizen_id"]].ratings.append(row)
    for row in await experience_repository.entries_for_citizens(connection, citizen_ids=ids):
        by_id[row["citizen_id"]].experience.append(row)
    for row in await imports_repository.confirmed_for_citizens(connection, citizen_ids=ids):
        by_id[row["citizen_id"]].past_responses.append(row)
    for row in await answers_repository.answers_for_citizens(connection, citizen_ids=ids):
        by_id[row["citizen_id"]].answers.append(row)
    return {citizen_id: by_id[citizen_id] for citizen_id in citizen_ids if citizen_id in by_id}


def place_of(row: asyncpg.Record) -> Place | None:
    if all(
        row[column] is None
        for column in ("place_authority_code", "place_postcode_area", "place_lat", "place_lon")
    ):
        return None
    return Place(
        authority_code=row["place_authority_code"],
        postcode_area=row["place_postcode_area"],
        lat=row["place_lat"],
        lon=row["place_lon"],
    )


def skill_read(row: asyncpg.Record) -> SkillRead:
    return SkillRead(
        id=row["id"],
        label=row["label"],
        level=row["level"],
        code=row["code"],
        visible_to_bodies=row["visible_to_bodies"],
        created_at=row["created_at"],
    )


def citizen_role_read(row: asyncpg.Record) -> CitizenRoleRead:
    curated = row["role_slug"] is not None
    return CitizenRoleRead(
        id=row["id"],
        role=row["role_slug"] if curated else row["label"],
        label=row["label"],
        curated=curated,
        visible_to_bodies=row["visible_to_bodies"],
        created_at=row["created_at"],
    )


def experience_read(row: asyncpg.Record) -> ExperienceRead:
    return ExperienceRead.model_validate(
        {
            "id": row["id"],
            "kind": row["kind"],
            "title": row["title"],
            "description": row["description"],
            "from": row["started_on"],
            "to": row["ended_on"],
            "organisation": row["organisation"],
            "visible_to_bodies": row["visible_to_bodies"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }
    )


def affiliation_read(row: asyncpg.Record) -> AffiliationRead:
    return AffiliationRead(
        id=row["id"],
        organisation=row["organisation"],
        kind=row["kind"],
        created_at=row["created_at"],
    )


def _badge_fields(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "format": row["format"],
        "name": row["name"],
        "description": row["description"],
        "criteria": row["criteria"],
        "issuer_id": row["issuer_id"],
        "issuer_name": row["issuer_name"],
        "verified": row["verified"],
        "verification": row["verification"],
        "checked_at": row["checked_at"],
        "issued_on": row["issued_on"],
        "expires_at": row["expires_at"],
        "created_at": row["created_at"],
    }


def badge_read(row: asyncpg.Record) -> BadgeRead:
    return BadgeRead.model_validate(_badge_fields(row))


def badge_export(row: asyncpg.Record) -> BadgeExport:
    return BadgeExport.model_validate(
        {**_badge_fields(row), "raw_credential": row["raw_credential"]}
    )


def rating_read(row: asyncpg.Record) -> RatingRead:
    return RatingRead(
        id=row["id"],
        public_body_id=row["public_body_id"],
        contribution_id=row["contribution_id"],
        rating=row["rating"],
        comment=row["comment"],
        topic=row["topic"],
        rated_at=row["rated_at"],
        contribution_text=row["contribution_text"],
        confidential=row["confidential"],
    )


def _contributions_as_evidence(row: asyncpg.Record) -> bool:
    # Rows built in memory (the demo loader) carry no column: the column's default, on.
    return bool(row.get("consent_contributions_as_evidence", True))


def rating_aggregate(
    rows: list[asyncpg.Record], *, policy: RatingPolicy, now: datetime | None = None
) -> RatingAggregate:
    score, count = aggregate_score(
        ((row["rating"], row["rated_at"]) for row in rows),
        policy=policy,
        now=now or datetime.now(UTC),
    )
    return RatingAggregate(score=score, count=count)


def citizen_read(state: CitizenState, *, policy: RatingPolicy) -> CitizenRead:
    row = state.citizen
    return CitizenRead(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        bio=row["bio"],
        place=place_of(row),
        languages=list(row["languages"]),
        access_needs=list(row["access_needs"]),
        consent=Consent(
            matching=row["consent_matching"],
            contact=row["consent_contact"],
            contributions_as_evidence=_contributions_as_evidence(row),
        ),
        availability=Availability.model_validate(
            {
                "max_invitations_per_month": row["max_invitations_per_month"],
                "hours_per_month": row["hours_per_month"],
                "unavailable": row["unavailable"],
            }
        ),
        skills=[skill_read(r) for r in state.skills],
        roles=[citizen_role_read(r) for r in state.roles],
        badges=[badge_read(r) for r in state.badges],
        affiliations=[affiliation_read(r) for r in state.affiliations],
        experience=[experience_read(r) for r in state.experience],
        rating=rating_aggregate(state.ratings, policy=policy),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def match_snapshot(
    state: CitizenState, *, policy: RatingPolicy, now: datetime | None = None
) -> dict[str, Any]:
    """The feed payload, as JSON-ready data. Deliberately no name and no email."""
    row = state.citizen
    place = place_of(row)
    aggregate = rating_aggregate(state.ratings, policy=policy, now=now)
    # Rows built in memory (the demo loader) carry no flag: they are verified, as the
    # column's default makes every citizen not registered through the gateway.
    verified = bool(row.get("email_verified", True))
    evidence_consent = _contributions_as_evidence(row)
    snapshot = {
        "citizen_id": row["id"],
        # Effective consent: an unverified email address is neither matched nor contacted,
        # so the matcher (routing and the invitation-time recheck) needs no rule of its own.
        "consent": {
            "matching": row["consent_matching"] and verified,
            "contact": row["consent_contact"] and verified,
        },
        "availability": {
            "max_invitations_per_month": row["max_invitations_per_month"],
            "hours_per_month": row["hours_per_month"],
            "unavailable": row["unavailable"],
        },
        "place": place.model_dump() if place else None,
        "languages": list(row["languages"]),
        "access_needs": list(row["access_needs"]),
        "skills": [
            {
                "id": r["id"],
                "label": r["label"],
                "level": r["level"],
                "code": r["code"],
                "visible_to_bodies": r["visible_to_bodies"],
            }
            for r in state.skills
        ],
        "roles": [citizen_role_read(r).model_dump(exclude={"created_at"}) for r in state.roles],
        "badges": [
            {
                "id": r["id"],
                "name": r["name"],
                "description": r["description"],
                "criteria": r["criteria"],
                "issuer_name": r["issuer_name"],
                "verified": r["verified"],
                "expires_at": r["expires_at"],
            }
            for r in state.badges
        ],
        "affiliations": [
            {"id": r["id"], "organisation": r["organisation"], "kind": r["kind"]}
            for r in state.affiliations
        ],
        # Every rating (the matcher decays them into the rating term); the contribution's
        # text only while the citizen consents to contributions as evidence (turning it off
        # publishes a snapshot without the texts, so the matcher drops those items).
        "contributions": [
            {
                "id": r["contribution_id"],
                "topic": None,
                "rating": r["rating"],
                "rated_at": r["rated_at"],
                "text": r.get("contribution_text") if evidence_consent else None,
                "confidential": bool(r.get("confidential", False)),
            }
            for r in state.ratings
        ],
        "rating": aggregate.model_dump(),
        "bio": row["bio"],
        "experience": [
            {
                "id": r["id"],
                "kind": r["kind"],
                "title": r["title"],
                "description": r["description"],
                "organisation": r["organisation"],
                "from": r["started_on"],
                "to": r["ended_on"],
                "visible_to_bodies": r["visible_to_bodies"],
            }
            for r in state.experience
        ],
        # Confirmed past consultation responses: evidence of kind "past_response".
        "past_responses": [
            {
                "id": r["id"],
                "source": r["source"],
                "question": r["question"] or "",
                "text": r["response_text"] or "",
                "rating": r["rating"],
                "responded_at": r["responded_at"],
            }
            for r in state.past_responses
        ],
        # Answers on question-and-answer sites: evidence of kind "answer".
        "answers": [
            {
                "id": r["id"],
                "site": r["site"],
                "title": r["question_title"],
                "text": r["answer_text"],
                "score": r["score"],
                "accepted": r["accepted"],
                "answered_at": r["answered_at"],
            }
            for r in state.answers
        ],
    }
    # Validating through the model fixes the shape and renders ids and times as JSON.
    return MatchSnapshot.model_validate(snapshot).model_dump(mode="json")


def group_by_citizen(rows: list[asyncpg.Record]) -> dict[UUID, list[asyncpg.Record]]:
    grouped: dict[UUID, list[asyncpg.Record]] = defaultdict(list)
    for row in rows:
        grouped[row["citizen_id"]].append(row)
    return grouped
