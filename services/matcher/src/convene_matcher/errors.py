"""The matcher service's one error type, rendered as problem+json by the shared handler."""

from __future__ import annotations

from convene_common.problems import ServiceError


class MatcherError(ServiceError):
    status = 400
    slug = "bad-request"


class NotFoundError(MatcherError):
    status = 404
    slug = "not-found"


class ConflictError(MatcherError):
    status = 409
    slug = "conflict"


class AffinityLimitError(MatcherError):
    status = 413
    slug = "affinity-too-large"


class NotReadyError(MatcherError):
    status = 503
    slug = "not-ready"
