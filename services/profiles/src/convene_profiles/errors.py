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
