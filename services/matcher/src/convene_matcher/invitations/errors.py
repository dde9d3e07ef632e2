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


class HoursPerMonthExceededError(ConflictError):
    """Accepting would take the citizen past their ``hours_per_month``."""

    slug = "hours-per-month-exceeded"

    def __init__(
        self, *, hours_per_month: float, hours_accepted: float, hours_wanted: float
    ) -> None:
        left = max(0.0, hours_per_month - hours_accepted)
        advice = (
            f"offer at most {left:g} hours (hours_offered), or undo another acceptance"
            if left > 0
            else "undo another acceptance this month, or raise hours_per_month in your profile"
        )
        super().__init__(
            f"Accepting {hours_wanted:g} hours would exceed your {hours_per_month:g} hours a "
            f"month: you have accepted {hours_accepted:g} hours for calls due that month. "
            f"You can {advice}.",
            extra={
                "hours_per_month": hours_per_month,
                "hours_accepted": hours_accepted,
                "hours_left": left,
            },
        )


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


class ContributionNotSubmittedError(ConflictError):
    slug = "contribution-not-submitted"


class ContributionClosedError(ConflictError):
    """The call's deadline has passed (or it is closed): contributions no longer change."""

    slug = "contribution-deadline-passed"


class ContributionRatedError(ConflictError):
    slug = "contribution-rated"


class NotDeclinedError(ConflictError):
    slug = "invitation-not-declined"
