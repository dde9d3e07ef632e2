"""Opaque keyset-pagination cursors."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from convene_common.problems import ServiceError


class InvalidCursorError(ServiceError):
    status = 400
    slug = "invalid-cursor"


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, arity: int) -> list[Any]:
    """Decodes a cursor made by encode_cursor; anything else is a 400 problem."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursorError("The cursor is malformed; use next_cursor as given.") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise InvalidCursorError("The cursor is malformed; use next_cursor as given.")
    return values
