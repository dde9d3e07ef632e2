"""CitizenStore: in memory, each citizen's filter attributes and evidence items.

Routing reads everything it filters on from here and never calls profiles:
``store.get(citizen_id).snapshot`` is the citizen's latest MatchSnapshot (consent,
availability with unavailable periods and monthly cap, place with lat/lon and authority code,
languages, access needs, affiliations, roles, rating aggregate, contributions);
``store.item(item_id)`` maps a FAISS id back to (citizen_id, kind, source_id, text,
attributes). The store is persisted with the index snapshot under the same ``seq``.

Item ids are allocated from a counter and never reused, so the index never sees an id twice.
An item whose (kind, source_id, text) is unchanged keeps its id and vector across upserts
(only its attributes are refreshed); any other change is a removal plus an addition.

Not thread-safe: mutate only from the feed consumer / rebuild path, which holds the
service's mutation lock; readers on the event loop see a consistent state because
mutations happen between awaits.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from convene_matcher.citizens.schemas import MatchSnapshot
from convene_matcher.evidence.items import EvidenceItem, ItemDraft, drafts_from_snapshot

STORE_FORMAT = 1


@dataclass(slots=True)
class CitizenRecord:
    snapshot: MatchSnapshot
    item_ids: tuple[int, ...]


@dataclass(slots=True)
class UpsertResult:
    added: list[EvidenceItem] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)


class CitizenStore:
    def __init__(self) -> None:
        self.seq = 0
        self.next_item_id = 1
        self._citizens: dict[str, CitizenRecord] = {}
        self._items: dict[int, EvidenceItem] = {}

    # -- reads -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._citizens)

    def __contains__(self, citizen_id: object) -> bool:
        return citizen_id in self._citizens

    @property
    def item_count(self) -> int:
        return len(self._items)

    def get(self, citizen_id: str) -> CitizenRecord | None:
        return self._citizens.get(citizen_id)

    def item(self, item_id: int) -> EvidenceItem | None:
        return self._items.get(item_id)

    def items_of(self, citizen_id: str) -> list[EvidenceItem]:
        record = self._citizens.get(citizen_id)
        return [self._items[i] for i in record.item_ids] if record else []

    def citizens(self) -> Iterator[tuple[str, CitizenRecord]]:
        return iter(self._citizens.items())

    def items(self) -> Iterator[EvidenceItem]:
        return iter(self._items.values())

    # -- writes ------------------------------------------------------------------------
    def upsert(
        self, snapshot: MatchSnapshot, drafts: list[ItemDraft] | None = None
    ) -> UpsertResult:
        """Replaces the citizen's attributes and items; returns items to index / unindex."""
        citizen_id = snapshot.citizen_id
        if drafts is None:
            drafts = drafts_from_snapshot(snapshot)
        previous = self._citizens.get(citizen_id)
        existing: dict[tuple[str, str, str], EvidenceItem] = {}
        if previous:
            for item_id in previous.item_ids:
                item = self._items[item_id]
                existing[(item.kind, item.source_id, item.text)] = item
        result = UpsertResult()
        item_ids: list[int] = []
        seen: set[tuple[str, str, str]] = set()
        for draft in drafts:
            identity = draft.identity
            if identity in seen:
                continue
            seen.add(identity)
            kept = existing.pop(identity, None)
            if kept is not None:
                if kept.attributes != draft.attributes:
                    kept = EvidenceItem(
                        kept.item_id, citizen_id, draft.kind, draft.source_id, draft.text,
                        draft.attributes,
                    )  # fmt: skip
                    self._items[kept.item_id] = kept
                item_ids.append(kept.item_id)
                continue
            item = EvidenceItem(
                self.next_item_id, citizen_id, draft.kind, draft.source_id, draft.text,
                draft.attributes,
            )  # fmt: skip
            self.next_item_id += 1
            self._items[item.item_id] = item
            item_ids.append(item.item_id)
            result.added.append(item)
        for stale in existing.values():
            del self._items[stale.item_id]
            result.removed.append(stale.item_id)
        self._citizens[citizen_id] = CitizenRecord(snapshot=snapshot, item_ids=tuple(item_ids))
        return result

    def erase(self, citizen_id: str) -> list[int]:
        """Forgets the citizen entirely; returns the item ids to remove from the index."""
        record = self._citizens.pop(citizen_id, None)
        if record is None:
            return []
        for item_id in record.item_ids:
            self._items.pop(item_id, None)
        return list(record.item_ids)

    # -- persistence -------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": STORE_FORMAT,
            "seq": self.seq,
            "next_item_id": self.next_item_id,
            "citizens": [
                {
                    "snapshot": record.snapshot.model_dump(mode="json"),
                    "items": list(record.item_ids),
                }
                for record in self._citizens.values()
            ],
            "items": [item.to_json() for item in self._items.values()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CitizenStore:
        if data.get("format") != STORE_FORMAT:
            raise ValueError(f"store format {data.get('format')} is not supported")
        store = cls()
        store.seq = int(data["seq"])
        store.next_item_id = int(data["next_item_id"])
        for row in data["items"]:
            item = EvidenceItem.from_json(row)
            store._items[item.item_id] = item
        for entry in data["citizens"]:
            snapshot = MatchSnapshot.model_validate(entry["snapshot"])
            store._citizens[snapshot.citizen_id] = CitizenRecord(
                snapshot=snapshot, item_ids=tuple(int(i) for i in entry["items"])
            )
        return store
