"""Evaluation metric definitions and configuration validation (pure functions)."""

from __future__ import annotations

import math

import pytest

from convene_matcher.configs.errors import ConfigValidationError
from convene_matcher.configs.service import load_settings, validate_settings
from convene_matcher.evaluation import metrics
from convene_matcher.scoring import MatchingConfig


def test_ndcg_at_10() -> None:
    assert metrics.ndcg_at_k(["a", "b"], set()) is None
    assert metrics.ndcg_at_k(["a", "b", "c"], {"a", "b"}) == pytest.approx(1.0)
    # One relevant at rank 2 of one relevant: 1/log2(3).
    assert metrics.ndcg_at_k(["x", "a"], {"a"}) == pytest.approx(1 / math.log2(3))
    # Beyond the top 10 counts nothing.
    assert metrics.ndcg_at_k([str(i) for i in range(10)] + ["a"], {"a"}) == 0.0


def test_acceptance_at_10() -> None:
    answers = {"a": "accepted", "b": "declined", "c": "no_answer"}
    assert metrics.acceptance_at_k(["a", "b", "c", "d"], answers) == pytest.approx(0.5)
    assert metrics.acceptance_at_k(["c", "d"], answers) is None


def test_concentration() -> None:
    assert metrics.gini([1, 1, 1, 1]) == pytest.approx(0.0)
    assert metrics.gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert metrics.gini([]) == 0.0
    assert metrics.top_share([10] + [0] * 19) == pytest.approx(1.0)
    assert metrics.top_share([1] * 40) == pytest.approx(2 / 40)


def test_labels() -> None:
    assert metrics.relevance_label(answer="accepted", decline_reason=None, rating=4) is True
    assert metrics.relevance_label(answer="accepted", decline_reason=None, rating=3) is None
    declined = metrics.relevance_label(
        answer="declined", decline_reason="not_my_expertise", rating=None
    )
    assert declined is False
    assert metrics.relevance_label(answer="declined", decline_reason="no_time", rating=None) is None


def test_settings_validation_names_keys_and_accepts_defaults() -> None:
    defaults = MatchingConfig().model_dump(mode="json")
    assert validate_settings(defaults) == MatchingConfig()
    with pytest.raises(ConfigValidationError) as caught:
        validate_settings({"rating_weight": float("nan"), "nope": 1})
    assert [e["loc"] for e in caught.value.extra["errors"]] == ["settings.rating_weight"]
    with pytest.raises(ConfigValidationError) as caught:
        validate_settings({"nope": 1, "top_k": 0})
    locs = {e["loc"] for e in caught.value.extra["errors"]}
    assert locs == {"settings.nope", "settings.top_k"}
    # Stored settings with a retired key still load; missing keys take their defaults.
    assert load_settings({"retired_knob": 3, "top_k": 2}).top_k == 2


def test_exposure_concentration_figures_exact_values() -> None:
    """exposure.figures (the /v1/exposure figures): exact values, not ranges."""
    from convene_matcher.exposure import figures

    assert figures.gini([1, 1, 1, 1]) == 0.0
    assert figures.gini([0, 0, 0, 4]) == pytest.approx(0.75)
    # sorted 0,1,2,3: 2 x (1x0 + 2x1 + 3x2 + 4x3) / (4 x 6) - 5/4 = 40/24 - 30/24
    assert figures.gini([3, 0, 2, 1]) == pytest.approx(10 / 24)
    assert figures.gini([]) is None
    assert figures.gini([0, 0]) is None
    # 20 citizens: the top 5% is one citizen, holding 10 of 29 invitations.
    assert figures.top_share([10] + [1] * 19) == pytest.approx(10 / 29)
    # 41 citizens: ceil(41 x 0.05) = 3 citizens at the top.
    assert figures.top_share([5, 4, 3] + [1] * 38) == pytest.approx(12 / 50)
    assert figures.top_share([]) is None
