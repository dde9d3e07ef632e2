"""The float16 scorer (index.half_products) against numpy's own conversion and product."""

from __future__ import annotations

import numpy as np
import pytest

from convene_matcher.index import half_products as module
from convene_matcher.index.half_products import half_products


def reference(table: np.ndarray, positions: np.ndarray, queries: np.ndarray) -> np.ndarray:
    rows = table[positions].astype(np.float64)
    return (queries.astype(np.float64) @ rows.T).astype(np.float32)


def test_equals_numpy_including_zero_rows_and_subnormals() -> None:
    rng = np.random.default_rng(7)
    table = (rng.standard_normal((500, 384)) * 0.05).astype(np.float16)
    table[3] = 0  # an erased vector
    table[4, :10] = np.float16(3e-6)  # float16 subnormals convert exactly too
    queries = rng.standard_normal((4, 384)).astype(np.float32)
    positions = rng.integers(0, 500, size=1200).astype(np.int64)
    positions[:2] = [3, 4]
    found = half_products(table, positions, queries)
    assert found.shape == (4, 1200)
    assert found.dtype == np.float32
    np.testing.assert_allclose(found, reference(table, positions, queries), atol=2e-6)
    assert np.all(found[:, 0] == 0)


def test_blocks_join_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "BLOCK", 7)
    rng = np.random.default_rng(8)
    table = rng.standard_normal((40, 16)).astype(np.float16)
    queries = rng.standard_normal((3, 16)).astype(np.float32)
    positions = np.array([39, 0, 5, 5, 12, 7, 1, 38, 2, 20, 21, 22, 23, 24, 25], dtype=np.int64)
    np.testing.assert_allclose(
        half_products(table, positions, queries),
        reference(table, positions, queries),
        atol=1e-5,
    )


def test_empty_and_mismatched_inputs() -> None:
    table = np.zeros((3, 8), dtype=np.float16)
    assert half_products(table, np.empty(0, np.int64), np.ones((2, 8), np.float32)).shape == (
        2,
        0,
    )
    with pytest.raises(ValueError, match="same width"):
        half_products(table, np.zeros(1, np.int64), np.ones((1, 9), np.float32))
