"""The track-record term: a candidate's evidence items on the call's topic, ln-scaled."""

from __future__ import annotations

import math

import numpy as np
import pytest

from convene_matcher.routing.frame import CandidateFrame
from convene_matcher.routing.scores import TRACK_RECORD_REFERENCE, track_record
from convene_matcher.scoring import MatchingConfig


def frame(
    counts: list[int], raw: list[float], damping: list[float] | None = None
) -> CandidateFrame:
    n, rows = len(counts), sum(counts)
    return CandidateFrame(
        slots=np.arange(n, dtype=np.int64),
        counts=np.array(counts, dtype=np.int64),
        rows=np.arange(rows, dtype=np.int64),
        texts=np.arange(rows, dtype=np.int64),
        positions=np.zeros(rows, dtype=np.int64),
        holders={},
        is_holder=np.zeros(n, dtype=np.bool_),
        retrieved=n,
        role_holders=0,
        dense=np.array(raw, dtype=np.float32),
        raw=np.array(raw, dtype=np.float32),
        damping=np.array(damping or [1.0] * rows, dtype=np.float32),
    )


def test_counts_only_items_on_the_calls_topic_ln_scaled() -> None:
    config = MatchingConfig(track_record_weight=0.2, min_similarity=0.25)
    # Three on-topic items (one of them exactly at the cut-off), one, none, and no items.
    found = track_record(frame([4, 2, 1, 0], [0.6, 0.25, 0.4, 0.1, 0.5, 0.2, 0.1]), config)
    reference = math.log1p(TRACK_RECORD_REFERENCE)
    assert found == pytest.approx(
        [0.2 * math.log1p(3) / reference, 0.2 * math.log1p(1) / reference, 0.0, 0.0]
    )


def test_is_capped_at_the_weight_and_off_at_weight_zero() -> None:
    many = frame([TRACK_RECORD_REFERENCE * 2], [0.9] * (TRACK_RECORD_REFERENCE * 2))
    assert track_record(many, MatchingConfig(track_record_weight=0.3)) == pytest.approx([0.3])
    assert track_record(many, MatchingConfig(track_record_weight=0.0)).tolist() == [0.0]


def test_declined_evidence_does_not_count() -> None:
    """An item damped by "not my expertise" declines below the cut-off is not on topic."""
    config = MatchingConfig(track_record_weight=0.2, min_similarity=0.25)
    damped = track_record(frame([2], [0.3, 0.3], damping=[1.0, 0.7]), config)
    assert damped == pytest.approx([0.2 * math.log1p(1) / math.log1p(TRACK_RECORD_REFERENCE)])
