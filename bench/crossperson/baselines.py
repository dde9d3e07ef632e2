"""The baselines, on the same split: BM25 over each person's concatenated earlier answers,
popularity (most prolific earlier answerer first) and plain MiniLM (max or mean cosine of
the call to a person's answer vectors, one vector per answer: title + answer, truncated by
the model at 256 word pieces)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from bench.crossperson.data import Evidence

_WORD = re.compile(r"[a-z0-9]+")
Vectors = npt.NDArray[np.float32]


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def answer_text(entry: Evidence) -> str:
    return f"{entry.title.rstrip('.')}. {entry.text}"


class BM25:
    """Okapi BM25 (k1 1.2, b 0.75, idf ln(1 + (N - df + 0.5) / (df + 0.5))), one document
    per person: all their earlier answers with their questions' titles."""

    def __init__(self, documents: Mapping[str, str], *, k1: float = 1.2, b: float = 0.75) -> None:
        self.people = list(documents)
        self.k1, self.b = k1, b
        self.frequencies = [Counter(tokens(documents[p])) for p in self.people]
        self.lengths = np.array([sum(f.values()) for f in self.frequencies], dtype=np.float64)
        self.average = float(self.lengths.mean()) if len(self.lengths) else 0.0
        document_frequency: Counter[str] = Counter()
        for frequency in self.frequencies:
            document_frequency.update(frequency.keys())
        n = len(self.people)
        self.idf = {
            term: math.log(1 + (n - df + 0.5) / (df + 0.5))
            for term, df in document_frequency.items()
        }

    def scores(self, query: str) -> npt.NDArray[np.float64]:
        out = np.zeros(len(self.people), dtype=np.float64)
        norm = self.k1 * (1 - self.b + self.b * self.lengths / max(self.average, 1e-9))
        for term in set(tokens(query)):
            idf = self.idf.get(term)
            if idf is None:
                continue
            tf = np.array([f.get(term, 0) for f in self.frequencies], dtype=np.float64)
            out += idf * tf * (self.k1 + 1) / (tf + norm)
        return out

    def rank(self, query: str) -> list[str]:
        return ranked(self.people, self.scores(query))


def ranked(people: Sequence[str], scores: npt.NDArray[np.float64]) -> list[str]:
    """People by descending score, ties by id (deterministic)."""
    order = sorted(range(len(people)), key=lambda i: (-float(scores[i]), people[i]))
    return [people[i] for i in order]


def popularity(evidence: Mapping[str, Sequence[Evidence]]) -> list[str]:
    """Most prolific earlier answerer first (the same ranking for every call)."""
    people = sorted(evidence)
    return ranked(people, np.array([len(evidence[p]) for p in people], dtype=np.float64))


class MiniLM:
    """Cosines of the call to every answer vector; a person's score is their max or mean."""

    def __init__(self, owners: Sequence[str], vectors: Vectors) -> None:
        self.people = sorted(set(owners))
        position = {p: i for i, p in enumerate(self.people)}
        self.owner = np.array([position[o] for o in owners], dtype=np.int64)
        self.vectors = vectors
        self.counts = np.bincount(self.owner, minlength=len(self.people)).astype(np.float64)

    def rank(self, query: Vectors, *, how: str) -> list[str]:
        cosines = (self.vectors @ query).astype(np.float64)
        if how == "max":
            scores = np.full(len(self.people), -np.inf)
            np.maximum.at(scores, self.owner, cosines)
        else:
            scores = np.bincount(self.owner, weights=cosines, minlength=len(self.people))
            scores = scores / np.maximum(self.counts, 1)
        return ranked(self.people, scores)
