"""SavedColumns: a store snapshot's numpy columns, each built when it is read or written.

``CitizenStore.columns()`` runs with mutations held off and takes only what the feed could
change under it: references to immutable values (each citizen's packed snapshot and item ids
as ``bytes``, the texts as ``str``, views of the postings) and copies of the small mutable
columns. The large columns are built afterwards, one at a time, as the writer reaches them;
the utf-8 blobs (``ByteRun``, ``Streamed``) and the postings (``ArrayRun``) are written in
blocks without ever being whole in memory. Built all at once into a dict, the columns added
1.4 GB to a save's peak at 100k citizens (bench/snapshot_load.py --save).

``write_npz`` writes what ``np.savez`` writes (an uncompressed zip of ``<name>.npy``
members, zip64 forced as numpy forces it), so ``np.load`` reads it as before.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import numpy.typing as npt
from numpy.lib import format as npy_format

# Blocks of 16 MiB (numpy's own write buffer) left ~50 MB of freed heap in the RSS.
BLOCK_BYTES = 1 << 22


def _blocks(parts: Iterable[bytes]) -> Iterator[bytearray]:
    """The parts joined into blocks of about ``BLOCK_BYTES``. Appended to a bytearray:
    ``b"".join`` holds an 80-byte buffer record for each part beside the result (80 MB for a
    block of a million 16-byte text digests)."""
    block = bytearray()
    for part in parts:
        block += part
        if len(block) >= BLOCK_BYTES:
            yield block
            block = bytearray()
    if block:
        yield block


@dataclass(frozen=True, slots=True)
class ByteRun:
    """A uint8 column of values laid end to end (a ``str`` as its utf-8), with ``lengths``
    its companion column of each value's byte length; ``width``: values all of that many
    bytes, one a row of a (values, width) column."""

    values: Sequence[bytes] | Sequence[str]
    width: int = 0
    dtype = np.dtype(np.uint8)

    def shape(self) -> tuple[int, ...]:
        if self.width:
            return (len(self.values), self.width)
        return (int(self.lengths().sum()),)

    def _encoded(self) -> Iterator[bytes]:
        for value in self.values:
            yield value if isinstance(value, bytes) else value.encode()

    def lengths(self) -> npt.NDArray[np.int64]:
        # An ASCII str (most texts) is as long as its utf-8: no encoding to count it.
        return np.fromiter(
            (
                len(value) if isinstance(value, bytes) or value.isascii() else len(value.encode())
                for value in self.values
            ),
            np.int64,
            len(self.values),
        )

    def blocks(self) -> Iterator[bytearray]:
        return _blocks(self._encoded())

    def array(self) -> npt.NDArray[np.uint8]:
        return np.frombuffer(b"".join(self.blocks()), dtype=np.uint8).reshape(self.shape())


@dataclass(frozen=True, slots=True)
class ArrayRun:
    """A 1-d column of ``dtype`` made of arrays laid end to end (each word's posting)."""

    pieces: Sequence[npt.NDArray[Any]]
    dtype: np.dtype[Any]

    def shape(self) -> tuple[int, ...]:
        return (sum(len(piece) for piece in self.pieces),)

    def blocks(self) -> Iterator[bytearray]:
        return _blocks(piece.astype(self.dtype, copy=False).tobytes() for piece in self.pieces)

    def array(self) -> npt.NDArray[Any]:
        return np.concatenate([np.empty(0, self.dtype), *self.pieces]).astype(self.dtype)


@dataclass(frozen=True, slots=True)
class Streamed:
    """A 1-d column of ``dtype`` and ``size`` whose bytes ``parts()`` gives, in order."""

    dtype: np.dtype[Any]
    size: int
    parts: Callable[[], Iterable[bytes]]

    def shape(self) -> tuple[int, ...]:
        return (self.size,)

    def blocks(self) -> Iterator[bytearray]:
        return _blocks(self.parts())

    def array(self) -> npt.NDArray[Any]:
        return np.frombuffer(b"".join(self.blocks()), dtype=self.dtype)


Column = npt.NDArray[Any] | Callable[[], npt.NDArray[Any]] | ByteRun | ArrayRun | Streamed


class SavedColumns(Mapping[str, npt.NDArray[Any]]):
    """Columns by name; reading one builds it (again on every read: read each once)."""

    def __init__(self) -> None:
        self._columns: dict[str, Column] = {}

    def __setitem__(self, name: str, column: Column) -> None:
        self._columns[name] = column

    def __getitem__(self, name: str) -> npt.NDArray[Any]:
        column = self._columns[name]
        if isinstance(column, np.ndarray):
            return column
        if isinstance(column, ByteRun | ArrayRun | Streamed):
            return column.array()
        return column()

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def write_npz(self, handle: IO[bytes]) -> None:
        """The columns as ``np.savez(handle, **columns)`` writes them, one at a time."""
        with zipfile.ZipFile(
            handle, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True
        ) as archive:
            for name, column in self._columns.items():
                with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                    if isinstance(column, ByteRun | ArrayRun | Streamed):
                        header = {
                            "descr": npy_format.dtype_to_descr(column.dtype),
                            "fortran_order": False,
                            "shape": column.shape(),
                        }
                        npy_format.write_array_header_1_0(member, header)
                        for block in column.blocks():
                            member.write(block)
                    else:
                        npy_format.write_array(member, self[name], allow_pickle=False)
