"""Signing Open Badges 3.0 credentials (VC-JWT) for tests."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

ISSUER_ID = "https://badges.example.org/issuers/1"


class Issuer:
    def __init__(self, issuer_id: str = ISSUER_ID) -> None:
        self.id = issuer_id
        self._key = ec.generate_private_key(ec.SECP256R1())

    @property
    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self._key.public_key()))
        return jwk

    def credential(self, *, email: str, name: str = "Community Mapping") -> str:
        now = int(time.time())
        payload = {
            "iss": self.id,
            "nbf": now - 60,
            "jti": f"urn:uuid:{now}",
            "vc": {
                "type": ["VerifiableCredential", "OpenBadgeCredential"],
                "issuer": {"id": self.id, "name": "Example Badges"},
                "credentialSubject": {
                    "id": f"mailto:{email}",
                    "achievement": {"name": name, "description": "Mapped a neighbourhood."},
                },
            },
        }
        return jwt.encode(payload, self._key, algorithm="ES256")
