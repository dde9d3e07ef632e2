"""Evidence items: the units of expertise the index holds (one vector each)."""

from convene_matcher.evidence.items import (
    LEVELS,
    EvidenceItem,
    EvidenceKind,
    ItemDraft,
    drafts_from_snapshot,
)

__all__ = ["LEVELS", "EvidenceItem", "EvidenceKind", "ItemDraft", "drafts_from_snapshot"]
