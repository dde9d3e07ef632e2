"""Reads of the citizen store for the citizen themselves."""

from __future__ import annotations

from typing import Any

from convene_matcher.citizens.store import CitizenStore
from convene_matcher.evidence.items import PRIVATE, EvidenceItem
from convene_matcher.evidence.schemas import HeldEvidence, HeldItem


def _optional(attributes: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = attributes.get(name)
    return value if isinstance(value, kind) else None


def held_item(item: EvidenceItem) -> HeldItem:
    attributes = item.attributes
    return HeldItem(
        kind=item.kind,
        text=item.text,
        source_id=item.source_id,
        level=_optional(attributes, "level", str),
        verified=_optional(attributes, "verified", bool),
        private=bool(attributes.get(PRIVATE)),
        entry_kind=_optional(attributes, "entry_kind", str),
        title=_optional(attributes, "title", str),
        role=_optional(attributes, "role", str),
        curated=_optional(attributes, "curated", bool),
        rating=_optional(attributes, "rating", (int, float)),
        expires_at=_optional(attributes, "expires_at", str),
    )


def held_evidence(store: CitizenStore, *, citizen_id: str) -> HeldEvidence:
    """Every item of the citizen, in the store's order (skills, badges, roles, contributions,
    experience passages); empty and ``held`` false for a citizen the matcher does not hold."""
    return HeldEvidence(
        held=citizen_id in store,
        seq=store.seq,
        items=[held_item(item) for item in store.items_of(citizen_id)],
    )
