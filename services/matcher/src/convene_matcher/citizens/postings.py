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


class TextPostings:
    def __init__(self, vectorise: Vectoriser) -> None:
        self._vectorise = vectorise
        self._known = np.zeros(0, dtype=np.bool_)
        self._postings: dict[str, tuple[list[int], list[float]]] = {}
        self._arrays: dict[str, tuple[Int64s, FloatArray]] = {}
        self._lock = threading.Lock()

    def similarities(
        self, text_of: Callable[[int], str | None], text_ids: Int64s, query: str, size: int
    ) -> FloatArray:
        """By text id (0 elsewhere), the dot product of the given texts' vectors with the
        query's, clipped to [0, 1]."""
        with self._lock:
            if len(self._known) < size:
                self._known = np.concatenate(
                    (self._known, np.zeros(size - len(self._known), dtype=np.bool_))
                )
            for text_id in text_ids[~self._known[text_ids]].tolist():
                self._known[text_id] = True
                text = text_of(text_id)
                if text is None:
                    continue
                for word, weight in self._vectorise(text).items():
                    ids, weights = self._postings.setdefault(word, ([], []))
                    ids.append(text_id)
                    weights.append(weight)
                    self._arrays.pop(word, None)
            dense = np.zeros(size, dtype=np.float64)
            for word, weight in self._vectorise(query).items():
                posting = self._arrays.get(word)
                if posting is None:
                    found = self._postings.get(word)
                    if found is None:
                        continue
                    posting = (
                        np.asarray(found[0], dtype=np.int64),
                        np.asarray(found[1], dtype=np.float32),
                    )
                    self._arrays[word] = posting
                dense[posting[0]] += weight * posting[1]
        result: FloatArray = np.clip(dense, 0.0, 1.0).astype(np.float32)
        return result
