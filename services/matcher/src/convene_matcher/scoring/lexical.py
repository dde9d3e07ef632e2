"""Lexical similarity with general-English IDF: stateless, pairwise, deterministic.

A text becomes a unit vector of ``(1 + ln count) x idf`` over its word stems, where
``idf(stem) = max(0, -ln frequency(stem) - idf_floor)`` and ``frequency`` is the word's
frequency in general English from the ``wordfreq`` tables shipped with the package (no
network, no corpus of ours: nothing is learnt from the requests or any benchmark). Words
unknown to the tables (technical terms, names) get the rarest frequency, ``1e-8``.
Subtracting ``idf_floor`` makes the most common words ("the", "of", "and") weigh nothing,
so no stop-word list is needed; it is MatchingConfig.lexical_idf_floor.

The similarity of two texts is the cosine of their vectors: it depends on those two texts
only (not on the other texts of a request), so it means the same in /v1/affinity and in
routing. A text without any weighted word (empty, digits only, only common words) has the
zero vector and similarity 0 with everything.

Stemming is a light "S-stemmer" (Harman 1991: plural endings only), so "lanes" meets
"lane" and "studies" meets "study" while the stem stays a real word to look up.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from wordfreq import word_frequency

FloatArray = npt.NDArray[np.float32]
LexicalVector = Mapping[str, float]

MIN_FREQUENCY = 1e-8  # wordfreq's floor: unknown words count as this rare
_WORD = re.compile(r"[^\W\d_]{2,}")  # runs of 2+ letters: digits and 1-letter words dropped


def stem(word: str) -> str:
    """Harman's S-stemmer: -ies -> -y, -es -> -e, -s -> '' with its exceptions."""
    if len(word) > 3 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


def tokens(text: str) -> list[str]:
    """Lower-cased, NFKC-normalised, stemmed words of at least two letters."""
    return [stem(word) for word in _WORD.findall(unicodedata.normalize("NFKC", text).lower())]


@lru_cache(maxsize=200_000)
def idf(word: str) -> float:
    """``-ln`` of the word's general-English frequency (no floor applied); deterministic."""
    return -math.log(word_frequency(word, "en", minimum=MIN_FREQUENCY))


@lru_cache(maxsize=8_192)  # vectors of long texts: bounded memory
def _vector(text: str, idf_floor: float) -> tuple[tuple[str, float], ...]:
    weights: dict[str, float] = {}
    for word, count in Counter(tokens(text)).items():
        weight = (1.0 + math.log(count)) * max(0.0, idf(word) - idf_floor)
        if weight > 0:
            weights[word] = weight
    norm = math.sqrt(sum(value * value for value in weights.values()))
    return tuple(sorted((word, value / norm) for word, value in weights.items()))


def lexical_vector(text: str, *, idf_floor: float) -> dict[str, float]:
    """The unit tf-idf vector of ``text`` (empty when no word carries weight)."""
    return dict(_vector(text, float(idf_floor)))


def lexical_similarity(a: str, b: str, *, idf_floor: float) -> float:
    """Cosine of the two texts' vectors, in [0, 1]."""
    va, vb = lexical_vector(a, idf_floor=idf_floor), lexical_vector(b, idf_floor=idf_floor)
    if len(vb) < len(va):
        va, vb = vb, va
    return float(min(1.0, sum(value * vb.get(word, 0.0) for word, value in va.items())))


def lexical_similarity_matrix(
    item_texts: Sequence[str], query_texts: Sequence[str], *, idf_floor: float
) -> FloatArray:
    """(n_items, n_queries) cosines; the same numbers as ``lexical_similarity`` per pair."""
    vectors = [lexical_vector(text, idf_floor=idf_floor) for text in [*item_texts, *query_texts]]
    vocabulary: dict[str, int] = {}
    for vector in vectors:
        for word in vector:
            vocabulary.setdefault(word, len(vocabulary))
    dense = np.zeros((len(vectors), max(1, len(vocabulary))), dtype=np.float64)
    for row, vector in enumerate(vectors):
        for word, value in vector.items():
            dense[row, vocabulary[word]] = value
    items, queries = dense[: len(item_texts)], dense[len(item_texts) :]
    return np.clip(items @ queries.T, 0.0, 1.0).astype(np.float32)
