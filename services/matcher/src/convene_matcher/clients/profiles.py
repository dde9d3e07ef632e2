"""The matcher's one typed client of the profiles service.

Built on the shared ``ServiceClient`` (convene_common.service_client): every call carries the
request id and the internal token, is bounded by a whole-call deadline, retries a refused
connection only for GETs, and maps failures to problems (unreachable 503, timeout 504, 5xx or
a malformed answer 502, a 4xx passed through as ``DownstreamProblemError``).

Callers: the change-feed consumer (``fetch_changes``), invitations' ratings
(``record_rating``), the notification worker (``contact``) and the demo history generator
(``get_citizen``).
"""

from __future__ import annotations

import uuid

import httpx
from pydantic import BaseModel, ConfigDict

from convene_common.service_client import DownstreamProblemError, ServiceClient, service_http
from convene_matcher.citizens.schemas import ChangePage
from convene_matcher.feed.client import parse_page

SERVICE = "profiles"
# Bounded retries of refused connections on GETs (the feed also backs off on its own).
DEFAULT_RETRIES = 1
DEFAULT_RETRY_BACKOFF_SECONDS = 0.1
DEFAULT_RETRY_AFTER_SECONDS = 5
# A rating is one small insert on the profiles side.
RATING_TIMEOUT_SECONDS = 10.0


class ProfileContact(BaseModel):
    """What the notification worker needs of a citizen (profiles may send more)."""

    model_config = ConfigDict(extra="ignore")

    email: str | None = None
    display_name: str | None = None


class DemoSkill(BaseModel):
    model_config = ConfigDict(extra="ignore")

    label: str = ""


class DemoRole(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: str = ""


class CitizenProfile(BaseModel):
    """The parts of a citizen's profile the demo history's hidden ground truth reads."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    skills: list[DemoSkill] = []
    roles: list[DemoRole] = []


class RatingSent(BaseModel):
    """What the matcher sends to profiles' POST /v1/citizens/{id}/ratings."""

    model_config = ConfigDict(extra="forbid")

    public_body_id: uuid.UUID
    contribution_id: uuid.UUID
    rating: int
    comment: str | None = None
    topic: str | None = None
    # The rated contribution in the citizen's words (its evidence), and whether it came from
    # a confidential or restricted call (then it is never shown to a body).
    contribution_text: str | None = None
    confidential: bool = False


class ProfilesClient(ServiceClient):
    service = SERVICE

    @classmethod
    def create(
        cls,
        *,
        base_url: str,
        timeout_seconds: float,
        internal_token: str | None,
        transport: httpx.AsyncBaseTransport | None = None,
        long_poll_seconds: float = 0,
        retries: int = DEFAULT_RETRIES,
    ) -> ProfilesClient:
        """``long_poll_seconds``: the longest ``wait_seconds`` the feed asks for (the read
        timeout and the deadline leave room for it)."""
        http = service_http(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_seconds + long_poll_seconds, connect=5.0),
            internal_token=internal_token,
            transport=transport,
        )
        return cls(
            http,
            retries=retries,
            retry_backoff_seconds=DEFAULT_RETRY_BACKOFF_SECONDS,
            retry_after_seconds=DEFAULT_RETRY_AFTER_SECONDS,
            deadline_seconds=timeout_seconds + long_poll_seconds,
        )

    # -- change feed -------------------------------------------------------------------
    async def fetch_changes(self, *, after: int, limit: int, wait_seconds: float = 0) -> ChangePage:
        """One page of GET /v1/changes, each change validated on its own (``parse_page``)."""
        response = await self._send(
            "GET",
            "/v1/changes",
            params={"after": after, "limit": limit, "wait_seconds": wait_seconds},
        )
        return parse_page(response.content)

    # -- citizens ----------------------------------------------------------------------
    async def contact(self, *, citizen_id: uuid.UUID | str) -> ProfileContact | None:
        """The citizen's email and display name; None when the citizen is gone (404/410)."""
        try:
            return await self._get(ProfileContact, f"/v1/citizens/{citizen_id}")
        except DownstreamProblemError as exc:
            if exc.status in (404, 410):
                return None
            raise

    async def get_citizen(self, *, citizen_id: uuid.UUID | str) -> CitizenProfile | None:
        """The citizen's profile (skills and roles); None when the citizen is gone."""
        try:
            return await self._get(CitizenProfile, f"/v1/citizens/{citizen_id}")
        except DownstreamProblemError as exc:
            if exc.status in (404, 410):
                return None
            raise

    # -- ratings -----------------------------------------------------------------------
    async def record_rating(self, *, citizen_id: uuid.UUID | str, rating: RatingSent) -> bool:
        """Records a public body's rating on the citizen's ledger. True when recorded, False
        when profiles already holds a rating of that contribution (409)."""
        try:
            await self._send(
                "POST",
                f"/v1/citizens/{citizen_id}/ratings",
                json=rating.model_dump(mode="json"),
                timeout=httpx.Timeout(RATING_TIMEOUT_SECONDS, connect=5.0),
            )
        except DownstreamProblemError as exc:
            if exc.status == 409:
                return False
            raise
        return True
