"""ItemColumns: the store's evidence items as numpy columns indexed by item id.

Item ids come from a counter and are never reused, so an id indexes the columns directly
(a dead or never-used id has owner slot -1). Per id: the owner's citizen slot (int32), kind
code (int8), text id (int32), attributes (int32, a row of a shared table of dicts), raw text
(int32: -1 when it is the text's own raw text, ``CitizenStore._texts[text_id]``, else a row
of a table of variant raw texts) and source id (int32: -1 when it is a canonical UUID, held
in a 16-byte column, else a row of a table of other source ids such as "bio"). 37 bytes an
id, where an ``EvidenceItem`` object with its source-id string, dict entry and int objects
was about 320 bytes (1.63M items of 100k citizens: 520 MB). An id allocated costs its 37
bytes for as long as the store lives, dead or alive.

The tables count their users and forget a value with its last one (an erased citizen's
experience titles and source ids leave memory with them); a freed row is reused.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T")
NONE = -1
UUID_HEX_POSITIONS = np.array(
    [n for n in range(36) if n not in (8, 13, 18, 23)], dtype=np.int64
)  # the 32 hex digits of "8-4-4-4-12"
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_NIBBLE = np.full(256, 255, dtype=np.uint8)
_NIBBLE[_HEX] = np.arange(16, dtype=np.uint8)


class RefTable(Generic[T]):
    """Values by row, each with a count of its users; equal values (by ``key``) share a
    row, and a row whose last user goes is freed for reuse."""

    def __init__(self) -> None:
        self.values: list[T | None] = []
        self._keys: list[object] = []
        self._refs: list[int] = []
        self._rows: dict[object, int] = {}
        self._free: list[int] = []

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, value: T, key: object, users: int = 1) -> int:
        """The row of ``value`` (``users`` more); ``key`` None: a row of its own."""
        row = self._rows.get(key) if key is not None else None
        if row is None:
            if self._free:
                row = self._free.pop()
                self.values[row], self._keys[row], self._refs[row] = value, key, 0
            else:
                row = len(self.values)
                self.values.append(value)
                self._keys.append(key)
                self._refs.append(0)
            if key is not None:
                self._rows[key] = row
        self._refs[row] += users
        return row

    def release(self, row: int) -> None:
        self._refs[row] -= 1
        if self._refs[row]:
            return
        key = self._keys[row]
        if key is not None:
            del self._rows[key]
        self.values[row] = None
        self._keys[row] = None
        self._free.append(row)


def attributes_key(attributes: dict[str, Any]) -> object:
    """Identical attribute dicts ({"level": "can_do"}) share a row; unhashable ones do not."""
    try:
        key = tuple(sorted(attributes.items()))
        hash(key)
    except TypeError:
        return None
    return key


def uuid_bytes(source_id: str) -> bytes | None:
    """A canonical (lower-case, hyphenated) UUID's 16 bytes; None for any other string, which
    would not read back as written."""
    if len(source_id) != 36:
        return None
    try:
        raw = bytes.fromhex(source_id.replace("-", "", 4))
    except ValueError:
        return None
    return raw if len(raw) == 16 and uuid_text(raw) == source_id else None


def uuid_text(raw: bytes) -> str:
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def uuids_as_utf8(raw: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """(n, 16) UUID bytes as (n, 36) utf-8 canonical texts, vectorised."""
    out = np.full((len(raw), 36), ord("-"), dtype=np.uint8)
    digits = np.empty((len(raw), 32), dtype=np.uint8)
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 15]
    out[:, UUID_HEX_POSITIONS] = digits
    return out


def utf8_as_uuids(
    text: npt.NDArray[np.uint8],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.uint8]]:
    """(n, 36) utf-8 texts: which are canonical UUIDs, and their 16 bytes (rows that are not
    hold garbage)."""
    digits = _NIBBLE[text[:, UUID_HEX_POSITIONS]]
    hyphens = np.delete(np.arange(36), UUID_HEX_POSITIONS)
    valid = (digits != 255).all(axis=1) & (text[:, hyphens] == ord("-")).all(axis=1)
    return valid, ((digits[:, 0::2] << 4) | digits[:, 1::2]).astype(np.uint8)


class ItemColumns:
    """The columns and their tables; ``CitizenStore`` decides what goes in (under its lock)."""

    def __init__(self) -> None:
        self.owner = np.full(0, NONE, dtype=np.int32)
        self.kind = np.zeros(0, dtype=np.int8)
        self.text_id = np.zeros(0, dtype=np.int32)
        self.attributes = np.zeros(0, dtype=np.int32)
        self.raw = np.zeros(0, dtype=np.int32)
        self.source = np.zeros(0, dtype=np.int32)
        self.source_uuid = np.zeros((0, 16), dtype=np.uint8)
        self.live = 0
        self.attribute_table: RefTable[dict[str, Any]] = RefTable()
        self.raw_table: RefTable[str] = RefTable()
        self.source_table: RefTable[str] = RefTable()

    def reserve(self, size: int) -> None:
        """Columns for ids below ``size`` (capacity doubles, so appends are amortised)."""
        if size <= len(self.owner):
            return
        if size >= 2**31:
            raise OverflowError("item ids past 2^31 do not fit the int32 columns")
        capacity = max(size, 2 * len(self.owner), 1024)
        old = len(self.owner)
        for name in ("owner", "kind", "text_id", "attributes", "raw", "source", "source_uuid"):
            column = getattr(self, name)
            grown = np.zeros((capacity, *column.shape[1:]), dtype=column.dtype)
            grown[:old] = column
            setattr(self, name, grown)
        self.owner[old:] = NONE

    def add(
        self,
        item_id: int,
        *,
        owner: int,
        kind: int,
        text_id: int,
        source_id: str,
        raw: str | None,
        attributes: dict[str, Any],
    ) -> dict[str, Any]:
        """A new item; ``raw`` None: its raw text is its text's own. Returns the attributes
        as the table holds them (equal dicts are one dict)."""
        self.reserve(item_id + 1)
        self.owner[item_id] = owner
        self.kind[item_id] = kind
        self.text_id[item_id] = text_id
        self.raw[item_id] = NONE if raw is None else self.raw_table.add(raw, raw)
        uuid = uuid_bytes(source_id)
        if uuid is None:
            self.source[item_id] = self.source_table.add(source_id, source_id)
        else:
            self.source[item_id] = NONE
            self.source_uuid[item_id] = np.frombuffer(uuid, dtype=np.uint8)
        row = self.attribute_table.add(attributes, attributes_key(attributes))
        self.attributes[item_id] = row
        self.live += 1
        return self.attribute_table.values[row]  # type: ignore[return-value]

    def set_attributes(self, item_id: int, attributes: dict[str, Any]) -> dict[str, Any]:
        row = self.attribute_table.add(attributes, attributes_key(attributes))
        self.attribute_table.release(int(self.attributes[item_id]))
        self.attributes[item_id] = row
        return self.attribute_table.values[row]  # type: ignore[return-value]

    def remove(self, item_id: int) -> None:
        self.owner[item_id] = NONE
        self.attribute_table.release(int(self.attributes[item_id]))
        if self.raw[item_id] != NONE:
            self.raw_table.release(int(self.raw[item_id]))
        if self.source[item_id] != NONE:
            self.source_table.release(int(self.source[item_id]))
        self.live -= 1

    def alive(self, item_id: int) -> bool:
        return 0 <= item_id < len(self.owner) and self.owner[item_id] != NONE

    def source_id(self, item_id: int) -> str:
        row = int(self.source[item_id])
        if row != NONE:
            return self.source_table.values[row]  # type: ignore[return-value]
        return uuid_text(self.source_uuid[item_id].tobytes())

    def live_ids(self) -> npt.NDArray[np.int64]:
        found: npt.NDArray[np.int64] = np.flatnonzero(self.owner != NONE)
        return found
