"""API key format: cvk_<8-char lookup prefix>_<secret>. Only a hash of the key is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

KEY_MARKER = "cvk_"
PREFIX_LENGTH = 8
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_SECRET_BYTES = 32


@dataclass(frozen=True)
class GeneratedKey:
    plaintext: str
    lookup_prefix: str
    key_hash: bytes


@dataclass(frozen=True)
class ParsedKey:
    lookup_prefix: str
    plaintext: str


def hash_key(plaintext: str) -> bytes:
    return hashlib.sha256(plaintext.encode()).digest()


def generate_key() -> GeneratedKey:
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    plaintext = f"{KEY_MARKER}{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    return GeneratedKey(plaintext=plaintext, lookup_prefix=prefix, key_hash=hash_key(plaintext))


def parse_key(candidate: str) -> ParsedKey | None:
    """Splits by position: the secret part may itself contain underscores."""
    head = len(KEY_MARKER) + PREFIX_LENGTH
    if (
        len(candidate) < head + 20
        or len(candidate) > 200
        or not candidate.startswith(KEY_MARKER)
        or candidate[head] != "_"
    ):
        return None
    prefix = candidate[len(KEY_MARKER) : head]
    if any(char not in _PREFIX_ALPHABET for char in prefix):
        return None
    return ParsedKey(lookup_prefix=prefix, plaintext=candidate)


def key_matches(plaintext: str, key_hash: bytes) -> bool:
    return hmac.compare_digest(hash_key(plaintext), key_hash)
