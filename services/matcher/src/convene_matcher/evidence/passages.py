"""Long texts in a citizen's own words, split into passages (each one evidence item).

The rule: split the text into sentences (after ``.``, ``!`` or ``?`` followed by white space,
and at line breaks), then group consecutive sentences greedily while the group stays within
``MAX_WORDS`` (50) words and ``MAX_CHARACTERS`` (254) non-white-space characters (counted
after the embedder's normalisation: NFKC and lower case). A sentence
that alone exceeds either bound is cut at word boundaries (a single word over the character
bound is cut hard).

The token bound: MiniLM's WordPiece tokenizer never makes more tokens than a text has
non-white-space characters (every piece covers at least one character; white space makes
none), so a passage of at most 254 such characters is at most 254 word pieces, 256 with
[CLS] and [SEP]: never over the model's 256-token window, so no passage loses its end to
truncation. English prose runs at about 1.3 pieces per word, so a full 50-word passage is
typically 60-70 pieces, well inside the bound.

Pure: no I/O, no model.
"""

from __future__ import annotations

import re
import unicodedata

MAX_WORDS = 50
MAX_CHARACTERS = 254

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*\n+\s*")


def _size(word: str) -> int:
    """Characters the model will see: the embedder NFKC-normalises and lower-cases first,
    which can lengthen a few characters (e.g. a ligature into two letters)."""
    return len(unicodedata.normalize("NFKC", word).lower())


def _weight(words: list[str]) -> int:
    return sum(_size(word) for word in words)


def _cut_word(word: str) -> list[str]:
    """A word over the character bound, cut into parts within it."""
    parts: list[str] = []
    current = ""
    for character in word:
        if current and _size(current + character) > MAX_CHARACTERS:
            parts.append(current)
            current = ""
        current += character
    if current:
        parts.append(current)
    return parts


def _sentences(text: str) -> list[list[str]]:
    return [part.split() for part in _SENTENCE_END.split(text) if part and part.strip()]


def _cut_long(words: list[str]) -> list[list[str]]:
    """Cuts one over-long sentence into pieces within both bounds."""
    pieces: list[list[str]] = []
    current: list[str] = []
    for raw in words:
        # A word longer than the character bound alone is cut into bound-sized parts.
        parts = _cut_word(raw) if _size(raw) > MAX_CHARACTERS else [raw]
        for word in parts:
            if current and (
                len(current) + 1 > MAX_WORDS or _weight(current) + _size(word) > MAX_CHARACTERS
            ):
                pieces.append(current)
                current = []
            current.append(word)
    if current:
        pieces.append(current)
    return pieces


def split_passages(text: str) -> list[str]:
    """The passages of ``text`` in order, each within MAX_WORDS words and MAX_CHARACTERS
    non-white-space characters; distinct passages only (a repeated one counts once)."""
    groups: list[list[str]] = []
    current: list[str] = []
    for sentence in _sentences(text):
        fits_alone = len(sentence) <= MAX_WORDS and _weight(sentence) <= MAX_CHARACTERS
        if not fits_alone:
            if current:
                groups.append(current)
                current = []
            groups.extend(_cut_long(sentence))
            continue
        if current and (
            len(current) + len(sentence) > MAX_WORDS
            or _weight(current) + _weight(sentence) > MAX_CHARACTERS
        ):
            groups.append(current)
            current = []
        current = current + sentence
    if current:
        groups.append(current)
    return list(dict.fromkeys(" ".join(group) for group in groups))
