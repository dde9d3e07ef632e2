"""Errors of the invitations domain (problem+json through the shared handler)."""

from __future__ import annotations

from typing import Any

from convene_matcher.errors import ConflictError, MatcherError


class InvitationValidationError(MatcherError):
    """A check across fields or against stored state; names the offending field."""

    status = 422
    slug = "validation-error"

    def __init__(self, loc: str, message: str) -> None:
        errors: list[dict[str, Any]] = [{"loc": loc, "msg": message}]
        super().__init__(f"The request is not valid: {loc}: {message}", extra={"errors": errors})


class CallClosedError(ConflictError):
    slug = "call-closed"


class CallNotMatchedError(ConflictError):
    slug = "call-not-matched"


class InvitationExpiredError(ConflictError):
    slug = "invitation-expired"


class InvitationWithdrawnError(ConflictError):
    slug = "invitation-withdrawn"


class InvitationDeclinedError(ConflictError):
    slug = "invitation-declined"


class AlreadyAnsweredError(ConflictError):
    slug = "invitation-already-answered"


class NothingToUndoError(ConflictError):
    slug = "invitation-not-answered"


class ContributionNotAcceptedError(ConflictError):
    slug = "contribution-not-accepted"


class DuplicateRatingError(ConflictError):
    slug = "duplicate-rating"


class RatingLockedError(ConflictError):
    slug = "invitation-rated"


class InvitationThrottledError(MatcherError):
    status = 429
    slug = "invitations-throttled"

    def __init__(self, detail: str, *, retry_after_seconds: int, figures: dict[str, Any]) -> None:
        super().__init__(
            detail,
            headers={"Retry-After": str(retry_after_seconds)},
            extra={"retry_after_seconds": retry_after_seconds, **figures},
        )


class ProfilesUnavailableError(MatcherError):
    status = 503
    slug = "profiles-unavailable"
