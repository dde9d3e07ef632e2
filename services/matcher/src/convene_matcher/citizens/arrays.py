"""CitizenArrays: the citizen store as numpy columns, so routing works on arrays, not dicts.

Maintained incrementally by ``CitizenStore`` (one ``set_citizen`` / ``clear`` per change) and
read by routing in a worker thread under ``CitizenStore.lock``:

- citizen slots (an int per citizen, reused after erasure): consent, monthly cap, lat/lon,
  authority, languages (a 192-bit mask: ISO 639-1 has 184 codes), rating, flags for the rare
  attributes checked in Python (unavailable periods, access needs);
- item blocks: each citizen's items are one contiguous run of rows (text id, skill level code,
  kind code, verified); an upsert appends a new run and leaves the old one dead, and the rows
  are compacted once dead rows outnumber live ones;
- row tables (slot, value) for roles (role key id) and affiliations (organisation key id,
  employer flag), so "who holds this role" or "who is affiliated with X" is one vector scan;
- an inverted list text id -> citizen slots (retrieval over distinct texts).

Not thread-safe by itself: the store mutates it on the event loop holding ``store.lock`` and
routing reads it in a worker holding the same lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from convene_matcher.citizens.schemas import MatchSnapshot
from convene_matcher.evidence.items import EVIDENCE_KINDS
from convene_matcher.routing.names import organisation_key, role_key

LANGUAGE_WORDS = 3  # 192 bits
KINDS = EVIDENCE_KINDS
KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}
NO_LEVEL = -1
ITEM_COLUMNS = (
    "item_text", "item_level", "item_kind", "item_verified", "item_code", "item_expires",
    "item_dated", "item_rating", "item_signal",
)  # fmt: skip
SLOT_COLUMNS = (
    "alive", "consent", "cap", "lat", "lon", "authority", "rating", "languages", "item_start",
    "item_count", "python_checks",
)  # fmt: skip
ROW_TABLES = ("roles", "affiliations", "ratings")
INTERNERS = ("role_ids", "organisation_ids", "language_ids", "authority_ids", "code_ids")

Int64s = npt.NDArray[np.int64]
Int32s = npt.NDArray[np.int32]
# CitizenArrays.text_holder: a text no slot holds, or one several slots hold.
NO_HOLDER = -1
SEVERAL_HOLDERS = -2


class ItemRow(NamedTuple):
    text_id: int
    level: int  # index in evidence.LEVELS for skills, NO_LEVEL otherwise
    kind: int
    verified: bool
    code: str | None = None  # a skill's code (ESCO URI), casefolded
    expires: float = float("nan")  # a badge's expiry (POSIX seconds), NaN: none
    dated: float = float("nan")  # when the evidence arose (a rating's time), NaN: unknown
    rating: int = 0  # a rated contribution's rating (1-5), 0: not one
    # An imported record's weighting number (scoring.item_signal), NaN: none. ``verified``
    # of an answer says the asker accepted it.
    signal: float = float("nan")


class _Interner:
    """str -> small int, never forgetting (roles, organisations, languages, authorities)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.values: list[str] = []

    def get(self, value: str) -> int:
        found = self.ids.get(value)
        if found is None:
            found = self.ids[value] = len(self.ids)
            self.values.append(value)
        return found

    def find(self, value: str) -> int:
        return self.ids.get(value, -1)


class _Rows:
    """(slot, value, flag) rows with dead-row marking and compaction."""

    def __init__(
        self, *, value_dtype: type[np.generic] = np.int32, flag_dtype: type[np.generic] = np.bool_
    ) -> None:
        self.slot = np.empty(0, dtype=np.int32)
        self.value = np.empty(0, dtype=value_dtype)
        self.flag = np.empty(0, dtype=flag_dtype)
        self.size = 0
        self.dead = 0
        self.rows_of: dict[int, tuple[int, ...]] = {}

    def _reserve(self, extra: int) -> None:
        need = self.size + extra
        if need <= len(self.slot):
            return
        capacity = max(need, 2 * len(self.slot), 1024)
        for name in ("slot", "value", "flag"):
            old = getattr(self, name)
            new = np.empty(capacity, dtype=old.dtype)
            new[: self.size] = old[: self.size]
            setattr(self, name, new)

    def set(self, slot: int, values: list[tuple[Any, Any]]) -> None:
        self.clear(slot)
        if not values:
            return
        self._reserve(len(values))
        start = self.size
        for offset, (value, flag) in enumerate(values):
            self.slot[start + offset] = slot
            self.value[start + offset] = value
            self.flag[start + offset] = flag
        self.size += len(values)
        self.rows_of[slot] = tuple(range(start, self.size))

    def clear(self, slot: int) -> None:
        rows = self.rows_of.pop(slot, None)
        if rows:
            self.slot[list(rows)] = -1
            self.dead += len(rows)
            if self.dead > 1024 and self.dead * 2 > self.size:
                self._compact()

    def _compact(self) -> None:
        live = np.flatnonzero(self.slot[: self.size] >= 0)
        self.slot = self.slot[live].copy()
        self.value = self.value[live].copy()
        self.flag = self.flag[live].copy()
        self.size = len(live)
        self.dead = 0
        self.rows_of = _group_rows(self.slot)

    def view(self) -> tuple[Int32s, npt.NDArray[Any], npt.NDArray[Any]]:
        return self.slot[: self.size], self.value[: self.size], self.flag[: self.size]

    def to_columns(self, prefix: str) -> dict[str, npt.NDArray[Any]]:
        slot, value, flag = (column.copy() for column in self.view())
        return {f"{prefix}_slot": slot, f"{prefix}_value": value, f"{prefix}_flag": flag}

    def load_columns(self, prefix: str, arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        """The rows saved by ``to_columns`` (dead rows, slot -1, dropped on the way)."""
        slot = arrays[f"{prefix}_slot"]
        live = slot >= 0
        self.slot = slot[live].astype(np.int32)
        self.value = arrays[f"{prefix}_value"][live].astype(self.value.dtype)
        self.flag = arrays[f"{prefix}_flag"][live].astype(self.flag.dtype)
        self.size = len(self.slot)
        self.dead = 0
        self.rows_of = _group_rows(self.slot)


class CitizenArrays:
    def __init__(self) -> None:
        self.capacity = 0
        self.alive = np.zeros(0, dtype=np.bool_)
        self.consent = np.zeros(0, dtype=np.bool_)
        self.cap = np.zeros(0, dtype=np.int32)
        self.lat = np.zeros(0, dtype=np.float64)
        self.lon = np.zeros(0, dtype=np.float64)
        self.authority = np.zeros(0, dtype=np.int32)
        self.rating = np.zeros(0, dtype=np.float32)
        self.languages = np.zeros((0, LANGUAGE_WORDS), dtype=np.uint64)
        self.item_start = np.zeros(0, dtype=np.int64)
        self.item_count = np.zeros(0, dtype=np.int32)
        self.python_checks = np.zeros(0, dtype=np.bool_)  # unavailable periods / access needs
        self.slot_citizen: list[str | None] = []
        self.free_slots: list[int] = []
        # Rare attributes checked in Python, by slot.
        self.unavailable: dict[int, tuple[tuple[datetime, datetime], ...]] = {}
        self.access_needs: dict[int, frozenset[str]] = {}
        # Item rows (blocks per citizen).
        self.item_text = np.zeros(0, dtype=np.int64)
        self.item_level = np.zeros(0, dtype=np.int8)
        self.item_kind = np.zeros(0, dtype=np.int8)
        self.item_verified = np.zeros(0, dtype=np.bool_)
        self.item_code = np.zeros(0, dtype=np.int32)  # code_ids id, -1: none
        self.item_expires = np.zeros(0, dtype=np.float64)
        self.item_dated = np.zeros(0, dtype=np.float64)
        self.item_rating = np.zeros(0, dtype=np.int8)
        self.item_signal = np.zeros(0, dtype=np.float32)
        self.item_rows = 0
        self.dead_item_rows = 0
        # Row tables and the inverted list.
        self.roles = _Rows()
        self.affiliations = _Rows()  # value: organisation id, flag: employer
        # Role holders / affiliated slots by query, until the next mutation (routes ask the
        # same few roles and conflicts again and again; a scan is 200k rows).
        self._lookups: dict[tuple[object, ...], Int64s] = {}
        self.role_ids = _Interner()
        self.organisation_ids = _Interner()
        self.language_ids = _Interner()
        self.authority_ids = _Interner()
        self.code_ids = _Interner()
        # Dated ratings (slot, rating, POSIX seconds): routing decays them at the call's time.
        self.ratings = _Rows(value_dtype=np.float32, flag_dtype=np.float64)
        # Text id -> the slot holding it (NO_HOLDER: none; SEVERAL_HOLDERS: the slots are in
        # ``shared_text_slots``). Most texts (a citizen's own words) have one holder: an int32
        # each instead of a dict entry (a dict of ints and sets took 143 MB at 100,000
        # citizens, 1.16M texts; this column 4.6 MB). Read it through ``holders_of``. A
        # slot's own texts are its item rows' (``texts_of_slot``), not kept twice.
        self.text_holder: Int32s = np.full(0, NO_HOLDER, dtype=np.int32)
        self.shared_text_slots: dict[int, set[int]] = {}

    # -- growth --------------------------------------------------------------------------
    def _grow_slots(self) -> None:
        capacity = max(1024, 2 * self.capacity)
        for name, fill in (
            ("alive", False),
            ("consent", False),
            ("cap", -1),
            ("lat", np.nan),
            ("lon", np.nan),
            ("authority", -1),
            ("rating", np.nan),
            ("item_start", 0),
            ("item_count", 0),
            ("python_checks", False),
        ):
            old = getattr(self, name)
            new = np.full(capacity, fill, dtype=old.dtype)
            new[: self.capacity] = old
            setattr(self, name, new)
        languages = np.zeros((capacity, LANGUAGE_WORDS), dtype=np.uint64)
        languages[: self.capacity] = self.languages
        self.languages = languages
        self.free_slots.extend(range(capacity - 1, self.capacity - 1, -1))
        self.slot_citizen.extend([None] * (capacity - self.capacity))
        self.capacity = capacity

    def _reserve_items(self, extra: int) -> None:
        need = self.item_rows + extra
        if need <= len(self.item_text):
            return
        capacity = max(need, 2 * len(self.item_text), 4096)
        for name in ITEM_COLUMNS:
            old = getattr(self, name)
            new = np.zeros(capacity, dtype=old.dtype)
            new[: self.item_rows] = old[: self.item_rows]
            setattr(self, name, new)

    def _compact_items(self) -> None:
        slots = np.flatnonzero(self.alive[: self.capacity] & (self.item_count > 0))
        starts, counts = self.item_start[slots], self.item_count[slots].astype(np.int64)
        rows = block_rows(starts, counts)
        for name in ITEM_COLUMNS:
            setattr(self, name, getattr(self, name)[rows].copy())
        new_starts = np.zeros(len(slots), dtype=np.int64)
        if len(slots):
            new_starts[1:] = np.cumsum(counts)[:-1]
        self.item_start[slots] = new_starts
        self.item_rows = len(rows)
        self.dead_item_rows = 0

    # -- writes --------------------------------------------------------------------------
    def allocate(self, citizen_id: str) -> int:
        if not self.free_slots:
            self._grow_slots()
        slot = self.free_slots.pop()
        self.slot_citizen[slot] = citizen_id
        self.alive[slot] = True
        return slot

    def set_citizen(self, slot: int, snapshot: MatchSnapshot, items: list[ItemRow]) -> None:
        self.consent[slot] = snapshot.consent.matching
        cap = snapshot.availability.max_invitations_per_month
        self.cap[slot] = -1 if cap is None else cap
        place = snapshot.place
        has_point = place is not None and place.lat is not None and place.lon is not None
        self.lat[slot] = place.lat if has_point and place is not None else np.nan
        self.lon[slot] = place.lon if has_point and place is not None else np.nan
        code = place.authority_code if place is not None else None
        self.authority[slot] = self.authority_ids.get(code.casefold()) if code else -1
        score = snapshot.rating.score
        self.rating[slot] = np.nan if score is None else score
        self.ratings.set(
            slot,
            [
                (c.rating, c.rated_at.timestamp())
                for c in snapshot.contributions
                if c.rating is not None and c.rated_at is not None
            ],
        )
        mask = [0] * LANGUAGE_WORDS
        for language in snapshot.languages:
            bit = self.language_ids.get(language.casefold())
            if bit < 64 * LANGUAGE_WORDS:  # more codes than ISO 639-1 has: ignored
                mask[bit // 64] |= 1 << (bit % 64)
        self.languages[slot] = np.array(mask, dtype=np.uint64)
        periods = tuple((p.start, p.end) for p in snapshot.availability.unavailable)
        if periods:
            self.unavailable[slot] = periods
        else:
            self.unavailable.pop(slot, None)
        if snapshot.access_needs:
            self.access_needs[slot] = frozenset(n.casefold() for n in snapshot.access_needs)
        else:
            self.access_needs.pop(slot, None)
        self.python_checks[slot] = bool(periods or snapshot.access_needs)
        role_ids = {
            self.role_ids.get(role_key(name))
            for role in snapshot.roles
            for name in (role.role, role.label)
            if name
        }
        self._lookups = {}
        self.roles.set(slot, [(role_id, False) for role_id in sorted(role_ids)])
        self.affiliations.set(
            slot,
            [
                (self.organisation_ids.get(organisation_key(a.organisation)), a.kind == "employer")
                for a in snapshot.affiliations
            ],
        )
        self._set_items(slot, items)

    def _set_items(self, slot: int, items: list[ItemRow]) -> None:
        previous = self.texts_of_slot(slot)  # its old block is intact until compaction
        old_count = int(self.item_count[slot])
        self.dead_item_rows += old_count
        self._reserve_items(len(items))
        start = self.item_rows
        end = start + len(items)
        if items:
            self.item_text[start:end] = [i.text_id for i in items]
            self.item_level[start:end] = [i.level for i in items]
            self.item_kind[start:end] = [i.kind for i in items]
            self.item_verified[start:end] = [i.verified for i in items]
            self.item_code[start:end] = [
                -1 if i.code is None else self.code_ids.get(i.code) for i in items
            ]
            self.item_expires[start:end] = [i.expires for i in items]
            self.item_dated[start:end] = [i.dated for i in items]
            self.item_rating[start:end] = [i.rating for i in items]
            self.item_signal[start:end] = [i.signal for i in items]
        self.item_start[slot] = start
        self.item_count[slot] = len(items)
        self.item_rows = end
        texts = frozenset(i.text_id for i in items)
        for text_id in previous - texts:
            self._unhold(text_id, slot)
        for text_id in texts - previous:
            self._hold(text_id, slot)
        if self.dead_item_rows > 65_536 and self.dead_item_rows * 2 > self.item_rows:
            self._compact_items()

    def _grow_texts(self, size: int) -> None:
        if size > len(self.text_holder):
            grown = np.full(max(size, 2 * len(self.text_holder), 1024), NO_HOLDER, np.int32)
            grown[: len(self.text_holder)] = self.text_holder
            self.text_holder = grown

    def _hold(self, text_id: int, slot: int) -> None:
        self._grow_texts(text_id + 1)
        holder = int(self.text_holder[text_id])
        if holder == NO_HOLDER:
            self.text_holder[text_id] = slot
        elif holder == SEVERAL_HOLDERS:
            self.shared_text_slots[text_id].add(slot)
        elif holder != slot:
            self.shared_text_slots[text_id] = {holder, slot}
            self.text_holder[text_id] = SEVERAL_HOLDERS

    def _unhold(self, text_id: int, slot: int) -> None:
        holder = int(self.text_holder[text_id]) if text_id < len(self.text_holder) else NO_HOLDER
        if holder == slot:
            self.text_holder[text_id] = NO_HOLDER
        elif holder == SEVERAL_HOLDERS:
            holders = self.shared_text_slots[text_id]
            holders.discard(slot)
            if len(holders) == 1:
                self.text_holder[text_id] = holders.pop()
                del self.shared_text_slots[text_id]

    def clear(self, slot: int) -> None:
        """Forgets the citizen in this slot (erasure) and frees the slot."""
        self._set_items(slot, [])
        self._lookups = {}
        self.roles.clear(slot)
        self.affiliations.clear(slot)
        self.ratings.clear(slot)
        self.unavailable.pop(slot, None)
        self.access_needs.pop(slot, None)
        self.alive[slot] = False
        self.consent[slot] = False
        self.python_checks[slot] = False
        self.slot_citizen[slot] = None
        self.free_slots.append(slot)

    # -- reads ---------------------------------------------------------------------------
    def holders_of(self, text_id: int) -> frozenset[int]:
        """The slots whose items use this text."""
        holder = int(self.text_holder[text_id]) if text_id < len(self.text_holder) else NO_HOLDER
        if holder == NO_HOLDER:
            return frozenset()
        if holder == SEVERAL_HOLDERS:
            return frozenset(self.shared_text_slots[text_id])
        return frozenset((holder,))

    def held_texts(self) -> Int64s:
        """Every text id some slot's items use, ascending."""
        return np.flatnonzero(self.text_holder != NO_HOLDER)

    def texts_of_slot(self, slot: int) -> frozenset[int]:
        """The distinct texts of the slot's items."""
        start, count = int(self.item_start[slot]), int(self.item_count[slot])
        return frozenset(self.item_text[start : start + count].tolist())

    def slots_of_texts(self, text_ids: list[int]) -> Int64s:
        """The slots holding any of these texts, ascending."""
        ids = np.asarray(text_ids, dtype=np.int64)
        ids = ids[ids < len(self.text_holder)]
        holders = self.text_holder[ids]
        chosen = [holders[holders >= 0].astype(np.int64)]
        for text_id in ids[holders == SEVERAL_HOLDERS].tolist():
            chosen.append(np.fromiter(self.shared_text_slots[text_id], dtype=np.int64))
        return np.unique(np.concatenate(chosen))

    def role_holders(self, role: str) -> Int64s:
        """Slots holding the role, sorted (cached until the next mutation; do not modify)."""
        key = ("role", role_key(role))
        found = self._lookups.get(key)
        if found is None:
            if len(self._lookups) > 1024:
                self._lookups = {}
            found = self._lookups[key] = self._role_holders(role)
        return found

    def _role_holders(self, role: str) -> Int64s:
        role_id = self.role_ids.find(role_key(role))
        if role_id < 0:
            return np.empty(0, dtype=np.int64)
        slots, values, _ = self.roles.view()
        # One row per (slot, role): no duplicates to drop. Dead rows (slot -1, kept until
        # compaction) keep their value: they are no holder.
        found: Int64s = np.sort(slots[(values == role_id) & (slots >= 0)]).astype(np.int64)
        return found

    def knows(self, role: str) -> bool:
        """Whether a live citizen holds the role (by slug, label or free text)."""
        return len(self.role_holders(role)) > 0

    def affiliated(self, organisation_keys: frozenset[str], *, employer_only: bool) -> Int64s:
        """Slots affiliated with any of the organisations, sorted (cached like role_holders)."""
        key = ("affiliated", organisation_keys, employer_only)
        found = self._lookups.get(key)
        if found is None:
            if len(self._lookups) > 1024:
                self._lookups = {}
            found = self._lookups[key] = self._affiliated(
                organisation_keys, employer_only=employer_only
            )
        return found

    def _affiliated(self, organisation_keys: frozenset[str], *, employer_only: bool) -> Int64s:
        ids = [self.organisation_ids.find(key) for key in organisation_keys]
        ids = [i for i in ids if i >= 0]
        if not ids:
            return np.empty(0, dtype=np.int64)
        slots, values, employer = self.affiliations.view()
        mask = np.isin(values, ids) & (slots >= 0)  # not the dead rows (slot -1)
        if employer_only:
            mask &= employer
        found: Int64s = np.unique(slots[mask]).astype(np.int64)
        return found

    def organisations_of(self, slot: int) -> frozenset[str]:
        """The organisation keys a citizen is affiliated with (any kind)."""
        rows = self.affiliations.rows_of.get(slot, ())
        values = self.affiliations.value
        return frozenset(self.organisation_ids.values[int(values[row])] for row in rows)

    # -- persistence -----------------------------------------------------------------------
    def to_columns(self) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
        """The arrays as saved with a snapshot: numpy columns plus small JSON metadata, so a
        restart loads them as they are instead of rebuilding them citizen by citizen."""
        # Copies: a snapshot is written after the store's lock is released, while the feed
        # goes on writing these arrays in place.
        arrays: dict[str, npt.NDArray[Any]] = {
            f"arrays_{name}": getattr(self, name)[: self.capacity].copy() for name in SLOT_COLUMNS
        }
        for name in ITEM_COLUMNS:
            arrays[f"arrays_{name}"] = getattr(self, name)[: self.item_rows].copy()
        for name in ROW_TABLES:
            arrays.update(getattr(self, name).to_columns(f"arrays_{name}"))
        arrays["arrays_free_slots"] = np.array(self.free_slots, dtype=np.int64)
        meta = {
            "capacity": self.capacity,
            "item_rows": self.item_rows,
            "dead_item_rows": self.dead_item_rows,
            "slot_citizen": list(self.slot_citizen),
            "interned": {name: list(getattr(self, name).values) for name in INTERNERS},
            "unavailable": [
                [slot, [[start.isoformat(), end.isoformat()] for start, end in periods]]
                for slot, periods in self.unavailable.items()
            ],
            "access_needs": [[slot, sorted(needs)] for slot, needs in self.access_needs.items()],
        }
        return meta, arrays

    @classmethod
    def from_columns(
        cls, meta: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]]
    ) -> CitizenArrays:
        loaded = cls()
        loaded.capacity = int(meta["capacity"])
        for name in (*SLOT_COLUMNS, *ITEM_COLUMNS):
            column = arrays[f"arrays_{name}"]
            # Copies: the loaded arrays are written in place by later upserts.
            setattr(loaded, name, np.array(column, dtype=getattr(loaded, name).dtype))
        loaded.item_rows = int(meta["item_rows"])
        loaded.dead_item_rows = int(meta["dead_item_rows"])
        for name in ROW_TABLES:
            getattr(loaded, name).load_columns(f"arrays_{name}", arrays)
        loaded.free_slots = arrays["arrays_free_slots"].tolist()
        loaded.slot_citizen = list(meta["slot_citizen"])
        for name, values in meta["interned"].items():
            interner = getattr(loaded, name)
            for value in values:
                interner.get(value)
        loaded.unavailable = {
            int(slot): tuple(
                (datetime.fromisoformat(start), datetime.fromisoformat(end))
                for start, end in periods
            )
            for slot, periods in meta["unavailable"]
        }
        loaded.access_needs = {int(slot): frozenset(needs) for slot, needs in meta["access_needs"]}
        loaded._index_texts()
        return loaded

    def _index_texts(self) -> None:
        """text_holder and shared_text_slots from the live item blocks, in one pass of numpy."""
        slots = np.flatnonzero(self.alive[: self.capacity] & (self.item_count > 0))
        counts = self.item_count[slots].astype(np.int64)
        rows = block_rows(self.item_start[slots], counts)
        pairs = np.unique(
            np.stack([self.item_text[rows], np.repeat(slots, counts)], axis=1), axis=0
        )
        text_ids, holders = pairs[:, 0], pairs[:, 1]
        self.text_holder = np.full(0, NO_HOLDER, dtype=np.int32)
        self._grow_texts(int(text_ids.max()) + 1 if len(text_ids) else 0)
        per_text = np.bincount(text_ids, minlength=len(self.text_holder))
        single = per_text[text_ids] == 1
        self.text_holder[text_ids[single]] = holders[single]
        self.text_holder[np.flatnonzero(per_text > 1)] = SEVERAL_HOLDERS
        self.shared_text_slots = {
            key: set(group)
            for key, group in _group_rows_values(text_ids[~single], holders[~single]).items()
        }

    def memory_bytes(self) -> int:
        arrays: list[Any] = [
            self.alive, self.consent, self.cap, self.lat, self.lon, self.authority,
            self.rating, self.languages, self.item_start, self.item_count, self.item_text,
            self.item_level, self.item_kind, self.item_verified, self.item_code,
            self.item_expires, self.item_dated, self.item_rating, self.item_signal,
        ]  # fmt: skip
        return sum(int(a.nbytes) for a in arrays)


def _group_rows(slots: npt.NDArray[Any]) -> dict[int, tuple[int, ...]]:
    """{slot: its row numbers, in order} for a slot column."""
    rows = np.arange(len(slots), dtype=np.int64)
    return {slot: tuple(found) for slot, found in _group_rows_values(slots, rows).items()}


def _group_rows_values(keys: npt.NDArray[Any], values: npt.NDArray[Any]) -> dict[int, list[int]]:
    """{key: the values paired with it} for paired columns."""
    if not len(keys):
        return {}
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    bounds = np.flatnonzero(np.diff(ordered)) + 1
    starts = [0, *bounds.tolist()]
    ends = [*bounds.tolist(), len(ordered)]
    paired = values[order].tolist()
    return {
        key: paired[a:b] for key, a, b in zip(ordered[starts].tolist(), starts, ends, strict=True)
    }


def block_rows(starts: Int64s, counts: Int64s) -> Int64s:
    """The row indices of blocks (start, count), concatenated."""
    total = int(counts.sum()) if len(counts) else 0
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    return np.arange(total, dtype=np.int64) + offsets
