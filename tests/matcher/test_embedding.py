from __future__ import annotations

import numpy as np

from convene_common.db import create_pool
from convene_matcher.embedding import Embedder, chunk_text, normalise_text
from tests.conftest import FreshDatabase
from tests.matcher.conftest import CountingModel


def test_normalise_text_nfkc_lower_whitespace() -> None:
    assert normalise_text("  Urban\u00a0PLANNING \n\t ﬁre  ") == "urban planning fire"


def test_chunk_text_keeps_whole_sentences() -> None:
    text = "one two three. four five six. seven eight nine ten."
    assert chunk_text(text, max_words=6) == [
        "one two three. four five six.",
        "seven eight nine ten.",
    ]


async def test_second_embed_of_same_normalised_text_does_not_call_model(
    counting_model: CountingModel,
) -> None:
    embedder = Embedder(model=counting_model, model_name="minilm")
    first = await embedder.embed(["Cycling  infrastructure", "bus lanes"])
    assert len(counting_model.texts) == 2
    second = await embedder.embed(["cycling infrastructure", "BUS\tLANES", "Bus lanes"])
    assert len(counting_model.texts) == 2  # all three are cache hits
    np.testing.assert_array_equal(second[0], first[0])
    np.testing.assert_array_equal(second[1], second[2])
    assert first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)


async def test_duplicates_in_one_call_are_embedded_once(counting_model: CountingModel) -> None:
    embedder = Embedder(model=counting_model, model_name="minilm")
    vectors = await embedder.embed(["nursing"] * 50 + ["Nursing "])
    assert counting_model.texts == ["nursing"]
    assert vectors.shape == (51, embedder.dimension)


async def test_cache_persists_in_postgres_across_embedders(
    counting_model: CountingModel, database: FreshDatabase
) -> None:
    pool = await create_pool(database.dsn("matcher"), schema="matcher", max_size=2)
    try:
        first = Embedder(model=counting_model, model_name="minilm")
        before = await first.embed(["flood risk modelling"], pool=pool)
        assert len(counting_model.texts) == 1
        restarted = Embedder(model=counting_model, model_name="minilm")  # empty memory cache
        after = await restarted.embed(["Flood risk   modelling"], pool=pool)
        assert len(counting_model.texts) == 1
        np.testing.assert_array_equal(before, after)
        other_model = Embedder(model=counting_model, model_name="another-model")
        await other_model.embed(["flood risk modelling"], pool=pool)
        assert len(counting_model.texts) == 2  # vectors are never shared across models
        async with pool.acquire() as connection:
            rows = await connection.fetch("SELECT model, dimension FROM embedding_cache")
        assert sorted(r["model"] for r in rows) == ["another-model|whole", "minilm|whole"]
    finally:
        await pool.close()


async def test_persist_false_writes_nothing(
    counting_model: CountingModel, database: FreshDatabase
) -> None:
    pool = await create_pool(database.dsn("matcher"), schema="matcher", max_size=2)
    try:
        embedder = Embedder(model=counting_model, model_name="minilm")
        await embedder.embed(["a call about libraries"], pool=pool, persist=False)
        async with pool.acquire() as connection:
            assert await connection.fetchval("SELECT count(*) FROM embedding_cache") == 0
    finally:
        await pool.close()


async def test_related_texts_are_closer(counting_model: CountingModel) -> None:
    embedder = Embedder(model=counting_model, model_name="minilm")
    v = await embedder.embed(["bicycle lanes", "cycling infrastructure", "tax accounting"])
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.1
