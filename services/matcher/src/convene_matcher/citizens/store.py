"""CitizenStore: in memory, each citizen's filter attributes and evidence items.

Routing reads everything it filters on from here and never calls profiles:
``store.get(citizen_id).snapshot`` is the citizen's latest MatchSnapshot; ``store.item(
item_id)`` maps an item id back to (citizen_id, kind, source_id, text, attributes, text_id);
``store.arrays`` (CitizenArrays) holds the same facts as numpy columns for vectorised routing.
The store is persisted with the index snapshot under the same ``seq``.

Distinct texts: evidence texts are massively shared (a skill label held by thousands of
citizens), so the index holds one vector per distinct normalised text (``text_id``), and the
store counts the items using each text. ``upsert`` and ``erase`` report texts that gained
their first item (to embed and add) and texts that lost their last one (to remove from the
index: an erased citizen's unique texts really leave the index; a text others still use
stays, with the erased citizen's items unlinked from it).

A distinct text is held as one of its items' raw texts (the interned str the item holds), not
as its normalised form: ``text(text_id)`` and ``texts()`` normalise on demand, and texts are
told apart by a digest of their normalised form. At 100k citizens the normalised copies of
1.16M distinct texts were 0.57 GB.

Item ids and text ids are allocated from counters and never reused. An item whose (kind,
source_id, text) is unchanged keeps its id across upserts (only its attributes are
refreshed); any other change is a removal plus an addition.

Mutate only from the feed consumer / rebuild path (which holds the service's mutation lock),
on the event loop; every mutation also holds the write side of ``lock`` (a readers-writer
lock), routing's worker threads hold its read side while they read ``arrays``: routes run
concurrently with each other, never with a mutation (writers are preferred, so a busy
routing load cannot starve the feed).
"""

from __future__ import annotations

import hashlib
import sys
import threading
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from convene_matcher.citizens.arrays import KIND_CODE, KINDS, NO_LEVEL, CitizenArrays, ItemRow
from convene_matcher.citizens.postings import TextPostings, Vectoriser
from convene_matcher.citizens.schemas import MatchSnapshot
from convene_matcher.embedding.text import normalise_text, normalised_uncached
from convene_matcher.evidence.items import (
    LEVELS,
    EvidenceItem,
    ItemDraft,
    drafts_from_snapshot,
    item_signal,
)

# 5: format 4 with raw texts and source ids as utf-8 columns (no JSON list of millions of
# strings to parse) and each text as (digest, one raw text) instead of its normalised form;
# 4: format 3 plus the routing arrays as they are (a restart loads them, parsing no citizen's
# snapshot), snapshots compressed; 3: metadata JSON + numpy columns; 3 and 4 still read;
# 2: one JSON.
STORE_FORMAT = 5
READABLE_STORE_FORMATS = (3, 4, 5)
_LEVEL_CODE = {level: code for code, level in enumerate(LEVELS)}
DIGEST_BYTES = 16


def text_digest(normalised: str) -> bytes:
    """The key telling distinct normalised texts apart. 16 bytes of BLAKE2b: the chance that
    any two of a billion texts collide is about 1e-21 (n^2 / 2^129), so none ever will."""
    return hashlib.blake2b(normalised.encode(), digest_size=DIGEST_BYTES).digest()


def normalised_texts(raw_texts: list[tuple[int, str]]) -> dict[int, str]:
    """``CitizenStore.raw_texts()`` normalised, by text id: 12.6 us a text (14.6 s for the
    1.16M texts of 100k citizens), so not on the event loop."""
    return {text_id: normalised_uncached(raw) for text_id, raw in raw_texts}


def _utf8_column(strings: list[str]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Strings as (one utf-8 blob, byte length of each): a snapshot column numpy loads as it
    is, where a JSON list of a million strings is a ~1 GB tree to parse."""
    blob = bytearray()
    lengths = np.empty(len(strings), dtype=np.int64)
    for n, string in enumerate(strings):
        encoded = string.encode()
        lengths[n] = len(encoded)
        blob += encoded
    return np.frombuffer(blob, dtype=np.uint8), lengths


def _utf8_strings(blob: npt.NDArray[np.uint8], lengths: npt.NDArray[np.int64]) -> list[str]:
    view = np.ascontiguousarray(blob).data
    ends = np.cumsum(lengths).tolist()
    starts = [0, *ends[:-1]]
    return [str(view[a:b], "utf-8") for a, b in zip(starts, ends, strict=True)]


class ReadWriteLock:
    """Many readers or one writer; a waiting writer holds off new readers."""

    def __init__(self) -> None:
        self._condition = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._condition:
            while self._writer or self._writers_waiting:
                self._condition.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._condition:
                self._readers -= 1
                if not self._readers:
                    self._condition.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._condition:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._condition.wait()
            self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._condition:
                self._writer = False
                self._condition.notify_all()


class CitizenRecord:
    """A citizen's latest MatchSnapshot (kept as its compact JSON, zlib-compressed: 100k
    validated pydantic trees cost about 0.7 GB, their JSON 0.78 GB and the compressed JSON
    0.29 GB; ``snapshot`` inflates and parses on access, for the few citizens a request looks
    at), item ids and array slot. Routing reads the arrays, never this per candidate."""

    __slots__ = ("item_ids", "slot", "snapshot_packed")

    def __init__(self, *, packed: bytes, item_ids: tuple[int, ...], slot: int = -1) -> None:
        self.snapshot_packed = packed
        self.item_ids = item_ids
        self.slot = slot

    @classmethod
    def of(cls, snapshot: MatchSnapshot, *, item_ids: tuple[int, ...], slot: int) -> CitizenRecord:
        return cls(packed=pack_snapshot(snapshot), item_ids=item_ids, slot=slot)

    @property
    def snapshot_json(self) -> bytes:
        return zlib.decompress(self.snapshot_packed)

    @property
    def snapshot(self) -> MatchSnapshot:
        return MatchSnapshot.model_validate_json(self.snapshot_json)


def pack_snapshot(snapshot: MatchSnapshot | bytes) -> bytes:
    """A snapshot as the store keeps it: its JSON, compressed (level 1: ~60 us, 2.7x)."""
    raw = snapshot if isinstance(snapshot, bytes) else snapshot.model_dump_json().encode()
    return zlib.compress(raw, 1)


@dataclass(slots=True)
class UpsertResult:
    added: list[EvidenceItem] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    # (text_id, normalised text) of texts that got their first item: embed and index them.
    new_texts: list[tuple[int, str]] = field(default_factory=list)
    # Texts that lost their last item: remove their vectors from the index.
    dropped_texts: list[int] = field(default_factory=list)


def _seconds(value: object) -> float:
    """An ISO time attribute as POSIX seconds (NaN when absent or unreadable)."""
    if not isinstance(value, str):
        return float("nan")
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        return float("nan")


def _row(item: EvidenceItem) -> ItemRow:
    level = NO_LEVEL
    attributes = item.attributes
    code = None
    if item.kind == "skill":
        level = _LEVEL_CODE.get(str(attributes.get("level")), NO_LEVEL)
        raw_code = attributes.get("code")
        code = raw_code.casefold() if isinstance(raw_code, str) and raw_code else None
    return ItemRow(
        item.text_id,
        level,
        KIND_CODE[item.kind],
        bool(attributes.get("verified")),
        code=code,
        expires=_seconds(attributes.get("expires_at")),
        dated=_seconds(attributes.get("rated_at")),
        rating=_rating(item),
        signal=item_signal(item),
    )


def _rating(item: EvidenceItem) -> int:
    rating = item.attributes.get("rating") if item.kind == "contribution" else None
    return int(rating) if isinstance(rating, int | float) and 1 <= rating <= 5 else 0


class CitizenStore:
    def __init__(self) -> None:
        self.seq = 0
        self.next_item_id = 1
        self.next_text_id = 1
        self.lock = ReadWriteLock()
        self.arrays = CitizenArrays()
        self._citizens: dict[str, CitizenRecord] = {}
        self._items: dict[int, EvidenceItem] = {}
        self._text_ids: dict[bytes, int] = {}  # text_digest(normalised text) -> text id
        # By text id (ids are dense and never reused; 0 is none): a raw text of the text's
        # items, the very str an item holds, None once the text is dropped; and how many
        # items use it. Lists, not dicts: 8 bytes an entry (small ints are shared).
        self._texts: list[str | None] = [None]
        self._text_refs: list[int] = [0]
        # The dict's keys by text id (a snapshot saves them: no text normalised to save one).
        self._digests: list[bytes | None] = [None]
        self._live_texts = 0
        # Identical attribute dicts ({"level": "can_do"}) shared, not repeated a million times.
        self._attributes: dict[tuple[Any, ...], dict[str, Any]] = {}
        # Inverted word vectors of the distinct texts, per vectoriser key (routing's lexical
        # part): they belong to these texts, so they live and die with the store.
        self._postings: dict[object, TextPostings] = {}
        # Postings loaded with a snapshot, waiting for their vectoriser (the first
        # ``postings`` call with their key): (words, columns) by key.
        self._saved_postings: dict[object, tuple[list[str], dict[str, npt.NDArray[Any]]]] = {}
        self._postings_lock = threading.Lock()

    # -- reads -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._citizens)

    def __contains__(self, citizen_id: object) -> bool:
        return citizen_id in self._citizens

    @property
    def item_count(self) -> int:
        return len(self._items)

    @property
    def text_count(self) -> int:
        return self._live_texts

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

    def texts(self) -> Iterator[tuple[int, str]]:
        """Every live (text id, normalised text), in id order, normalised as they are read
        (CPU: see ``text``). Read it whole with mutations excluded."""
        for text_id, raw in enumerate(self._texts):
            if raw is not None:
                yield text_id, normalised_uncached(raw)

    def raw_texts(self) -> list[tuple[int, str]]:
        """Every live (text id, one of its raw texts), in id order: the moment's texts
        without normalising any (``normalised_texts`` does that, e.g. in a worker thread)."""
        return [(text_id, raw) for text_id, raw in enumerate(self._texts) if raw is not None]

    def text_ids(self) -> npt.NDArray[np.int64]:
        """Every live text id, ascending (no text normalised)."""
        found: npt.NDArray[np.int64] = np.flatnonzero(np.array(self._text_refs, dtype=np.int64))
        return found

    def text_id(self, text: str) -> int | None:
        """The id of a raw text (normalised here, as items are) if some item uses it."""
        return self._text_ids.get(text_digest(normalise_text(text)))

    def normalised_text_id(self, normalised: str) -> int | None:
        """The id of an already normalised text. Never normalise twice: NFKC after lower
        casing is not idempotent (Greek 'Ϊ́' -> 'ΐ' -> another 'ΐ'), so a second pass can
        name another text's key."""
        return self._text_ids.get(text_digest(normalised))

    def text(self, text_id: int) -> str | None:
        """The normalised text of a live text id, normalised from one of its raw texts
        (every raw text of an id normalises to the same text)."""
        raw = self._texts[text_id] if 0 <= text_id < len(self._texts) else None
        return None if raw is None else normalise_text(raw)

    def text_refs(self, text_id: int) -> int:
        return self._text_refs[text_id] if 0 <= text_id < len(self._text_refs) else 0

    def citizen_at(self, slot: int) -> str | None:
        return self.arrays.slot_citizen[slot]

    def postings(self, key: object, vectorise: Vectoriser) -> TextPostings:
        """The word postings of this store's texts under one vectoriser (made on first use;
        ``key`` names the vectoriser, e.g. ``("lexical", idf_floor)``)."""
        with self._postings_lock:
            found = self._postings.get(key)
            if found is None:
                saved = self._saved_postings.pop(key, None)
                found = self._postings[key] = (
                    TextPostings.from_arrays(vectorise, *saved)
                    if saved is not None
                    else TextPostings(vectorise)
                )
            return found

    # -- writes ------------------------------------------------------------------------
    def _shared(self, attributes: dict[str, Any]) -> dict[str, Any]:
        try:
            key = tuple(sorted(attributes.items()))
            hash(key)
        except TypeError:
            return attributes
        return self._attributes.setdefault(key, attributes)

    def _reserve_texts(self) -> None:
        """Text id lists as long as ids allocated."""
        missing = self.next_text_id - len(self._texts)
        if missing > 0:
            self._texts.extend([None] * missing)
            self._text_refs.extend([0] * missing)
            self._digests.extend([None] * missing)

    def _link_text(self, text: str, result: UpsertResult) -> int:
        normalised = normalise_text(text)
        digest = text_digest(normalised)
        text_id = self._text_ids.get(digest)
        if text_id is None:
            text_id = self.next_text_id
            self.next_text_id += 1
            self._reserve_texts()
            self._text_ids[digest] = text_id
            self._texts[text_id] = text
            self._digests[text_id] = digest
            self._live_texts += 1
            result.new_texts.append((text_id, normalised))
        self._text_refs[text_id] += 1
        return text_id

    def _unlink_text(self, text_id: int, result: UpsertResult) -> None:
        refs = self._text_refs[text_id] - 1
        self._text_refs[text_id] = refs
        if refs > 0:
            return
        self._texts[text_id] = None
        del self._text_ids[cast(bytes, self._digests[text_id])]
        self._digests[text_id] = None
        self._live_texts -= 1
        result.dropped_texts.append(text_id)

    def upsert(
        self, snapshot: MatchSnapshot, drafts: list[ItemDraft] | None = None
    ) -> UpsertResult:
        """Replaces the citizen's attributes and items; returns items and texts that changed."""
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
        with self.lock.write():
            kept_items: list[EvidenceItem] = []
            seen: set[tuple[str, str, str]] = set()
            for draft in drafts:
                identity = draft.identity
                if identity in seen:
                    continue
                seen.add(identity)
                attributes = self._shared(draft.attributes)
                kept = existing.pop(identity, None)
                if kept is not None:
                    if kept.attributes != attributes:
                        kept = EvidenceItem(
                            kept.item_id, citizen_id, draft.kind, draft.source_id, draft.text,
                            attributes, kept.text_id,
                        )  # fmt: skip
                        self._items[kept.item_id] = kept
                    kept_items.append(kept)
                    continue
                # Interned: a label held by thousands of citizens is one string, not thousands.
                text = sys.intern(draft.text)
                item = EvidenceItem(
                    self.next_item_id, citizen_id, draft.kind, draft.source_id, text,
                    attributes, self._link_text(text, result),
                )  # fmt: skip
                self.next_item_id += 1
                self._items[item.item_id] = item
                kept_items.append(item)
                result.added.append(item)
            for stale in existing.values():
                del self._items[stale.item_id]
                result.removed.append(stale.item_id)
                self._unlink_text(stale.text_id, result)
            slot = previous.slot if previous else self.arrays.allocate(citizen_id)
            self.arrays.set_citizen(slot, snapshot, [_row(item) for item in kept_items])
            self._citizens[citizen_id] = CitizenRecord.of(
                snapshot, item_ids=tuple(item.item_id for item in kept_items), slot=slot
            )
        return result

    def erase(self, citizen_id: str) -> UpsertResult:
        """Forgets the citizen entirely; returns the items and texts to drop."""
        result = UpsertResult()
        with self.lock.write():
            record = self._citizens.pop(citizen_id, None)
            if record is None:
                return result
            for item_id in record.item_ids:
                item = self._items.pop(item_id, None)
                if item is not None:
                    result.removed.append(item_id)
                    self._unlink_text(item.text_id, result)
            self.arrays.clear(record.slot)
        return result

    # -- persistence -------------------------------------------------------------------
    def columns(self) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
        """The store as (small JSON metadata, numpy columns): no per-citizen JSON parse or
        dump (snapshots are kept as JSON bytes already). Call with mutations excluded."""
        citizens = list(self._citizens.values())
        citizen_index = {cid: n for n, cid in enumerate(self._citizens)}
        blobs = [record.snapshot_packed for record in citizens]
        items = list(self._items.values())
        raw_texts: dict[str, int] = {}
        attribute_rows: dict[int, int] = {}
        attribute_list: list[dict[str, Any]] = []
        for item in items:
            if id(item.attributes) not in attribute_rows:
                attribute_rows[id(item.attributes)] = len(attribute_list)
                attribute_list.append(item.attributes)
        meta = {
            "format": STORE_FORMAT,
            "seq": self.seq,
            "next_item_id": self.next_item_id,
            "next_text_id": self.next_text_id,
            "attributes": attribute_list,
        }
        arrays: dict[str, npt.NDArray[Any]] = {
            "snapshot_bytes": np.frombuffer(b"".join(blobs), dtype=np.uint8),
            "snapshot_lengths": np.fromiter((len(b) for b in blobs), np.int64, len(blobs)),
            "item_counts": np.fromiter((len(r.item_ids) for r in citizens), np.int64, len(blobs)),
            "citizen_items": np.fromiter(
                (i for record in citizens for i in record.item_ids), np.int64
            ),
            "item_id": np.fromiter((i.item_id for i in items), np.int64, len(items)),
            "item_citizen": np.fromiter(
                (citizen_index[i.citizen_id] for i in items), np.int64, len(items)
            ),
            "item_kind": np.fromiter((KIND_CODE[i.kind] for i in items), np.int8, len(items)),
            "item_text_id": np.fromiter((i.text_id for i in items), np.int64, len(items)),
            "item_raw_text": np.fromiter(
                (raw_texts.setdefault(i.text, len(raw_texts)) for i in items), np.int64, len(items)
            ),
            "item_attributes": np.fromiter(
                (attribute_rows[id(i.attributes)] for i in items), np.int64, len(items)
            ),
        }
        text_ids = self.text_ids()
        arrays["text_id"] = text_ids
        # A text's raw text is one an item holds, or held when the text was first met.
        arrays["text_raw"] = np.fromiter(
            (
                raw_texts.setdefault(cast(str, self._texts[t]), len(raw_texts))
                for t in text_ids.tolist()
            ),
            np.int64,
            len(text_ids),
        )
        digests = b"".join(cast(bytes, self._digests[t]) for t in text_ids.tolist())
        arrays["text_digest"] = np.frombuffer(digests, dtype=np.uint8).reshape(-1, DIGEST_BYTES)
        arrays["raw_text_bytes"], arrays["raw_text_lengths"] = _utf8_column(list(raw_texts))
        arrays["source_id_bytes"], arrays["source_id_lengths"] = _utf8_column(
            [item.source_id for item in items]
        )
        meta["arrays"], routing_arrays = self.arrays.to_columns()
        arrays.update(routing_arrays)
        arrays["citizen_slot"] = np.fromiter((r.slot for r in citizens), np.int64, len(blobs))
        # The lexical postings (keys such as ("lexical", 4.0)): vectorising a million texts
        # again after a restart would cost minutes of CPU, paid by the first calls routed.
        saved: list[tuple[object, list[str], dict[str, npt.NDArray[Any]]]] = [
            (key, *postings.to_arrays())
            for key, postings in self._postings.items()
            if isinstance(key, tuple) and all(isinstance(part, (str, float)) for part in key)
        ]
        saved += [
            (key, words, columns)
            for key, (words, columns) in self._saved_postings.items()
            if key not in self._postings
        ]
        meta["postings"] = [
            {"key": list(cast(tuple[Any, ...], key)), "words": words} for key, words, _ in saved
        ]
        for number, (_, _, columns) in enumerate(saved):
            for name, column in columns.items():
                arrays[f"postings{number}_{name}"] = column
        return meta, arrays

    @classmethod
    def from_columns(
        cls, meta: dict[str, Any], arrays: Mapping[str, npt.NDArray[Any]]
    ) -> CitizenStore:
        if meta.get("format") not in READABLE_STORE_FORMATS:
            raise ValueError(f"store format {meta.get('format')} is not supported")
        store = cls()
        store.seq = int(meta["seq"])
        store.next_item_id = int(meta["next_item_id"])
        store.next_text_id = int(meta["next_text_id"])
        store._reserve_texts()
        raw_texts = [
            sys.intern(text)
            for text in (
                _utf8_strings(arrays["raw_text_bytes"], arrays["raw_text_lengths"])
                if meta["format"] >= 5
                else meta["raw_texts"]
            )
        ]
        store._load_texts(meta, arrays, raw_texts)
        for number, saved in enumerate(meta.get("postings", [])):
            prefix = f"postings{number}_"
            store._saved_postings[tuple(saved["key"])] = (
                saved["words"],
                {name[len(prefix) :]: arrays[name] for name in arrays if name.startswith(prefix)},
            )
        blob = arrays["snapshot_bytes"].tobytes()
        ends = np.cumsum(arrays["snapshot_lengths"]).tolist()
        starts = [0, *ends[:-1]]
        if meta["format"] == 3:  # no routing arrays saved: parse every snapshot, rebuild
            snapshots = [
                MatchSnapshot.model_validate_json(blob[a:b])
                for a, b in zip(starts, ends, strict=True)
            ]
            citizen_ids = [snapshot.citizen_id for snapshot in snapshots]
            slots = [store.arrays.allocate(citizen_id) for citizen_id in citizen_ids]
        else:
            store.arrays = CitizenArrays.from_columns(meta["arrays"], arrays)
            slots = arrays["citizen_slot"].tolist()
            citizen_ids = [cast(str, store.arrays.slot_citizen[slot]) for slot in slots]
        store._load_items(meta, arrays, citizen_ids, raw_texts)
        citizen_items = arrays["citizen_items"].tolist()
        offset = 0
        for n, count in enumerate(arrays["item_counts"].tolist()):
            item_ids = tuple(citizen_items[offset : offset + count])
            offset += count
            if meta["format"] == 3:
                rows = [_row(store._items[i]) for i in item_ids]
                store.arrays.set_citizen(slots[n], snapshots[n], rows)
            packed = blob[starts[n] : ends[n]]
            store._citizens[citizen_ids[n]] = CitizenRecord(
                # Format 3 kept the JSON as it is.
                packed=pack_snapshot(packed) if meta["format"] == 3 else packed,
                item_ids=item_ids,
                slot=slots[n],
            )
        return store

    def _load_texts(
        self, meta: dict[str, Any], arrays: Mapping[str, npt.NDArray[Any]], raw_texts: list[str]
    ) -> None:
        item_text_ids = arrays["item_text_id"]
        if meta["format"] >= 5:
            text_ids = arrays["text_id"].tolist()
            raws = arrays["text_raw"].tolist()
            packed = arrays["text_digest"].tobytes()
            digests = [packed[n : n + DIGEST_BYTES] for n in range(0, len(packed), DIGEST_BYTES)]
        else:
            # Formats 3 and 4 saved normalised texts: a text is now one of its items' raw
            # texts (a text with no item cannot be saved: its last item's removal drops it).
            text_ids = [int(text_id) for text_id, _ in meta["texts"]]
            digests = [text_digest(normalised) for _, normalised in meta["texts"]]
            raw_of = np.full(self.next_text_id, -1, dtype=np.int64)
            raw_of[item_text_ids] = arrays["item_raw_text"]
            raws = raw_of[np.asarray(text_ids, dtype=np.int64)].tolist()
        for text_id, raw, digest in zip(text_ids, raws, digests, strict=True):
            if raw >= 0:
                self._texts[text_id] = raw_texts[raw]
                self._digests[text_id] = digest
                self._text_ids[digest] = text_id
        self._live_texts = len(self._text_ids)
        if len(item_text_ids):
            self._text_refs = np.bincount(item_text_ids, minlength=self.next_text_id).tolist()

    def _load_items(
        self,
        meta: dict[str, Any],
        arrays: Mapping[str, npt.NDArray[Any]],
        owners: list[str],
        raw_texts: list[str],
    ) -> None:
        attributes = [self._shared(a) for a in meta["attributes"]]
        source_ids = (
            _utf8_strings(arrays["source_id_bytes"], arrays["source_id_lengths"])
            if meta["format"] >= 5
            else meta["source_ids"]
        )
        kinds = list(KINDS)
        items = self._items
        for item_id, owner, kind, text_id, raw, attribute, source_id in zip(
            arrays["item_id"].tolist(),
            arrays["item_citizen"].tolist(),
            arrays["item_kind"].tolist(),
            arrays["item_text_id"].tolist(),
            arrays["item_raw_text"].tolist(),
            arrays["item_attributes"].tolist(),
            source_ids,
            strict=True,
        ):
            items[item_id] = EvidenceItem(
                item_id, owners[owner], kinds[kind], source_id, raw_texts[raw],
                attributes[attribute], text_id,
            )  # fmt: skip
