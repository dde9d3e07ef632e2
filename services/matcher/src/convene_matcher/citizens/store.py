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

Items are numpy columns indexed by item id (``ItemColumns``: 37 bytes an id), not objects:
``item``, ``items_of`` and ``items`` build ``EvidenceItem`` objects on demand. At 100k
citizens the 1.63M item objects, their source-id strings, dict and int objects were about
520 MB; a citizen's item ids are one int32 ``bytes`` (97 bytes for 16 items, where a tuple
of ints was about 620).

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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from convene_matcher.citizens.arrays import KIND_CODE, KINDS, NO_LEVEL, CitizenArrays, ItemRow
from convene_matcher.citizens.item_columns import (
    NONE,
    ItemColumns,
    attributes_key,
    utf8_as_uuids,
    uuid_text,
    uuids_as_utf8,
)
from convene_matcher.citizens.postings import TextPostings, Vectoriser
from convene_matcher.citizens.saved_columns import ByteRun, SavedColumns, Streamed
from convene_matcher.citizens.schemas import MatchSnapshot
from convene_matcher.embedding.text import normalise_text, normalised_uncached
from convene_matcher.evidence.items import (
    LEVELS,
    EvidenceItem,
    ItemDraft,
    drafts_from_snapshot,
    item_signal,
)
from convene_matcher.locks import ReadWriteLock

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


def _utf8_strings(blob: npt.NDArray[np.uint8], lengths: npt.NDArray[np.int64]) -> list[str]:
    view = np.ascontiguousarray(blob).data
    ends = np.cumsum(lengths).tolist()
    starts = [0, *ends[:-1]]
    return [str(view[a:b], "utf-8") for a, b in zip(starts, ends, strict=True)]


def _split_bytes(blob: npt.NDArray[np.uint8], lengths: npt.NDArray[np.int64]) -> list[bytes]:
    """A bytes column cut into its values, each copied straight from the array (no
    ``tobytes()`` copy of the whole column beside them: 280 MB at 100k citizens)."""
    view = np.ascontiguousarray(blob).data
    ends = np.cumsum(lengths).tolist()
    starts = [0, *ends[:-1]]
    return [bytes(view[a:b]) for a, b in zip(starts, ends, strict=True)]


class CitizenRecord:
    """A citizen's latest MatchSnapshot (kept as its compact JSON, zlib-compressed: 100k
    validated pydantic trees cost about 0.7 GB, their JSON 0.78 GB and the compressed JSON
    0.29 GB; ``snapshot`` inflates and parses on access, for the few citizens a request looks
    at), item ids and array slot. Routing reads the arrays, never this per candidate."""

    __slots__ = ("item_id_bytes", "slot", "snapshot_packed")

    def __init__(self, *, packed: bytes, item_ids: Sequence[int] | bytes, slot: int = -1) -> None:
        self.snapshot_packed = packed
        # int32 item ids as bytes: not a tuple of int objects, and not tracked by the GC.
        self.item_id_bytes = (
            item_ids if isinstance(item_ids, bytes) else np.asarray(item_ids, np.int32).tobytes()
        )
        self.slot = slot

    @classmethod
    def of(cls, snapshot: MatchSnapshot, *, item_ids: Sequence[int], slot: int) -> CitizenRecord:
        return cls(packed=pack_snapshot(snapshot), item_ids=item_ids, slot=slot)

    @property
    def item_id_array(self) -> npt.NDArray[np.int32]:
        return np.frombuffer(self.item_id_bytes, dtype=np.int32)

    @property
    def item_ids(self) -> tuple[int, ...]:
        return tuple(self.item_id_array.tolist())

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
        self._items = ItemColumns()
        self._text_ids: dict[bytes, int] = {}  # text_digest(normalised text) -> text id
        # By text id (ids are dense and never reused; 0 is none): a raw text of the text's
        # items, the very str an item holds, None once the text is dropped; and how many
        # items use it. Lists, not dicts: 8 bytes an entry (small ints are shared).
        self._texts: list[str | None] = [None]
        # Items per text id (an int32 column: a list of Python ints took 42 MB at 1.16M).
        self._text_refs: npt.NDArray[np.int32] = np.zeros(1, dtype=np.int32)
        # The dict's keys by text id (a snapshot saves them: no text normalised to save one).
        self._digests: list[bytes | None] = [None]
        self._live_texts = 0
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
        return self._items.live

    @property
    def text_count(self) -> int:
        return self._live_texts

    def get(self, citizen_id: str) -> CitizenRecord | None:
        return self._citizens.get(citizen_id)

    def item(self, item_id: int) -> EvidenceItem | None:
        if not self._items.alive(item_id):
            return None
        (found,) = self._build(np.array([item_id], dtype=np.int64))
        return found

    def items_of(self, citizen_id: str) -> list[EvidenceItem]:
        record = self._citizens.get(citizen_id)
        return self._build(record.item_id_array) if record else []

    def items_by_id(self, item_ids: npt.NDArray[np.integer[Any]]) -> list[EvidenceItem]:
        """The items of these live ids, in their order, built in one pass over the columns
        (a citizen at a time cost seven small gathers each)."""
        return self._build(np.asarray(item_ids, dtype=np.int64))

    def citizens(self) -> Iterator[tuple[str, CitizenRecord]]:
        return iter(self._citizens.items())

    def items(self) -> Iterator[EvidenceItem]:
        """Every live item in id order, built as it is read (in blocks of 65536)."""
        ids = self._items.live_ids()
        for start in range(0, len(ids), 65536):
            yield from self._build(ids[start : start + 65536])

    def _build(self, ids: npt.NDArray[np.integer[Any]]) -> list[EvidenceItem]:
        """Items of live ids from the columns (one gather a column, not a lookup an item)."""
        columns, texts, citizens = self._items, self._texts, self.arrays.slot_citizen
        raws, sources = columns.raw_table.values, columns.source_table.values
        attributes = columns.attribute_table.values
        built = []
        for item_id, owner, kind, text_id, attribute, raw, source, uuid in zip(
            ids.tolist(),
            columns.owner[ids].tolist(),
            columns.kind[ids].tolist(),
            columns.text_id[ids].tolist(),
            columns.attributes[ids].tolist(),
            columns.raw[ids].tolist(),
            columns.source[ids].tolist(),
            columns.source_uuid[ids],
            strict=True,
        ):
            built.append(
                EvidenceItem(
                    item_id,
                    cast(str, citizens[owner]),
                    KINDS[kind],
                    uuid_text(uuid.tobytes()) if source == NONE else cast(str, sources[source]),
                    cast(str, texts[text_id] if raw == NONE else raws[raw]),
                    cast(dict[str, Any], attributes[attribute]),
                    text_id,
                )
            )
        return built

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
        found: npt.NDArray[np.int64] = np.flatnonzero(self._text_refs[: self.next_text_id])
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
        return int(self._text_refs[text_id]) if 0 <= text_id < len(self._text_refs) else 0

    def refs_of(self, text_ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Items per text id, for many (0 for ids never allocated)."""
        inside = (text_ids >= 0) & (text_ids < len(self._text_refs))
        refs = np.zeros(len(text_ids), dtype=np.int64)
        refs[inside] = self._text_refs[text_ids[inside]]
        return refs

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
    def _reserve_texts(self) -> None:
        """Text id lists as long as ids allocated."""
        missing = self.next_text_id - len(self._texts)
        if missing > 0:
            self._texts.extend([None] * missing)
            self._digests.extend([None] * missing)
        if len(self._text_refs) < self.next_text_id:
            grown = np.zeros(max(self.next_text_id, 2 * len(self._text_refs)), dtype=np.int32)
            grown[: len(self._text_refs)] = self._text_refs
            self._text_refs = grown

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
        refs = int(self._text_refs[text_id]) - 1
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
            for item in self._build(previous.item_id_array):
                existing[(item.kind, item.source_id, item.text)] = item
        result = UpsertResult()
        columns = self._items
        with self.lock.write():
            slot = previous.slot if previous else self.arrays.allocate(citizen_id)
            kept_items: list[EvidenceItem] = []
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
                            kept.item_id, citizen_id, draft.kind, draft.source_id, kept.text,
                            columns.set_attributes(kept.item_id, draft.attributes), kept.text_id,
                        )  # fmt: skip
                    kept_items.append(kept)
                    continue
                # Interned: a label held by thousands of citizens is one string, not thousands.
                text = sys.intern(draft.text)
                text_id = self._link_text(text, result)
                item_id = self.next_item_id
                self.next_item_id += 1
                attributes = columns.add(
                    item_id,
                    owner=slot,
                    kind=KIND_CODE[draft.kind],
                    text_id=text_id,
                    source_id=draft.source_id,
                    raw=None if self._texts[text_id] == text else text,
                    attributes=draft.attributes,
                )
                item = EvidenceItem(
                    item_id, citizen_id, draft.kind, draft.source_id, text, attributes, text_id
                )
                kept_items.append(item)
                result.added.append(item)
            for stale in existing.values():
                columns.remove(stale.item_id)
                result.removed.append(stale.item_id)
                self._unlink_text(stale.text_id, result)
            self.arrays.set_citizen(slot, snapshot, [_row(item) for item in kept_items])
            self._citizens[citizen_id] = CitizenRecord.of(
                snapshot, item_ids=[item.item_id for item in kept_items], slot=slot
            )
        return result

    def erase(self, citizen_id: str) -> UpsertResult:
        """Forgets the citizen entirely; returns the items and texts to drop."""
        result = UpsertResult()
        with self.lock.write():
            record = self._citizens.pop(citizen_id, None)
            if record is None:
                return result
            columns = self._items
            for item_id in record.item_id_array.tolist():
                if columns.alive(item_id):
                    text_id = int(columns.text_id[item_id])
                    columns.remove(item_id)
                    result.removed.append(item_id)
                    self._unlink_text(text_id, result)
            self.arrays.clear(record.slot)
        return result

    # -- persistence -------------------------------------------------------------------
    def columns(self) -> tuple[dict[str, Any], SavedColumns]:
        """The store as (small JSON metadata, numpy columns): no per-citizen JSON parse or
        dump (snapshots are kept as JSON bytes already). Call with mutations excluded: it
        takes references to what no mutation changes (packed snapshots, item id bytes, texts,
        postings already written) and copies of the small columns; the large columns are
        built as they are read or written, after the exclusion ends (``SavedColumns``)."""
        citizens = list(self._citizens.values())
        columns = self._items
        ids = columns.live_ids()
        blobs = [record.snapshot_packed for record in citizens]
        citizen_of_slot = np.full(self.arrays.capacity, -1, dtype=np.int64)
        citizen_of_slot[[record.slot for record in citizens]] = np.arange(len(citizens))
        # Raw texts: each live text's own (distinct: equal raw texts are one text), then the
        # variants items hold (distinct too, and unlike any text's own).
        text_ids = self.text_ids()
        raw_texts = [cast(str, self._texts[t]) for t in text_ids.tolist()]
        text_raw = np.full(self.next_text_id, -1, dtype=np.int64)
        text_raw[text_ids] = np.arange(len(text_ids))
        variant_rows = np.array(
            [row for row, raw in enumerate(columns.raw_table.values) if raw is not None],
            dtype=np.int64,
        )
        variant_raw = np.full(len(columns.raw_table.values) + 1, -1, dtype=np.int64)
        variant_raw[variant_rows] = len(raw_texts) + np.arange(len(variant_rows))
        raw_texts += [cast(str, columns.raw_table.values[row]) for row in variant_rows.tolist()]
        # Copies as the columns hold them (int32), widened as they are written.
        item_owner, item_raw, item_text_id = (
            columns.owner[ids],
            columns.raw[ids],
            columns.text_id[ids],
        )
        attribute_rows, item_attributes = np.unique(columns.attributes[ids], return_inverse=True)
        meta = {
            "format": STORE_FORMAT,
            "seq": self.seq,
            "next_item_id": self.next_item_id,
            "next_text_id": self.next_text_id,
            "attributes": [columns.attribute_table.values[row] for row in attribute_rows.tolist()],
        }
        item_id_blobs = [record.item_id_bytes for record in citizens]
        arrays = SavedColumns()
        arrays["snapshot_bytes"] = ByteRun(blobs)
        arrays["snapshot_lengths"] = ByteRun(blobs).lengths()
        arrays["item_counts"] = np.fromiter(
            (len(blob) // 4 for blob in item_id_blobs), np.int64, len(blobs)
        )
        arrays["citizen_items"] = lambda: np.frombuffer(
            b"".join(item_id_blobs), dtype=np.int32
        ).astype(np.int64)
        arrays["item_id"] = ids
        arrays["item_citizen"] = lambda: citizen_of_slot[item_owner]
        arrays["item_kind"] = columns.kind[ids]
        arrays["item_text_id"] = lambda: item_text_id.astype(np.int64)
        arrays["item_raw_text"] = lambda: np.where(
            item_raw == NONE, text_raw[item_text_id], variant_raw[np.maximum(item_raw, 0)]
        )
        arrays["item_attributes"] = item_attributes.reshape(-1).astype(np.int64, copy=False)
        arrays["text_id"] = text_ids
        arrays["text_raw"] = lambda: text_raw[text_ids]
        digests = [cast(bytes, self._digests[t]) for t in text_ids.tolist()]
        arrays["text_digest"] = ByteRun(digests, width=DIGEST_BYTES)
        arrays["raw_text_bytes"] = ByteRun(raw_texts)
        arrays["raw_text_lengths"] = ByteRun(raw_texts).lengths()
        arrays["source_id_bytes"], arrays["source_id_lengths"] = self._source_id_column(ids)
        meta["arrays"], routing_arrays = self.arrays.to_columns()
        for name, column in routing_arrays.items():
            arrays[name] = column
        arrays["citizen_slot"] = np.fromiter((r.slot for r in citizens), np.int64, len(blobs))
        # The lexical postings (keys such as ("lexical", 4.0)): vectorising a million texts
        # again after a restart would cost minutes of CPU, paid by the first calls routed.
        saved: list[tuple[object, list[str], Mapping[str, Any]]] = [
            (key, *postings.to_arrays())
            for key, postings in self._postings.items()
            if isinstance(key, tuple) and all(isinstance(part, (str, float)) for part in key)
        ]
        saved += [
            (key, words, saved_columns)
            for key, (words, saved_columns) in self._saved_postings.items()
            if key not in self._postings
        ]
        meta["postings"] = [
            {"key": list(cast(tuple[Any, ...], key)), "words": words} for key, words, _ in saved
        ]
        for number, (_, _, postings_columns) in enumerate(saved):
            for name, column in postings_columns.items():
                arrays[f"postings{number}_{name}"] = column
        return meta, arrays

    @classmethod
    def from_columns(
        cls, meta: dict[str, Any], arrays: Mapping[str, npt.NDArray[Any]]
    ) -> CitizenStore:
        """The store ``columns()`` saved. ``arrays`` may read each column as it is asked for
        (np.load's NpzFile does): every column is read once and let go once used, the largest
        first, so the saved columns are never all in memory beside the store they build (at
        100k citizens they were 1.4 GB of the load's 4.7 GB peak)."""
        if meta.get("format") not in READABLE_STORE_FORMATS:
            raise ValueError(f"store format {meta.get('format')} is not supported")
        store = cls()
        store.seq = int(meta["seq"])
        store.next_item_id = int(meta["next_item_id"])
        store.next_text_id = int(meta["next_text_id"])
        store._reserve_texts()
        # Format 3 kept each snapshot's JSON as it is; later formats, compressed.
        packed = _split_bytes(arrays["snapshot_bytes"], arrays["snapshot_lengths"])
        raw_texts = [
            sys.intern(text)
            for text in (
                _utf8_strings(arrays["raw_text_bytes"], arrays["raw_text_lengths"])
                if meta["format"] >= 5
                else meta["raw_texts"]
            )
        ]
        item_text_ids, item_raw_texts = arrays["item_text_id"], arrays["item_raw_text"]
        text_raw = store._load_texts(meta, arrays, raw_texts, item_text_ids, item_raw_texts)
        for number, saved in enumerate(meta.get("postings", [])):
            prefix = f"postings{number}_"
            store._saved_postings[tuple(saved["key"])] = (
                saved["words"],
                {name[len(prefix) :]: arrays[name] for name in arrays if name.startswith(prefix)},
            )
        if meta["format"] == 3:  # no routing arrays saved: parse every snapshot, rebuild
            snapshots = [MatchSnapshot.model_validate_json(raw) for raw in packed]
            citizen_ids = [snapshot.citizen_id for snapshot in snapshots]
            slots = [store.arrays.allocate(citizen_id) for citizen_id in citizen_ids]
        else:
            store.arrays = CitizenArrays.from_columns(meta["arrays"], arrays)
            slots = arrays["citizen_slot"].tolist()
            citizen_ids = [cast(str, store.arrays.slot_citizen[slot]) for slot in slots]
        store._load_items(
            meta,
            arrays,
            np.asarray(slots, dtype=np.int64),
            raw_texts,
            text_raw=text_raw,
            text_ids=item_text_ids,
            item_raw=item_raw_texts,
        )
        del text_raw, item_text_ids, item_raw_texts
        citizen_items = arrays["citizen_items"].astype(np.int32).tobytes()
        ends_items = np.cumsum(arrays["item_counts"]).tolist()
        starts_items = [0, *ends_items[:-1]]
        for n, (first, last) in enumerate(zip(starts_items, ends_items, strict=True)):
            record = CitizenRecord(
                packed=packed[n], item_ids=citizen_items[4 * first : 4 * last], slot=slots[n]
            )
            if meta["format"] == 3:
                record.snapshot_packed = pack_snapshot(record.snapshot_packed)
                rows = [_row(item) for item in store._build(record.item_id_array)]
                store.arrays.set_citizen(slots[n], snapshots[n], rows)
            store._citizens[citizen_ids[n]] = record
        return store

    def _load_texts(
        self,
        meta: dict[str, Any],
        arrays: Mapping[str, npt.NDArray[Any]],
        raw_texts: list[str],
        item_text_ids: npt.NDArray[np.integer[Any]],
        item_raw_texts: npt.NDArray[np.int64],
    ) -> npt.NDArray[np.int64]:
        """Loads the texts; returns each text id's own raw text (a row of ``raw_texts``)."""
        raw_of = np.full(self.next_text_id, -1, dtype=np.int64)
        if meta["format"] >= 5:
            saved_ids, saved_raws = arrays["text_id"], arrays["text_raw"]
            raw_of[saved_ids] = saved_raws
            text_ids, raws = saved_ids.tolist(), saved_raws.tolist()
            del saved_ids, saved_raws
            packed = arrays["text_digest"].tobytes()
            digests = [packed[n : n + DIGEST_BYTES] for n in range(0, len(packed), DIGEST_BYTES)]
            del packed
        else:
            # Formats 3 and 4 saved normalised texts: a text is now one of its items' raw
            # texts (a text with no item cannot be saved: its last item's removal drops it).
            text_ids = [int(text_id) for text_id, _ in meta["texts"]]
            digests = [text_digest(normalised) for _, normalised in meta["texts"]]
            raw_of[item_text_ids] = item_raw_texts
            raws = raw_of[np.asarray(text_ids, dtype=np.int64)].tolist()
        for text_id, raw, digest in zip(text_ids, raws, digests, strict=True):
            if raw >= 0:
                self._texts[text_id] = raw_texts[raw]
                self._digests[text_id] = digest
                self._text_ids[digest] = text_id
        self._live_texts = len(self._text_ids)
        if len(item_text_ids):
            self._text_refs = np.bincount(item_text_ids, minlength=self.next_text_id).astype(
                np.int32
            )
        return raw_of

    def _load_items(
        self,
        meta: dict[str, Any],
        arrays: Mapping[str, npt.NDArray[Any]],
        slots: npt.NDArray[np.int64],
        raw_texts: list[str],
        *,
        text_raw: npt.NDArray[np.int64],
        text_ids: npt.NDArray[np.integer[Any]],
        item_raw: npt.NDArray[np.int64],
    ) -> None:
        """The item columns as array copies; only the rare variant raw texts, non-UUID source
        ids and the distinct attribute dicts go through Python. ``text_ids`` and ``item_raw``
        are the saved items' text ids and raw texts (read once by the caller)."""
        columns = self._items
        columns.reserve(self.next_item_id)
        ids = arrays["item_id"].astype(np.int64)
        columns.owner[ids] = slots[arrays["item_citizen"]]
        columns.kind[ids] = arrays["item_kind"]
        columns.text_id[ids] = text_ids
        columns.live = len(ids)
        saved_attributes = arrays["item_attributes"]
        users = np.bincount(saved_attributes, minlength=len(meta["attributes"])).tolist()
        attribute_row = np.array(
            [
                columns.attribute_table.add(value, attributes_key(value), count) if count else -1
                for value, count in zip(meta["attributes"], users, strict=True)
            ],
            dtype=np.int32,
        )
        columns.attributes[ids] = attribute_row[saved_attributes]
        del saved_attributes, attribute_row
        own = text_raw[text_ids] == item_raw
        columns.raw[ids[own]] = NONE
        for item_id, raw in zip(ids[~own].tolist(), item_raw[~own].tolist(), strict=True):
            text = raw_texts[raw]
            columns.raw[item_id] = columns.raw_table.add(text, text)
        if meta["format"] >= 5:
            blob, lengths = arrays["source_id_bytes"], arrays["source_id_lengths"]
        else:
            source_ids = ByteRun(meta["source_ids"])
            blob, lengths = source_ids.array(), source_ids.lengths()
        self._load_source_ids(ids, blob, lengths)

    def _source_id_column(
        self, ids: npt.NDArray[np.int64]
    ) -> tuple[Streamed, npt.NDArray[np.int64]]:
        """The items' source ids as a utf-8 column, written 65536 items at a time from copies
        taken now, and each one's length."""
        columns = self._items
        sources = columns.source[ids]
        uuid_bytes = columns.source_uuid[ids[sources == NONE]]
        others = np.flatnonzero(sources != NONE)
        encoded = [
            cast(str, columns.source_table.values[row]).encode() for row in sources[others].tolist()
        ]
        lengths = np.full(len(ids), 36, dtype=np.int64)
        lengths[others] = [len(text) for text in encoded]

        def parts() -> Iterator[bytes]:
            uuids_done = others_done = 0
            for first in range(0, len(ids), 65536):
                block_lengths = lengths[first : first + 65536]
                starts = np.cumsum(block_lengths) - block_lengths
                built = np.empty(int(block_lengths.sum()), dtype=np.uint8)
                is_uuid = sources[first : first + 65536] == NONE
                uuid_rows = np.flatnonzero(is_uuid)
                built[starts[uuid_rows][:, None] + np.arange(36)] = uuids_as_utf8(
                    uuid_bytes[uuids_done : uuids_done + len(uuid_rows)]
                )
                uuids_done += len(uuid_rows)
                for at in starts[~is_uuid].tolist():
                    text = encoded[others_done]
                    built[at : at + len(text)] = np.frombuffer(text, dtype=np.uint8)
                    others_done += 1
                yield built.tobytes()

        return Streamed(np.dtype(np.uint8), int(lengths.sum()), parts), lengths

    def _load_source_ids(
        self,
        ids: npt.NDArray[np.int64],
        blob: npt.NDArray[np.uint8],
        lengths: npt.NDArray[np.int64],
    ) -> None:
        """Canonical UUIDs to the 16-byte column (vectorised); other source ids to the table."""
        columns = self._items
        starts = np.cumsum(lengths) - lengths
        is_uuid = np.zeros(len(ids), dtype=np.bool_)
        candidates = np.flatnonzero(lengths == 36)
        for first in range(0, len(candidates), 65536):
            block = candidates[first : first + 65536]
            valid, raw = utf8_as_uuids(blob[starts[block][:, None] + np.arange(36)])
            columns.source_uuid[ids[block[valid]]] = raw[valid]
            is_uuid[block[valid]] = True
        columns.source[ids[is_uuid]] = NONE
        others = np.flatnonzero(~is_uuid)
        view = np.ascontiguousarray(blob).data
        users: dict[str, list[int]] = {}
        for n, start, length in zip(
            others.tolist(), starts[others].tolist(), lengths[others].tolist(), strict=True
        ):
            users.setdefault(str(view[start : start + length], "utf-8"), []).append(n)
        for source_id, rows in users.items():
            row = columns.source_table.add(source_id, source_id, len(rows))
            columns.source[ids[rows]] = row
