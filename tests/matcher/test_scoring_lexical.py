"""The lexical part of relevance: general-English IDF, pairwise, stateless."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convene_matcher.evidence.items import EvidenceItem
from convene_matcher.scoring import (
    Hit,
    MatchingConfig,
    citizen_relevance,
    lexical_similarity,
    lexical_similarity_matrix,
    relevance_matrix,
)
from convene_matcher.scoring.lexical import idf, lexical_vector, stem, tokens

FLOOR = MatchingConfig().lexical_idf_floor


def test_idf_orders_common_below_rare_words() -> None:
    assert idf("the") < idf("street") < idf("cycling") < idf("bioswale")
    # Unknown words count as the rarest: as informative as a word can be.
    assert idf("qzxvbnmlk") == pytest.approx(-math.log(1e-8))


def test_the_floor_silences_the_most_common_words() -> None:
    vector = lexical_vector("The safety of the cycle lanes and of the junctions", idf_floor=FLOOR)
    assert "the" not in vector
    assert "of" not in vector
    assert {"safety", "cycle", "lane", "junction"} <= set(vector)
    assert vector["junction"] > vector["safety"]  # rarer word, more weight
    assert sum(value * value for value in vector.values()) == pytest.approx(1.0)


def test_stemming_is_plural_only_and_yields_words() -> None:
    assert [stem(w) for w in ["lanes", "studies", "buses", "bus", "glass", "cycling"]] == [
        "lane",
        "study",
        "buse",
        "bus",
        "glass",
        "cycling",
    ]
    assert tokens("Cycle-lanes, 2024: a B-road!") == ["cycle", "lane", "road"]


def test_similarity_is_deterministic_symmetric_and_bounded() -> None:
    a = "Protected bicycle lanes and junction safety"
    b = "Where to build bicycle lanes in the city"
    first = lexical_similarity(a, b, idf_floor=FLOOR)
    assert first == lexical_similarity(a, b, idf_floor=FLOOR)
    assert first == pytest.approx(lexical_similarity(b, a, idf_floor=FLOOR))
    assert 0 < first < 1
    assert lexical_similarity(a, a, idf_floor=FLOOR) == pytest.approx(1.0)
    assert lexical_similarity(a, "Corporate taxation reform", idf_floor=FLOOR) == 0.0


def test_empty_and_weightless_texts_score_zero_everywhere() -> None:
    for text in ["", "   ", "2024 12 7", "the of and", "!!"]:
        assert lexical_vector(text, idf_floor=FLOOR) == {}
        assert lexical_similarity(text, "bicycle lanes", idf_floor=FLOOR) == 0.0
    matrix = lexical_similarity_matrix(["", "the"], ["", "bicycle"], idf_floor=FLOOR)
    assert matrix.shape == (2, 2)
    assert np.all(matrix == 0)
    assert lexical_similarity_matrix([], ["bicycle"], idf_floor=FLOOR).shape == (0, 1)


def test_short_skill_labels_meet_the_call_that_names_them() -> None:
    call = "Safer cycling routes to schools: we want to hear from parents and cyclists"
    relevant = lexical_similarity("Cycling", call, idf_floor=FLOOR)
    unrelated = lexical_similarity("Tax law", call, idf_floor=FLOOR)
    assert relevant > 0.2
    assert unrelated == 0.0


def test_matrix_matches_the_pairwise_similarity() -> None:
    items = ["Bus priority at junctions", "Cycle lanes", ""]
    queries = ["Junction design for buses", "Lanes for cycles and buses"]
    matrix = lexical_similarity_matrix(items, queries, idf_floor=FLOOR)
    for i, item in enumerate(items):
        for q, query in enumerate(queries):
            assert matrix[i, q] == pytest.approx(
                lexical_similarity(item, query, idf_floor=FLOOR), abs=1e-6
            )


def test_a_score_depends_on_its_pair_only() -> None:
    """Stateless: adding other texts to the request changes no pair's similarity."""
    alone = lexical_similarity_matrix(["Cycle lanes"], ["Lanes for cycles"], idf_floor=FLOOR)
    crowded = lexical_similarity_matrix(
        ["Cycle lanes", "cycle cycle cycle"],
        ["Lanes for cycles", "Tax", "cycle lanes everywhere"],
        idf_floor=FLOOR,
    )
    assert crowded[0, 0] == pytest.approx(alone[0, 0])


def _item(i: int, text: str) -> EvidenceItem:
    return EvidenceItem(i, "c1", "experience", f"s{i}", text, {})


def test_relevance_mixes_lexical_in_and_routing_agrees() -> None:
    config = MatchingConfig(lexical_weight=0.3)
    texts = ["Cycle lane design", "Junction safety audits", "Tax law"]
    query = "Designing safe cycle lanes at junctions"
    rng = np.random.default_rng(0)
    items = rng.normal(size=(3, 8)).astype(np.float32)
    items /= np.linalg.norm(items, axis=1, keepdims=True)
    queries = rng.normal(size=(1, 8)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    mixed = relevance_matrix(items, queries, config=config, item_texts=texts, query_texts=[query])
    dense_only = relevance_matrix(items, queries, config=config)
    dense_config = relevance_matrix(
        items,
        queries,
        config=MatchingConfig(lexical_weight=0.0),
        item_texts=texts,
        query_texts=[query],
    )
    assert dense_only[0] == pytest.approx(dense_config[0])
    lexical = lexical_similarity_matrix(texts, [query], idf_floor=config.lexical_idf_floor)
    expected = 0.7 * dense_only[0] + 0.3 * float(np.sort(lexical[:, 0])[-3:].mean())
    assert mixed[0] == pytest.approx(expected, abs=1e-6)
    hits = [Hit(_item(i, text), float(items[i] @ queries[0])) for i, text in enumerate(texts)]
    assert citizen_relevance(hits, config=config, query_text=query) == pytest.approx(
        float(mixed[0]), abs=1e-5
    )
    # Without the call's text, routing keeps the cosine-only rule (backwards compatible).
    assert citizen_relevance(hits, config=config) == pytest.approx(float(dense_only[0]), abs=1e-5)
    assert citizen_relevance([], config=config, query_text=query) == 0.0


def test_lexical_weight_is_bounded() -> None:
    with pytest.raises(ValueError, match="lexical_weight"):
        MatchingConfig(lexical_weight=1.5)
