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

import numpy as np
import numpy.typing as npt

Vectoriser = Callable[[str], Mapping[str, float]]
Int64s = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]


class _Posting:
    """One word's (text id, weight) pairs in growable arrays (capacity doubles), so a query
    reads views of them: rebuilding an array from a Python list for every query word whose
    posting had grown cost 54% of routing's samples at 250k texts (bench/scale.py, py-spy)."""

    __slots__ = ("ids", "length", "weights")

    def __init__(self) -> None:
        self.ids: Int64s = np.empty(4, dtype=np.int64)
        self.weights: FloatArray = np.empty(4, dtype=np.float32)
        self.length = 0

    def append(self, text_id: int, weight: float) -> None:
        if self.length == len(self.ids):
            self.ids = np.concatenate((self.ids, np.empty(len(self.ids), dtype=np.int64)))
            self.weights = np.concatenate(
                (self.weights, np.empty(len(self.weights), dtype=np.float32))
            )
        self.ids[self.length] = text_id
        self.weights[self.length] = weight
        self.length += 1


class TextPostings:
    def __init__(self, vectorise: Vectoriser) -> None:
        self._vectorise = vectorise
        self._known = np.zeros(0, dtype=np.bool_)
        self._postings: dict[str, _Posting] = {}
        self._lock = threading.Lock()

    def similarities(
        self, text_of: Callable[[int], str | None], text_ids: Int64s, query: str, size: int
    ) -> FloatArray:
        """By text id (0 elsewhere), the dot product of the given texts' vectors with the
        query's, clipped to [0, 1]."""
        with self._lock:
            if len(self._known) < size:
                grown = max(size, 2 * len(self._known))
                self._known = np.concatenate(
                    (self._known, np.zeros(grown - len(self._known), dtype=np.bool_))
                )
            for text_id in text_ids[~self._known[text_ids]].tolist():
                self._known[text_id] = True
                text = text_of(text_id)
                if text is None:
                    continue
                for word, weight in self._vectorise(text).items():
                    posting = self._postings.get(word)
                    if posting is None:
                        posting = self._postings[word] = _Posting()
                    posting.append(text_id, weight)
            # Every posted id is below len(self._known); ids beyond ``size`` (added by a caller
            # that saw more texts) are cut off at the end.
            dense = np.zeros(len(self._known), dtype=np.float64)
            for word, weight in self._vectorise(query).items():
                found = self._postings.get(word)
                if found is not None:
                    dense[found.ids[: found.length]] += weight * found.weights[: found.length]
        result: FloatArray = np.clip(dense[:size], 0.0, 1.0).astype(np.float32)
        return result
