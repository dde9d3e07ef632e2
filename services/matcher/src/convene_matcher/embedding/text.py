"""Text normalisation and the digest used as cache key."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

_WHITESPACE = re.compile(r"\s+")
# A sentence ends at . ! ? followed by space and something that can start a sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\w(\"'])")


def normalised_uncached(text: str) -> str:
    """``normalise_text`` without its cache, for one pass over many distinct texts (a pass
    over the store's million texts would only evict the feed's recent ones)."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


@lru_cache(maxsize=65_536)
def normalise_text(text: str) -> str:
    """NFKC, lower case, whitespace collapsed (cached: evidence texts repeat a lot)."""
    return normalised_uncached(text)


def text_key(normalised: str) -> bytes:
    return hashlib.sha256(normalised.encode()).digest()


def chunk_text(normalised: str, *, max_words: int) -> list[str]:
    """Splits a long text into consecutive runs of whole sentences of at most max_words.

    A single sentence longer than max_words stays whole (the model truncates it).
    """
    sentences = [s for s in _SENTENCE_END.split(normalised) if s]
    chunks: list[str] = []
    current: list[str] = []
    words = 0
    for sentence in sentences:
        length = len(sentence.split())
        if current and words + length > max_words:
            chunks.append(" ".join(current))
            current, words = [], 0
        current.append(sentence)
        words += length
    if current:
        chunks.append(" ".join(current))
    return chunks
