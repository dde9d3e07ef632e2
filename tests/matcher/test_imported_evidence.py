"""Imported records as evidence: passages, attributes and the weight formulas (pure)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convene_matcher.citizens.arrays import KIND_CODE
from convene_matcher.citizens.schemas import MatchSnapshot
from convene_matcher.evidence.items import (
    ANSWER_PASSAGES,
    EvidenceItem,
    drafts_from_snapshot,
    item_signal,
)
from convene_matcher.routing.explain import evidence_source
from convene_matcher.scoring import MatchingConfig, item_weight
from convene_matcher.scoring.relevance import record_weights

LONG = " ".join(f"Sentence number {n} is about bus lanes and loading bays." for n in range(40))


def snapshot() -> MatchSnapshot:
    return MatchSnapshot.model_validate(
        {
            "citizen_id": "c1",
            "past_responses": [
                {"id": "p1", "source": "Leeds", "question": "Q?", "text": "Buses first.",
                 "rating": 5}
            ],
            "answers": [
                {"id": "a1", "site": "bicycles.stackexchange.com", "title": "Chains?",
                 "text": LONG, "score": 12, "accepted": True},
            ],
        }
    )  # fmt: skip


def test_drafts_carry_source_and_signal() -> None:
    drafts = drafts_from_snapshot(snapshot())
    response = [d for d in drafts if d.kind == "past_response"]
    answers = [d for d in drafts if d.kind == "answer"]
    assert [d.text for d in response] == ["Buses first."]
    assert response[0].attributes == {"source": "Leeds", "rating": 5}
    assert len(answers) == ANSWER_PASSAGES
    assert answers[0].text.startswith("Chains? Sentence number 0")
    assert evidence_source("answer", answers[0].attributes) == (
        "answered on bicycles.stackexchange.com"
    )
    assert evidence_source("past_response", response[0].attributes) == (
        "response to a Leeds consultation"
    )
    assert evidence_source("skill", {}) is None


def _item(kind: str, **attributes: object) -> EvidenceItem:
    return EvidenceItem(1, "c1", kind, "s", "text", dict(attributes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (_item("past_response", rating=1), 0.5),
        (_item("past_response", rating=3), 1.0),
        (_item("past_response", rating=5), 1.5),
        (_item("past_response", rating=None), 1.0),
        (_item("answer", score=0, accepted=False), 0.8),
        (_item("answer", score=25, accepted=True), 1.2),
        (_item("answer", score=1000, accepted=False), 1.1),
        (_item("answer", score=-3, accepted=False), 0.4),
        (_item("skill", level="can_do"), 1.0),
    ],
)
def test_weight_formulas(item: EvidenceItem, expected: float) -> None:
    assert item_weight(item, MatchingConfig()) == pytest.approx(expected, abs=1e-6)


def test_vectorised_weights_equal_the_item_rule() -> None:
    config = MatchingConfig(answer_votes_saturation=10, past_response_rating_slope=0.8)
    items = [_item("answer", score=s, accepted=s % 2 == 0) for s in (-2, 0, 3, 9, 50)]
    items += [_item("past_response", rating=r) for r in (None, 1, 2, 4, 5)]
    kinds = np.array([KIND_CODE[i.kind] for i in items], dtype=np.int8)
    signals = np.array([item_signal(i) for i in items], dtype=np.float32)
    accepted = np.array([bool(i.attributes.get("accepted")) for i in items])
    vector = record_weights(
        kinds,
        signals,
        accepted,
        past_response_code=KIND_CODE["past_response"],
        answer_code=KIND_CODE["answer"],
        config=config,
    )
    expected = [item_weight(i, config) for i in items]
    assert vector.tolist() == pytest.approx(expected, abs=1e-6)
    assert math.isnan(item_signal(_item("skill")))
