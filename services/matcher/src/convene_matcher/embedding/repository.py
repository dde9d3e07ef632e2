"""SQL for the persisted embedding cache (schema matcher)."""

from __future__ import annotations

from convene_common.db import Connection


async def fetch_vectors(
    connection: Connection, *, model: str, keys: list[bytes]
) -> dict[bytes, bytes]:
    rows = await connection.fetch(
        "SELECT text_key, vector FROM embedding_cache WHERE model = $1 AND text_key = ANY($2)",
        model,
        keys,
    )
    return {bytes(row["text_key"]): bytes(row["vector"]) for row in rows}


async def insert_vectors(
    connection: Connection,
    *,
    model: str,
    dimension: int,
    vectors: list[tuple[bytes, bytes]],
) -> None:
    await connection.execute(
        """
        INSERT INTO embedding_cache (model, text_key, dimension, vector)
        SELECT $1, k, $2, v FROM unnest($3::bytea[], $4::bytea[]) AS t(k, v)
        ON CONFLICT (model, text_key) DO NOTHING
        """,
        model,
        dimension,
        [key for key, _ in vectors],
        [vector for _, vector in vectors],
    )


async def delete_vectors(connection: Connection, *, model: str, keys: list[bytes]) -> None:
    await connection.execute(
        "DELETE FROM embedding_cache WHERE model = $1 AND text_key = ANY($2)", model, keys
    )
