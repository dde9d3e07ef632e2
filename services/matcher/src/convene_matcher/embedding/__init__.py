"""Text -> normalised float32 vectors, with a two-level cache (memory, then PostgreSQL).

Interface for other domains (routing, affinity, the feed consumer):

- ``normalise_text(text) -> str``: NFKC, lower case, collapsed whitespace; the cache key and
  the exact text the model sees (the model is uncased, so nothing is lost).
- ``Embedder.embed(texts, pool=..., persist=True) -> np.ndarray`` of shape (n, dim), float32,
  unit length, same order as ``texts``. Runs the model in one bounded worker thread
  (``anyio.CapacityLimiter(1)``) off the event loop. Only texts missing from both caches reach
  the model, in batches of ``embed_batch_size``. ``persist=False`` keeps new vectors in memory
  only (used by /v1/affinity, which stores nothing).
- ``Embedder.dimension``, ``Embedder.cache_model`` (model name + text recipe: the key vectors
  are recorded under), ``Embedder.texts_encoded`` (how many texts reached the model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convene_matcher.embedding.text import chunk_text, normalise_text, text_key

if TYPE_CHECKING:
    from convene_matcher.embedding.embedder import Embedder, load_sentence_transformer


def __getattr__(name: str) -> Any:
    # The embedder (asyncpg, torch) loads on first use: ``normalise_text`` users, such as
    # the citizen store under routing's pure core, must not import a database driver.
    if name in ("Embedder", "load_sentence_transformer"):
        from convene_matcher.embedding import embedder

        return getattr(embedder, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Embedder", "chunk_text", "load_sentence_transformer", "normalise_text", "text_key"]
