"""TextPostings: word vectors of the store's distinct texts, inverted (word -> text ids and
weights), filled as texts are first met; thread-safe. A query's similarity to every text is
then a walk over its own few words' postings. Text ids are never reused, so an entry never
goes stale (a dropped text's postings are never read: no candidate row names it).

Owned by the ``CitizenStore`` (one per vectoriser key, e.g. the lexical IDF floor), so the
cache lives and dies with the texts it indexes. The vectoriser is passed in: this module
knows nothing of how words are weighted (``scoring.lexical`` does)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from convene_matcher.citizens.saved_columns import ArrayRun

Vectoriser = Callable[[str], Mapping[str, float]]
Int64s = npt.NDArray[np.int64]
# Posting ids are text ids (a counter far below 2^31): int32 halves the largest column of the
# postings (about 49M entries at 100,000 citizens: 0.2 GB saved).
TextIds = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float32]


_NO_IDS: TextIds = np.empty(0, dtype=np.int32)
_NO_WEIGHTS: FloatArray = np.empty(0, dtype=np.float32)


class _Posting:
    """One word's (text id, weight) pairs: the part loaded from a snapshot (``base_*``: views
    of the loaded columns, never written), then what was added since in growable arrays
    (capacity doubles), so a query reads views of them: rebuilding an array from a Python
    list for every query word whose posting had grown cost 54% of routing's samples at 250k
    texts (bench/scale.py, py-spy). Appending into a copy of the loaded part instead would
    keep the loaded columns alive beside the copies: at 100,000 citizens the feed's first
    21,000 texts lifted the matcher's RSS by 268 MB and its peak by 605 MB that way."""

    __slots__ = ("base_ids", "base_weights", "ids", "length", "weights")

    def __init__(self, base_ids: TextIds = _NO_IDS, base_weights: FloatArray = _NO_WEIGHTS) -> None:
        self.base_ids, self.base_weights = base_ids, base_weights
        self.ids: TextIds = np.empty(4, dtype=np.int32)
        self.weights: FloatArray = np.empty(4, dtype=np.float32)
        self.length = 0

    def append(self, text_id: int, weight: float) -> None:
        if self.length == len(self.ids):
            self.ids = np.concatenate((self.ids, np.empty(len(self.ids), dtype=np.int32)))
            self.weights = np.concatenate(
                (self.weights, np.empty(len(self.weights), dtype=np.float32))
            )
        self.ids[self.length] = text_id
        self.weights[self.length] = weight
        self.length += 1

    @property
    def size(self) -> int:
        return len(self.base_ids) + self.length

    def parts(self) -> list[tuple[TextIds, FloatArray]]:
        """(ids, weights) views as they stand: a later append writes past them or into a
        grown copy, never into them."""
        found = [(self.ids[: self.length], self.weights[: self.length])] if self.length else []
        return [(self.base_ids, self.base_weights), *found] if len(self.base_ids) else found


class _DenseColumn:
    """A word that most texts hold: its weight by text id (0 where a text lacks it), in
    place of a posting. A query then reads the weights of its candidate texts (a gather of
    thousands) instead of walking a posting of most of the million texts to find them. At
    100,000 citizens "with", "on", "we" and "people" post 0.45-0.87M of 1.16M texts each, and
    the four words of over half the texts were 3.0M of the 4.6M entries a call's lexical
    side walked. A column over half the texts is smaller than the posting's (id, weight)
    pairs, but a loaded snapshot's postings stay in memory as one block, so after a load
    the columns come beside them: +18 MB at 100,000 citizens (four words of 1.16M texts)."""

    __slots__ = ("column", "size")

    def __init__(self, capacity: int, parts: list[tuple[TextIds, FloatArray]]) -> None:
        self.column: FloatArray = np.zeros(capacity, dtype=np.float32)
        self.size = 0
        for ids, weights in parts:
            self.column[ids] = weights
            self.size += len(ids)

    def grow(self, capacity: int) -> None:
        # A new array: a query's view of the old one stays valid (and stays as it was).
        self.column = np.concatenate(
            (self.column, np.zeros(capacity - len(self.column), dtype=np.float32))
        )

    def append(self, text_id: int, weight: float) -> None:
        self.column[text_id] = weight
        self.size += 1

    def parts(self) -> list[tuple[TextIds, FloatArray]]:
        """(ids, weights) of the texts that hold the word (vectorised weights are > 0)."""
        ids = np.flatnonzero(self.column).astype(np.int32)
        return [(ids, self.column[ids])]


class TextPostings:
    # A word whose posting lists more than this share of the vectorised texts is kept as a
    # dense column (_DenseColumn); checked at load and after each ``fill``.
    DENSE_SHARE = 0.5

    def __init__(self, vectorise: Vectoriser, *, dense_share: float | None = None) -> None:
        self._vectorise = vectorise
        self._known = np.zeros(0, dtype=np.bool_)
        self._known_count = 0
        self._postings: dict[str, _Posting | _DenseColumn] = {}
        self._dense_share = self.DENSE_SHARE if dense_share is None else dense_share
        self._lock = threading.Lock()

    def _grow(self, size: int) -> None:
        if len(self._known) < size:
            grown = max(size, 2 * len(self._known))
            self._known = np.concatenate(
                (self._known, np.zeros(grown - len(self._known), dtype=np.bool_))
            )
            for posting in self._postings.values():
                if isinstance(posting, _DenseColumn):
                    posting.grow(grown)

    def _densify(self) -> None:
        """Turns the postings of words most texts hold into dense columns."""
        floor = self._dense_share * self._known_count
        for word, posting in self._postings.items():
            if isinstance(posting, _Posting) and posting.size > floor:
                self._postings[word] = _DenseColumn(len(self._known), posting.parts())

    def _fill(self, text_of: Callable[[int], str | None], text_ids: Int64s) -> int:
        unknown = text_ids[~self._known[text_ids]].tolist()
        self._known_count += len(unknown)
        for text_id in unknown:
            self._known[text_id] = True
            text = text_of(text_id)
            if text is None:
                continue
            for word, weight in self._vectorise(text).items():
                posting = self._postings.get(word)
                if posting is None:
                    posting = self._postings[word] = _Posting()
                posting.append(text_id, weight)
        return len(unknown)

    @property
    def dense_words(self) -> list[str]:
        """Words kept as dense columns (most texts hold them)."""
        with self._lock:
            return [w for w, p in self._postings.items() if isinstance(p, _DenseColumn)]

    def knows(self, text_id: int) -> bool:
        """Whether this text has been vectorised into the postings."""
        with self._lock:
            return text_id < len(self._known) and bool(self._known[text_id])

    def fill(self, text_of: Callable[[int], str | None], text_ids: Int64s) -> int:
        """Vectorises the given texts not met yet (what a query would otherwise pay: about
        0.3 ms of CPU per text, so a fresh call over a million texts met thousands of them).
        Returns how many were vectorised."""
        if not len(text_ids):
            return 0
        with self._lock:
            self._grow(int(text_ids.max()) + 1)
            filled = self._fill(text_of, text_ids)
            self._densify()
            return filled

    def similarities(
        self, text_of: Callable[[int], str | None], text_ids: Int64s, query: str, size: int
    ) -> FloatArray:
        """By text id (``size`` of them), the dot product of the given texts' vectors with
        the query's, clipped to [0, 1]; 0 for every text not given."""
        wanted = np.zeros(size, dtype=np.bool_)
        wanted[text_ids] = True
        given = np.flatnonzero(wanted)
        result = np.zeros(size, dtype=np.float32)
        result[given] = self.scores_of(text_of, given, query)
        return result

    def scores_of(
        self, text_of: Callable[[int], str | None], given: Int64s, query: str
    ) -> FloatArray:
        """The dot product of each given text's vector with the query's, clipped to [0, 1],
        in the order of ``given`` (distinct text ids, ascending).

        Only the given texts (a call's candidates: thousands) are accumulated, in an array
        of their own: a common word's posting lists a tenth of a million texts, and adding
        all of them into an array by text id (a scattered read-modify-write each) was most
        of routing's lexical cost at 100,000 citizens; a gather through a mask of the given
        texts is one sequential pass. Arrays the size of every text id cost a call's lexical
        side 6 of its 7 ms (zeroing, clipping and converting 1.16M float64s)."""
        query_vector = self._vectorise(query)
        scores = np.zeros(len(given), dtype=np.float64)
        if not len(given):
            return scores.astype(np.float32)
        with self._lock:  # held for the fill only: routes compute side by side
            self._grow(int(given[-1]) + 1)
            self._fill(text_of, given)
            # Views of the query words' postings as they stand: a later append writes past
            # their length or into a grown copy, never into them. A dense column's later
            # appends write into it, but only at texts filled later, never at the given
            # texts (filled just above). Every posted id is below len(self._known).
            known = len(self._known)
            postings: list[tuple[float, TextIds | None, FloatArray]] = []
            for word, weight in query_vector.items():
                found = self._postings.get(word)
                if isinstance(found, _DenseColumn):
                    postings.append((weight, None, found.column[:known]))
                elif found is not None:
                    postings.extend((weight, ids, weights) for ids, weights in found.parts())
        wanted = np.zeros(known, dtype=np.bool_)
        wanted[given] = True
        # Each given text's place in ``scores``: only the given texts' entries are written,
        # and only they are read (through ``wanted``), so the rest is never initialised.
        place = np.empty(known, dtype=np.int32)
        place[given] = np.arange(len(given), dtype=np.int32)
        for weight, ids, weights in postings:
            if ids is None:
                # A dense column: the given texts' weights (0 where a text lacks the word:
                # adding 0.0 leaves a sum as it was, so the result equals the posting walk).
                scores += weight * weights[given]
                continue
            # The positions of the hits, then two small gathers: a boolean mask applied to
            # both long columns read each twice.
            hit = np.flatnonzero(np.take(wanted, ids))
            scores[place[ids[hit]]] += weight * weights[hit]
        result: FloatArray = np.clip(scores, 0.0, 1.0).astype(np.float32)
        return result

    # -- persistence (with the store's snapshot) ---------------------------------------
    def to_arrays(self) -> tuple[list[str], dict[str, npt.NDArray[Any] | ArrayRun]]:
        """(words, columns): each word's posting concatenated in word order, and which texts
        were vectorised. Vectorising a million texts again costs minutes of CPU.

        ``ids`` and ``weights`` (0.2 GB each at 100k citizens) are views of the postings,
        laid end to end only as they are written: a posting only ever grows past its length
        (into a new array when full), so what the views show never changes."""
        with self._lock:
            words = list(self._postings)
            postings = [self._postings[word] for word in words]
            lengths = np.fromiter((p.size for p in postings), np.int64, len(postings))
            parts = [part for p in postings for part in p.parts()]
            ids = [part_ids for part_ids, _ in parts]
            weights = [part_weights for _, part_weights in parts]
            known = self._known.copy()
        return words, {
            "lengths": lengths,
            "ids": ArrayRun(ids, np.dtype(np.int32)),
            "weights": ArrayRun(weights, np.dtype(np.float32)),
            "known": known,
        }

    @classmethod
    def from_arrays(
        cls, vectorise: Vectoriser, words: list[str], arrays: Mapping[str, npt.NDArray[Any]]
    ) -> TextPostings:
        postings = cls(vectorise)
        postings._known = np.array(arrays["known"], dtype=np.bool_)
        ids = np.asarray(arrays["ids"], dtype=np.int32)  # snapshots before int32 held int64
        weights = np.asarray(arrays["weights"], dtype=np.float32)
        start = 0
        for word, length in zip(words, arrays["lengths"].tolist(), strict=True):
            postings._postings[word] = _Posting(  # views of the loaded columns
                ids[start : start + length], weights[start : start + length]
            )
            start += length
        postings._known_count = int(np.count_nonzero(postings._known))
        postings._densify()
        return postings
