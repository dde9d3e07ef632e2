from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from convene_matcher.embedding.embedder import SentenceModel
from convene_matcher.index.evidence_index import EvidenceIndex, IndexMismatchError, IndexParams

DIM = 32


def unit(rows: int, *, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


# "hnsw" stores float16 (the default), "hnsw-fp32" float32.
KINDS = ["exact", "hnsw", "hnsw-fp32"]


def make(kind: str, ids: np.ndarray, vectors: np.ndarray, **params: Any) -> EvidenceIndex:
    exact_max = 10_000 if kind == "exact" else 0
    if kind == "hnsw-fp32":
        params["hnsw_storage"] = "fp32"
    return EvidenceIndex.build(
        model_name="m",
        dimension=DIM,
        ids=ids,
        vectors=vectors,
        params=IndexParams(exact_max_items=exact_max, **params),
        seq=7,
    )


def tolerance(kind: str) -> float:
    """How far a stored vector's inner product may be from float32's: float16 rounds each
    component to 11 bits (measured here: under 5e-4 for unit vectors)."""
    return 1e-3 if kind == "hnsw" else 1e-5


@pytest.mark.parametrize("kind", KINDS)
def test_add_search_remove(kind: str) -> None:
    vectors = unit(200, seed=1)
    ids = np.arange(1000, 1200, dtype=np.int64)
    index = make(kind, ids, vectors)
    assert index.kind == kind.removesuffix("-fp32")
    assert index.storage == ("fp16" if kind == "hnsw" else "fp32")
    assert index.count == 200
    scores, found = index.search(vectors[:5], 3)
    assert found[:, 0].tolist() == ids[:5].tolist()  # each vector finds itself first
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=tolerance(kind))
    assert index.remove(ids[:5]) == 5
    assert index.remove(np.array([999_999], dtype=np.int64)) == 0
    assert index.count == 195
    _, found = index.search(vectors[:5], 10)
    assert not set(found.ravel().tolist()) & set(ids[:5].tolist())
    live_ids, live_vectors = index.live_vectors()
    assert sorted(live_ids.tolist()) == ids[5:].tolist()
    assert live_vectors.shape == (195, DIM)
    assert live_vectors.dtype == np.float32
    by_id = dict(zip(live_ids.tolist(), live_vectors, strict=True))
    np.testing.assert_allclose(
        np.stack([by_id[i] for i in ids[5:].tolist()]), vectors[5:], atol=tolerance(kind)
    )


@pytest.mark.parametrize("kind", KINDS)
def test_exact_scores_of_some_ids_follow_adds_and_removals(kind: str) -> None:
    """exact_scores(queries, ids) keeps its id lookup between calls (no sort of every stored
    id per call) and renews it after each mutation: new ids are found, removed exact ones
    are not, and every score is the inner product."""
    vectors = unit(120, seed=4)
    ids = np.arange(500, 600, dtype=np.int64)[::-1].copy()  # storage order is not id order
    index = make(kind, ids, vectors[:100])
    queries = unit(2, seed=5)
    wanted = np.array([599, 550, 42], dtype=np.int64)
    found, scores = index.exact_scores(queries, wanted)
    assert found.tolist() == [599, 550]
    np.testing.assert_allclose(scores, queries @ vectors[[0, 49]].T, atol=tolerance(kind))
    index.add(np.arange(10, 30, dtype=np.int64), vectors[100:], model="m")
    found, scores = index.exact_scores(queries, np.array([12, 599], dtype=np.int64))
    assert found.tolist() == [12, 599]
    np.testing.assert_allclose(scores, queries @ vectors[[102, 0]].T, atol=tolerance(kind))
    if kind == "exact":
        index.remove(np.array([599], dtype=np.int64))
        found, scores = index.exact_scores(queries, np.array([599, 550], dtype=np.int64))
        assert found.tolist() == [550]
        np.testing.assert_allclose(scores, queries @ vectors[[49]].T, atol=1e-5)


@pytest.mark.parametrize("kind", ["hnsw", "hnsw-fp32"])
def test_hnsw_removal_erases_the_stored_vector(kind: str) -> None:
    vectors = unit(50, seed=2)
    ids = np.arange(50, dtype=np.int64)
    index = make(kind, ids, vectors)
    index.remove(ids[:3])
    stored = index._storage()
    assert not stored[:3].any()  # zeroed, not only hidden
    np.testing.assert_allclose(stored[3:].astype(np.float32), vectors[3:], atol=tolerance(kind))
    assert index.tombstones == 3


def test_hnsw_tombstones_trigger_a_rebuild_that_drops_them() -> None:
    vectors = unit(100, seed=3)
    ids = np.arange(100, dtype=np.int64)
    index = make("hnsw", ids, vectors, rebuild_tombstone_ratio=0.1)
    index.params = IndexParams(exact_max_items=50, rebuild_tombstone_ratio=0.1)
    assert not index.needs_rebuild
    index.remove(ids[:20])
    assert index.needs_rebuild
    fresh = index.rebuilt()
    assert fresh.kind == "hnsw"
    assert fresh.tombstones == 0
    assert fresh.count == 80
    assert fresh.seq == index.seq


def test_exact_index_grown_past_threshold_needs_rebuild_to_hnsw() -> None:
    vectors = unit(30, seed=4)
    index = EvidenceIndex(model_name="m", dimension=DIM, params=IndexParams(exact_max_items=20))
    index.add(np.arange(30, dtype=np.int64), vectors, model="m")
    assert index.needs_rebuild
    assert index.rebuilt().kind == "hnsw"


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_round_trip_keeps_seq_ids_and_tombstones(kind: str, tmp_path: Path) -> None:
    vectors = unit(120, seed=5)
    ids = np.arange(10, 130, dtype=np.int64)
    index = make(kind, ids, vectors)
    index.remove(ids[:4])
    index.seq = 42
    index.save(tmp_path)
    # Loaded under the shipped parameters: a snapshot keeps the storage it was built with.
    loaded = EvidenceIndex.load(tmp_path, model_name="m", dimension=DIM)
    assert (loaded.kind, loaded.seq, loaded.count) == (kind.removesuffix("-fp32"), 42, 116)
    assert loaded.storage == index.storage
    original = index.search(vectors[4:20], 5)
    again = loaded.search(vectors[4:20], 5)
    np.testing.assert_array_equal(original[1], again[1])
    _, found = loaded.search(vectors[:4], 10)
    assert not set(found.ravel().tolist()) & set(ids[:4].tolist())
    assert not list(tmp_path.glob(".*tmp*"))  # temp files were renamed into place


def test_load_refuses_another_model_or_dimension(tmp_path: Path) -> None:
    index = make("exact", np.arange(3, dtype=np.int64), unit(3, seed=6))
    index.save(tmp_path)
    with pytest.raises(IndexMismatchError):
        EvidenceIndex.load(tmp_path, model_name="other-model", dimension=DIM)
    with pytest.raises(IndexMismatchError):
        EvidenceIndex.load(tmp_path, model_name="m", dimension=DIM * 2)


def test_hnsw_recall_against_exact_search() -> None:
    """Recall@10 of HNSW at the default settings, on random unit vectors (a hard case)."""
    corpus = unit(5_000, seed=7)
    queries = unit(50, seed=8)
    ids = np.arange(5_000, dtype=np.int64)
    exact = make("exact", ids, corpus)
    params = IndexParams()
    hnsw = make(
        "hnsw",
        ids,
        corpus,
        hnsw_m=params.hnsw_m,
        hnsw_ef_search=params.hnsw_ef_search,
        hnsw_ef_construction=params.hnsw_ef_construction,
    )
    _, truth = exact.search(queries, 10)
    _, approx = hnsw.search(queries, 10)
    recall = np.mean([len(set(t) & set(a)) / 10 for t, a in zip(truth, approx, strict=True)])
    assert recall >= 0.95


def test_search_on_empty_index_returns_no_hits() -> None:
    index = EvidenceIndex(model_name="m", dimension=DIM)
    scores, found = index.search(unit(2, seed=9), 5)
    assert (found == -1).all()
    assert np.isneginf(scores).all()


def test_wrong_dimension_is_rejected() -> None:
    index = EvidenceIndex(model_name="m", dimension=DIM)
    with pytest.raises(ValueError, match="shape"):
        index.add(np.arange(2, dtype=np.int64), np.zeros((2, DIM + 1), dtype=np.float32), model="m")


def test_vectors_of_another_model_version_are_refused() -> None:
    index = EvidenceIndex(model_name="m@1/fp32|whole", dimension=DIM)
    with pytest.raises(IndexMismatchError, match="refused"):
        index.add(np.arange(2, dtype=np.int64), unit(2, seed=1), model="m@2/fp32|whole")
    assert index.count == 0
    index.add(np.arange(2, dtype=np.int64), unit(2, seed=1), model="m@1/fp32|whole")
    assert index.count == 2


def test_shipped_hnsw_settings_reach_recall_at_100_on_realistic_vectors(
    sentence_model: SentenceModel,
) -> None:
    """recall@100 >= 0.98 against exact search at the shipped HNSW settings, on the product's
    kind of vectors: realistic evidence texts (bench/realistic) embedded by the real model,
    grown to 20,000 with perturbed copies of them, searched by real call embeddings."""
    from bench.realistic.generator import generate_citizens
    from bench.realistic.vectors import Perturber, call_queries, distinct_items

    def embed(texts: list[str]) -> np.ndarray:
        vectors = sentence_model.encode(texts, batch_size=32, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)

    sample = distinct_items(list(generate_citizens(count=25, seed=21)))
    real = embed([text for _, _, text in sample])
    groups: dict[tuple[str, str], list[int]] = {}
    for row, (kind, domain, _) in enumerate(sample):
        groups.setdefault((kind, domain), []).append(row)
    perturber = Perturber({key: real[rows] for key, rows in groups.items()})
    others = distinct_items(list(generate_citizens(count=1_700, seed=21, start=25)))
    corpus = np.concatenate([real, perturber.vectors(others)])[:20_000]
    queries = embed(call_queries(21, 40))
    ids = np.arange(len(corpus), dtype=np.int64)
    truth = np.argsort(-(queries @ corpus.T), axis=1)[:, :100]
    shipped = IndexParams()
    hnsw = EvidenceIndex.build(
        model_name="m",
        dimension=corpus.shape[1],
        ids=ids,
        vectors=corpus,
        params=IndexParams(
            exact_max_items=0,
            hnsw_m=shipped.hnsw_m,
            hnsw_ef_search=shipped.hnsw_ef_search,
            hnsw_ef_construction=shipped.hnsw_ef_construction,
        ),
    )
    assert hnsw.kind == "hnsw"
    approx = hnsw.search(queries, 100)[1]
    recall = np.mean([len(set(t) & set(a)) / 100 for t, a in zip(truth, approx, strict=True)])
    assert recall >= 0.98


@pytest.mark.parametrize("kind", KINDS)
def test_per_query_ef_search_equals_one_search_per_query(kind: str) -> None:
    """Queries of different efSearch are searched as groups (concurrently); each row is what
    a search of that query alone, at its efSearch, gives, tombstones filtered."""
    vectors = unit(3000, seed=11)
    ids = np.arange(3000, dtype=np.int64) * 3
    index = make(kind, ids, vectors, hnsw_ef_search=64)
    index.remove(ids[:10])
    queries = unit(5, seed=12)
    efs = [64, 16, 40, 16, 64]
    scores, found = index.search(queries, 12, ef_search=efs)
    for row, ef in enumerate(efs):
        alone = make(kind, ids, vectors, hnsw_ef_search=ef)
        alone.remove(ids[:10])
        one_scores, one_found = alone.search(queries[row : row + 1], 12)
        assert found[row].tolist() == one_found[0].tolist()
        np.testing.assert_array_equal(scores[row], one_scores[0])
    assert not set(found.ravel().tolist()) & set(ids[:10].tolist())
    with pytest.raises(ValueError, match="one efSearch per query"):
        index.search(queries, 3, ef_search=[64])


@pytest.mark.parametrize("kind", KINDS)
def test_per_query_k_equals_one_search_per_query(kind: str) -> None:
    """Each query's own k (rows as wide as the largest, padded with -1 and -inf) gives what
    a search of that query alone, with that k and efSearch, gives."""
    vectors = unit(3000, seed=13)
    ids = np.arange(3000, dtype=np.int64) * 2
    index = make(kind, ids, vectors, hnsw_ef_search=64)
    queries = unit(4, seed=14)
    ks, efs = [5, 40, 1, 12], [64, 40, 16, 16]
    scores, found = index.search(queries, ks, ef_search=efs)
    assert found.shape == scores.shape == (4, 40)
    for row, (k, ef) in enumerate(zip(ks, efs, strict=True)):
        one_scores, one_found = index.search(queries[row : row + 1], k, ef_search=[ef])
        assert found[row, :k].tolist() == one_found[0].tolist()
        np.testing.assert_array_equal(scores[row, :k], one_scores[0])
        assert (found[row, k:] == -1).all()
        assert np.isneginf(scores[row, k:]).all()
    with pytest.raises(ValueError, match="one k per query"):
        index.search(queries, [3, 3])


def test_searches_and_exact_scores_run_while_vectors_are_added() -> None:
    """Reads share the index lock (routes run concurrently); adds and removals take it
    alone: every read sees a consistent index, whatever the interleaving."""
    import threading

    vectors = unit(4000, seed=13)
    ids = np.arange(4000, dtype=np.int64)
    index = make("hnsw", ids[:1000], vectors[:1000], hnsw_ef_search=32)
    queries = unit(3, seed=14)
    failures: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(30):
                _, found = index.search(queries, 10, ef_search=[32, 16, 16])
                assert (found >= 0).all()
                got, scores = index.exact_scores(queries, found.ravel())
                assert set(got.tolist()) == set(found.ravel().tolist())
                assert scores.shape == (3, len(got))
        except BaseException as exc:
            failures.append(exc)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    for start in range(1000, 4000, 500):
        index.add(ids[start : start + 500], vectors[start : start + 500], model="m")
        index.remove(ids[start - 100 : start - 90])
    for thread in readers:
        thread.join(timeout=60)
    assert not failures, failures
    assert index.count == 4000 - 60


@pytest.mark.parametrize("kind", KINDS)
def test_a_loaded_index_takes_new_vectors_without_copying_its_storage(
    kind: str, tmp_path: Path
) -> None:
    """A loaded index reserves room to grow at load time: the feed's first additions write
    into the same buffer (a copy of a million stored vectors would lift the peak memory by
    their size), and searches see them."""
    vectors = unit(600, seed=21)
    ids = np.arange(600, dtype=np.int64)
    make(kind, ids[:500], vectors[:500]).save(tmp_path)
    loaded = EvidenceIndex.load(
        tmp_path,
        model_name="m",
        dimension=DIM,
        params=IndexParams(
            exact_max_items=10_000 if kind == "exact" else 0,
            hnsw_storage="fp32" if kind == "hnsw-fp32" else "fp16",
        ),
    )

    def address() -> int:
        with loaded._lock.read():
            return int(loaded._storage().__array_interface__["data"][0])

    before = address()
    for start in range(500, 600, 25):
        loaded.add(ids[start : start + 25], vectors[start : start + 25], model="m")
    assert address() == before
    _, found = loaded.search(vectors[590:592], 1)
    assert found[:, 0].tolist() == [590, 591]
