"""Keyed hashes of respondents' addresses and sealed texts of unclaimed responses.

- ``email_hash``: HMAC-SHA256(secret, "lookup" NUL address), hex. Rows are found by it; the
  address itself is never stored. Without the secret, a guessed address cannot be checked.
- ``seal``/``open_sealed``: AES-256-GCM under HMAC-SHA256(secret, "seal" NUL address), the
  row's (source, external_id) as associated data. Only someone holding both the secret and
  the address can read the texts: the database alone serves nobody, and a row moved to
  another key does not open.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


class Sealer:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the import secret must not be empty")
        self._secret = secret.encode()

    def _mac(self, label: bytes, address: str) -> bytes:
        return hmac.new(self._secret, label + b"\x00" + address.encode(), hashlib.sha256).digest()

    def email_hash(self, address: str) -> str:
        """``address`` already normalised (``rows.normalise_email``)."""
        return self._mac(b"lookup", address).hex()

    def seal(
        self, address: str, *, source: str, external_id: str, question: str, text: str
    ) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        payload = json.dumps({"q": question, "t": text}, ensure_ascii=False).encode()
        sealed = AESGCM(self._mac(b"seal", address)).encrypt(
            nonce, payload, _associated(source, external_id)
        )
        return nonce + sealed

    def open_sealed(
        self, address: str, *, source: str, external_id: str, sealed: bytes
    ) -> tuple[str, str]:
        """(question, text); raises cryptography's InvalidTag for another address or row."""
        nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        payload = AESGCM(self._mac(b"seal", address)).decrypt(
            nonce, body, _associated(source, external_id)
        )
        values = json.loads(payload)
        return str(values["q"]), str(values["t"])


def _associated(source: str, external_id: str) -> bytes:
    return source.encode() + b"\x00" + external_id.encode()
