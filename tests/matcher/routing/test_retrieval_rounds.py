"""Retrieval through the HNSW path in rounds (retrieval.searched_texts) against the rule it
replaces: every query searched deep, texts best first (best over the queries) until their
items cover the depth. Run on an exact index with the HNSW path's searches, so both sides
see the true top-k and any difference is the rounds' own."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pytest

from convene_matcher.citizens.store import CitizenStore
from convene_matcher.index.evidence_index import EvidenceIndex, IndexParams
from convene_matcher.routing.frame import TextScores, TextSimilarity
from convene_matcher.routing.retrieval import retrieve, searched_texts, text_similarities
from convene_matcher.routing.service import _similarity
from tests.matcher.routing.citizens import snapshot

DIM = 32
LABELS_PER_CITIZEN = 3


def unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def population(citizens: int) -> tuple[CitizenStore, np.ndarray]:
    """A store whose citizens hold distinct skill labels, some held twice; text ids in order."""
    store = CitizenStore()
    for n in range(citizens):
        labels = [f"skill {n * LABELS_PER_CITIZEN + i}" for i in range(LABELS_PER_CITIZEN)]
        if n % 7 == 0 and n:
            labels[0] = "skill 0"  # a text several citizens hold covers several items
        store.upsert(snapshot(skills=[(label, "can_do") for label in labels]))
    ids = np.sort(store.text_ids()).astype(np.int64)
    return store, ids


class Recorded:
    """The similarity's own searches, with what each round asked."""

    def __init__(self, similarity: TextSimilarity, first_k: tuple[int, ...]) -> None:
        self.rounds: list[tuple[list[int], list[bool]]] = []
        inner = similarity.search_queries

        def search_queries(ks: Sequence[int], deep: Sequence[bool]) -> list[TextScores]:
            self.rounds.append((list(ks), list(deep)))
            return inner(ks, deep)

        self.similarity = dataclasses.replace(
            similarity, all_text_scores=None, search_queries=search_queries, first_k=first_k
        )


def exact_retrieval(
    store: CitizenStore, index: EvidenceIndex, queries: np.ndarray, depth: int
) -> set[int]:
    ids, scores = index.exact_scores(queries)
    _, ordered = text_similarities(ids, scores.max(axis=0), store.next_text_id)
    # A set: FAISS's search and the exact products round differently in the last bit, which
    # may order near-equal texts differently (not which texts are taken, here).
    return set(retrieve(store, ordered, depth)[0])


def setting(seed: int, *, text_cluster: bool) -> tuple[CitizenStore, EvidenceIndex, np.ndarray]:
    """Texts 0-199 close to a label query; with ``text_cluster`` texts 200-399 closer still
    to the call text's query (so the text's results reach the cut), else the call text's
    query is far from every text (a label fills the cut alone)."""
    rng = np.random.default_rng(seed)
    store, ids = population(500)
    label_query = unit(rng.standard_normal((1, DIM)))[0]
    text_query = unit(rng.standard_normal((1, DIM)))[0]
    vectors = unit(rng.standard_normal((len(ids), DIM)))
    vectors[:200] = unit(label_query + 0.08 * rng.standard_normal((200, DIM)))
    if text_cluster:
        vectors[200:400] = unit(text_query + 0.04 * rng.standard_normal((200, DIM)))
    else:
        vectors[200:] = unit(vectors[200:] - 0.9 * text_query)  # far from the text's query
    index = EvidenceIndex.build(
        model_name="m", dimension=DIM, ids=ids, vectors=vectors,
        params=IndexParams(exact_max_items=100_000), seq=1,
    )  # fmt: skip
    return store, index, np.stack([text_query, label_query])


def test_a_label_that_fills_the_cut_leaves_the_call_text_unsearched_deep() -> None:
    store, index, queries = setting(1, text_cluster=False)
    recorded = Recorded(_similarity(index, queries), first_k=(8, 32))
    dense, chosen = searched_texts(store, recorded.similarity, 100)
    assert set(chosen) == exact_retrieval(store, index, queries, 100)
    # Only the label was searched again (deep, covering the depth); the text's first eight
    # results already scored below the cut.
    assert recorded.rounds == [([8, 32], [False, False]), ([0, 256], [False, True])]
    assert np.all(np.isnan(dense) | (dense > -np.inf))


def test_a_call_text_whose_results_reach_the_cut_is_searched_deep() -> None:
    store, index, queries = setting(2, text_cluster=True)
    recorded = Recorded(_similarity(index, queries), first_k=(8, 32))
    _, chosen = searched_texts(store, recorded.similarity, 300)
    assert set(chosen) == exact_retrieval(store, index, queries, 300)
    assert recorded.rounds[1][1][0], "the call text's query went deep"


def test_a_depth_beyond_every_item_takes_every_text() -> None:
    store, index, queries = setting(3, text_cluster=True)
    recorded = Recorded(_similarity(index, queries), first_k=(8, 32))
    _, chosen = searched_texts(store, recorded.similarity, 100_000)
    assert set(chosen) == exact_retrieval(store, index, queries, 100_000)
    assert set(chosen) == set(store.text_ids().tolist())
    assert all(k >= store.text_count for k in recorded.rounds[-1][0] if k)


@pytest.mark.parametrize("seed", range(8))
def test_rounds_retrieve_what_deep_searches_of_every_query_retrieve(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    store, index, _ = setting(seed, text_cluster=bool(seed % 2))
    queries = unit(rng.standard_normal((int(rng.integers(1, 5)), DIM)))
    first_k = tuple(int(k) for k in rng.integers(1, 64, size=len(queries)))
    for depth in (1, 17, 150, 600, 1600):
        recorded = Recorded(_similarity(index, queries), first_k=first_k)
        _, chosen = searched_texts(store, recorded.similarity, depth)
        assert set(chosen) == exact_retrieval(store, index, queries, depth), (depth, first_k)


def around(query: np.ndarray, cosines: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors at exactly these cosines to ``query`` (a unit vector)."""
    noise = rng.standard_normal((len(cosines), DIM))
    noise -= np.outer(noise @ query, query)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    return unit(np.outer(cosines, query) + noise * np.sqrt(1 - cosines**2)[:, None])


def test_a_query_whose_last_result_only_just_reaches_the_cut_is_searched_again() -> None:
    """Both queries' texts sit in one narrow band of similarity, where the cut falls: the
    call text's eighth result scores a hair above the first round's cut, and more of its
    texts lie above it."""
    rng = np.random.default_rng(21)
    store, ids = population(500)
    text_query, label_query = unit(rng.standard_normal((2, DIM)))
    vectors = unit(rng.standard_normal((len(ids), DIM)))
    vectors[:200] = around(label_query, rng.uniform(0.8995, 0.9005, 200), rng)
    vectors[200:400] = around(text_query, rng.uniform(0.8995, 0.9005, 200), rng)
    index = EvidenceIndex.build(
        model_name="m", dimension=DIM, ids=ids, vectors=vectors,
        params=IndexParams(exact_max_items=100_000), seq=1,
    )  # fmt: skip
    queries = np.stack([text_query, label_query])
    recorded = Recorded(_similarity(index, queries), first_k=(8, 256))
    dense, chosen = searched_texts(store, recorded.similarity, 150)
    cut = float(dense[chosen[-1]])
    assert 0.8995 <= cut <= 0.9005, "the cut falls inside the call text's band"
    assert set(chosen) == exact_retrieval(store, index, queries, 150)
    # The label's first 256 results cover the depth (a cut) and end far below it; the
    # text's eighth only just reaches it.
    assert recorded.rounds == [([8, 256], [False, False]), ([256, 0], [True, False])]
