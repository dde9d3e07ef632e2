"""Errors of the batch domain (problem+json through the shared handler)."""

from __future__ import annotations

from convene_matcher.errors import ConflictError


class CallsNotOpenError(ConflictError):
    slug = "calls-not-open"
