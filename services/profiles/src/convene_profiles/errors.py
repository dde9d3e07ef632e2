"""The profiles service's one error type, rendered as problem+json by the shared handler."""

from __future__ import annotations

from convene_common.problems import ServiceError


class ProfilesError(ServiceError):
    status = 400
    slug = "bad-request"


class NotFoundError(ProfilesError):
    status = 404
    slug = "not-found"


class ConflictError(ProfilesError):
    status = 409
    slug = "conflict"


class CitizenNotFoundError(NotFoundError):
    slug = "citizen-not-found"


class EmailTakenError(ConflictError):
    slug = "email-taken"


class CitizenErasedError(ConflictError):
    slug = "citizen-erased"


class SkillLimitError(ConflictError):
    slug = "skill-limit-reached"


class ExperienceLimitError(ConflictError):
    slug = "experience-limit-reached"


class RoleExistsError(ConflictError):
    slug = "role-exists"


class DuplicateRatingError(ConflictError):
    slug = "duplicate-rating"


class IssuerExistsError(ConflictError):
    slug = "issuer-exists"


class InvalidBadgeError(ProfilesError):
    """The badge cannot be parsed at all: nothing is stored."""

    status = 422
    slug = "invalid-badge"


class InvalidIssuerKeyError(ProfilesError):
    status = 422
    slug = "invalid-issuer-key"


class InvalidCursorError(ProfilesError):
    status = 400
    slug = "invalid-cursor"
