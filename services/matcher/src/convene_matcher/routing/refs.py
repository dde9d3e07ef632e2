"""Pseudonymous candidate references: stable for one call, unlinkable across calls.

ref = "c_" + first 20 hex digits of HMAC-SHA256(secret, call_id + ":" + citizen_id). A public
body never sees a citizen id; the ref resolves only through ``call_match`` in the matcher.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid


def candidate_ref(*, secret: bytes, call_id: uuid.UUID, citizen_id: str) -> str:
    digest = hmac.new(secret, f"{call_id}:{citizen_id}".encode(), hashlib.sha256).hexdigest()
    return "c_" + digest[:20]
