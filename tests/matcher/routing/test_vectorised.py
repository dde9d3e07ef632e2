"""Routing's vectorised relevance is the shared scoring rule, for many citizens at once."""

from __future__ import annotations

import json

import numpy as np
import pytest

from convene_matcher.citizens.arrays import KIND_CODE
from convene_matcher.citizens.postings import TextPostings
from convene_matcher.citizens.saved_columns import ArrayRun
from convene_matcher.citizens.store import CitizenStore
from convene_matcher.evidence.items import LEVELS, EvidenceItem, EvidenceKind
from convene_matcher.invitations.feedback import evidence_factor
from convene_matcher.routing.filters import haversine_km, haversine_km_array
from convene_matcher.routing.relevance import (
    fill_lexical_postings,
    kind_weight_table,
    level_weight_table,
    lexical_by_text,
    mixed_relevance,
    top_k_mean,
)
from convene_matcher.scoring import (
    Hit,
    MatchingConfig,
    citizen_relevance,
    lexical_similarity,
    lexical_similarity_matrix,
)
from convene_matcher.scoring.lexical import lexical_vector
from tests.matcher.routing.citizens import snapshot


@pytest.mark.parametrize("top_k", [1, 3, 5])
def test_top_k_mean_equals_citizen_relevance(top_k: int) -> None:
    rng = np.random.default_rng(top_k)
    config = MatchingConfig(top_k=top_k, kind_weights={"badge": 1.5, "role": 0.5})
    # 0 to 60 items per citizen: empty, fewer than k, and more than the padded width.
    counts = np.array([0, 1, 2, 3, 7, 32, 33, 60, *rng.integers(0, 12, 200)], dtype=np.int64)
    total = int(counts.sum())
    raw = rng.uniform(-0.2, 0.9, total).astype(np.float32)
    level_codes = rng.integers(-1, len(LEVELS), total)
    kind_codes = np.where(level_codes >= 0, KIND_CODE["skill"], KIND_CODE["badge"])
    weighted = raw * level_weight_table(config)[level_codes] * kind_weight_table(config)[kind_codes]
    vectorised = top_k_mean(weighted, counts, top_k=top_k)
    start = 0
    for citizen, count in enumerate(counts.tolist()):
        hits = []
        for row in range(start, start + count):
            code = int(level_codes[row])
            kind: EvidenceKind = "skill" if code >= 0 else "badge"
            attributes = {"level": LEVELS[code]} if code >= 0 else {}
            item = EvidenceItem(row, "c", kind, str(row), "t", attributes)
            hits.append(Hit(item, float(raw[row])))
        start += count
        assert vectorised[citizen] == pytest.approx(
            citizen_relevance(hits, config=config), abs=1e-5
        ), citizen


def test_haversine_array_matches_the_scalar_rule() -> None:
    lats = np.array([53.4875, 53.5769, 51.5072, np.nan])
    lons = np.array([-2.2901, -2.4282, -0.1276, 0.0])
    found = haversine_km_array(53.4808, -2.2426, lats, lons)
    for i in range(3):
        assert found[i] == pytest.approx(haversine_km(53.4808, -2.2426, lats[i], lons[i]))
    assert np.isnan(found[3])


WORDS = ["cycling", "lanes", "planning", "housing", "flood", "nursing", "the", "bus", "data"]


@pytest.mark.parametrize("lexical_weight", [0.0, 0.3, 1.0])
def test_mixed_relevance_with_feedback_equals_citizen_relevance(lexical_weight: float) -> None:
    """Routing's vectorised rule (cosines + lexical similarity to the call text, weighted by
    level and by "not my expertise" damping) is citizen_relevance(query_text=...)."""
    rng = np.random.default_rng(7)
    config = MatchingConfig(lexical_weight=lexical_weight)
    query = "Planning protected cycling lanes and bus lanes for the city"
    counts = np.array([0, 1, 2, 5, 40, *rng.integers(0, 9, 100)], dtype=np.int64)
    total = int(counts.sum())
    texts = [" ".join(rng.choice(WORDS, size=int(rng.integers(1, 4)))) for _ in range(total)]
    raw = rng.uniform(-0.2, 0.9, total).astype(np.float32)
    level_codes = rng.integers(-1, len(LEVELS), total)
    factors = np.where(
        rng.random(total) < 0.2, [evidence_factor(int(d)) for d in rng.integers(1, 5, total)], 1
    ).astype(np.float32)
    lexical = lexical_similarity_matrix(texts, [query], idf_floor=config.lexical_idf_floor)[:, 0]
    weights = level_weight_table(config)[level_codes] * factors
    vectorised = mixed_relevance(raw, lexical, weights, counts, config=config)
    start = 0
    for citizen, count in enumerate(counts.tolist()):
        hits = []
        for row in range(start, start + count):
            code = int(level_codes[row])
            kind: EvidenceKind = "skill" if code >= 0 else "badge"
            attributes = {"level": LEVELS[code]} if code >= 0 else {}
            item = EvidenceItem(row, "c", kind, str(row), texts[row], attributes)
            hits.append(Hit(item, float(raw[row]), float(factors[row])))
        start += count
        expected = citizen_relevance(hits, config=config, query_text=query)
        assert vectorised[citizen] == pytest.approx(expected, abs=1e-5), citizen


def test_lexical_postings_equal_the_pairwise_rule() -> None:
    """Routing's per-text lexical similarities (an inverted list over the store's distinct
    texts, filled as texts appear) are scoring.lexical_similarity, text by text."""
    store = CitizenStore()
    rng = np.random.default_rng(3)
    config = MatchingConfig()
    queries = ["Planning protected cycling lanes", "Flood data for housing", "the and of"]
    for round_ in range(3):  # new texts arrive between calls
        for n in range(30):
            words = " ".join(rng.choice(WORDS, size=int(rng.integers(1, 5))))
            store.upsert(snapshot(skills=[(f"{words} {round_}{n}", "can_do")]))
        ids = np.array([text_id for text_id, _ in store.texts()], dtype=np.int64)
        for query in queries:
            found = lexical_by_text(store, ids, query, store.next_text_id, config=config)
            for text_id in ids.tolist():
                expected = lexical_similarity(
                    store.text(text_id) or "", query, idf_floor=config.lexical_idf_floor
                )
                assert found[text_id] == pytest.approx(expected, abs=1e-5)
            # Asked about some texts, it scores exactly those and leaves the others at 0.
            some = ids[::3]
            subset = lexical_by_text(store, some, query, store.next_text_id, config=config)
            np.testing.assert_allclose(subset[some], found[some], atol=1e-6)
            others = np.setdiff1d(ids, some)
            assert not subset[others].any()
            if round_ == 2 and query != "the and of":
                assert found[others].any()  # so the zeros above are not vacuous


def test_lexical_postings_survive_a_snapshot_and_keep_growing() -> None:
    """The postings filled after start-up (fill_lexical_postings) are saved with the store's
    columns and loaded with them: after a restart routing reads them without vectorising a
    text again, texts that arrive later are added, and every similarity is still the
    pairwise rule."""
    store = CitizenStore()
    rng = np.random.default_rng(5)
    config = MatchingConfig()
    for n in range(40):
        words = " ".join(rng.choice(WORDS, size=int(rng.integers(1, 5))))
        store.upsert(snapshot(skills=[(f"{words} {n}", "can_do")]))
    assert fill_lexical_postings(store, config=config, chunk=7) == store.text_count
    store.seq = 40
    meta, arrays = store.columns()
    assert meta["postings"][0]["key"] == ["lexical", float(config.lexical_idf_floor)]
    loaded = CitizenStore.from_columns(json.loads(json.dumps(meta)), arrays)

    vectorised: list[str] = []

    def counting(text: str) -> dict[str, float]:
        vectorised.append(text)
        return lexical_vector(text, idf_floor=float(config.lexical_idf_floor))

    floor = float(config.lexical_idf_floor)
    postings = loaded.postings(("lexical", floor), counting)
    ids = np.array([text_id for text_id, _ in loaded.texts()], dtype=np.int64)
    query = "Planning protected cycling lanes for flood housing"
    found = postings.similarities(loaded.text, ids, query, loaded.next_text_id)
    assert vectorised == [query]  # only the query: every text came with the snapshot
    for n in range(10):  # new texts after the restart
        loaded.upsert(snapshot(skills=[(f"flood housing lanes {n}", "can_do")]))
    ids = np.array([text_id for text_id, _ in loaded.texts()], dtype=np.int64)
    found = lexical_by_text(loaded, ids, query, loaded.next_text_id, config=config)
    for text_id in ids.tolist():
        expected = lexical_similarity(loaded.text(text_id) or "", query, idf_floor=floor)
        assert found[text_id] == pytest.approx(expected, abs=1e-5)
    assert len(vectorised) == 1 + 1 + 10  # queries twice, the ten new texts once each
    # Saved again, loaded postings (loaded part plus what was added since) round-trip whole.
    loaded.seq = 50
    meta, arrays = loaded.columns()
    reloaded = CitizenStore.from_columns(json.loads(json.dumps(meta)), arrays)
    again = lexical_by_text(reloaded, ids, query, reloaded.next_text_id, config=config)
    np.testing.assert_array_equal(again, found)


def test_words_most_texts_hold_are_dense_columns_with_the_same_similarities() -> None:
    """A word over DENSE_SHARE of the texts becomes a dense column (at load and after a fill):
    similarities are bit for bit those of postings that never turn dense, through fills,
    growth past capacity, a save and a load, and texts added after the load."""
    rng = np.random.default_rng(9)
    config = MatchingConfig()
    floor = float(config.lexical_idf_floor)

    def vectorise(text: str) -> dict[str, float]:
        return lexical_vector(text, idf_floor=floor)

    texts: dict[int, str] = {}

    def text_of(text_id: int) -> str | None:
        return texts.get(text_id)

    def add(count: int) -> np.ndarray:
        start = len(texts)
        for text_id in range(start, start + count):
            common = " ".join(w for w in ("with", "people", "council") if rng.random() < 0.8)
            rare = " ".join(rng.choice(WORDS, size=int(rng.integers(1, 5))))
            texts[text_id] = f"{common} {rare} {text_id}"
        return np.arange(start, start + count, dtype=np.int64)

    dense = TextPostings(vectorise)
    sparse = TextPostings(vectorise, dense_share=2.0)  # never dense
    queries = ["people with council housing", "flood lanes with cycling", "nothing matches"]

    def assert_same(a: TextPostings, b: TextPostings) -> None:
        for query in queries:
            given = rng.choice(len(texts), size=int(rng.integers(1, len(texts))), replace=False)
            np.testing.assert_array_equal(
                a.similarities(text_of, given, query, len(texts)),
                b.similarities(text_of, given, query, len(texts)),
            )

    first = add(300)
    for start in range(0, 300, 37):  # filled in chunks, as fill_lexical_postings does
        dense.fill(text_of, first[start : start + 37])
        sparse.fill(text_of, first[start : start + 37])
    assert {"with", "people", "council"} <= set(dense.dense_words)
    assert sparse.dense_words == []
    assert_same(dense, sparse)
    add(700)  # past the known texts' capacity: the dense columns grow with it
    assert_same(dense, sparse)
    words, arrays = dense.to_arrays()
    assert sorted(words) == sorted(sparse.to_arrays()[0])
    loaded = TextPostings.from_arrays(
        vectorise,
        words,
        {
            name: value.array() if isinstance(value, ArrayRun) else value
            for name, value in arrays.items()
        },
    )
    assert set(loaded.dense_words) == set(dense.dense_words)
    assert_same(loaded, sparse)
    add(200)  # after the load
    assert_same(loaded, sparse)
    for text_id in rng.choice(len(texts), size=50, replace=False).tolist():
        expected = lexical_similarity(texts[text_id], queries[0], idf_floor=floor)
        found = loaded.similarities(text_of, np.array([text_id]), queries[0], len(texts))
        assert found[text_id] == pytest.approx(expected, abs=1e-5)
