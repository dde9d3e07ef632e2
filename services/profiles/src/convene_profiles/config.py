"""Settings for the profiles service (env prefix CONVENE_PROFILES_)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from convene_common.settings import ServiceSettings
from convene_profiles.ratings.scoring import RatingPolicy


class ProfilesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONVENE_PROFILES_", extra="ignore", frozen=True)

    port: int = 8001
    database_schema: str = "profiles"

    max_skills_per_citizen: int = Field(default=200, ge=1)
    max_experience_entries_per_citizen: int = Field(default=100, ge=1)

    # Erasure tombstones are sha256(salt || citizen id): the id itself is never kept.
    erasure_salt: SecretStr = SecretStr("development-only-erasure-salt")
    # Re-apply tombstones at start-up, so a citizen restored from a backup is erased again.
    reapply_tombstones_on_startup: bool = True

    # Rating aggregate: a Bayesian average pulled towards prior_mean with prior_weight
    # pseudo-ratings; each real rating's weight halves every half-life.
    rating_prior_mean: float = Field(default=3.0, ge=1, le=5)
    rating_prior_weight: float = Field(default=2.0, gt=0)
    rating_half_life_days: float = Field(default=365.0, gt=0)

    # Badge fetching (hosted OB2 assertions, badge classes, issuers, revocation lists).
    badge_fetch_allowed_hosts: list[str] = Field(default_factory=list)
    badge_fetch_timeout_seconds: float = Field(default=5.0, gt=0)
    badge_fetch_max_bytes: int = Field(default=256 * 1024, gt=0)
    # Revocation re-check after import: verified badges whose revocation was last confirmed
    # more than recheck_hours ago are checked again with their issuer, at most
    # recheck_batch_size per run; the background task runs every interval seconds (0 = off;
    # it waits one interval before its first run).
    badge_recheck_hours: float = Field(default=24.0, ge=0)
    badge_recheck_batch_size: int = Field(default=200, ge=1, le=10_000)
    badge_recheck_interval_seconds: float = Field(default=3600.0, ge=0)

    # Imports of past consultation responses (docs/imports.md). Respondents' addresses are
    # kept only as HMAC-SHA256(import_secret, address); an unclaimed row's texts are sealed
    # (AES-GCM) under a key HMAC-derived from the address, so they serve nobody until its
    # owner registers and verifies it.
    import_secret: SecretStr = SecretStr("development-only-import-secret")
    # An uploaded file's size limit (bytes): 64 MiB holds ~150,000 typical rows.
    imports_max_file_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    # Jobs run one at a time per process by default: each holds a connection and a core.
    imports_max_concurrent_jobs: int = Field(default=1, ge=1, le=8)
    imports_batch_rows: int = Field(default=5_000, ge=10, le=100_000)
    # Rejected rows kept for the report (the count says how many there were in all).
    imports_rejected_kept: int = Field(default=1_000, ge=1, le=100_000)
    # Unclaimed rows (an address nobody verified) are deleted this many days after import;
    # the purge runs every interval seconds (0 = off; tests call it directly).
    imports_unclaimed_retention_days: float = Field(default=365.0, gt=0)
    imports_purge_interval_seconds: float = Field(default=3600.0, ge=0)
    # A citizen's own upload of question-and-answer site answers.
    answers_max_file_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    max_answers_per_citizen: int = Field(default=500, ge=1, le=10_000)

    changes_max_wait_seconds: float = Field(default=25.0, ge=0)
    changes_poll_interval_seconds: float = Field(default=0.25, gt=0)

    def rating_policy(self) -> RatingPolicy:
        return RatingPolicy(
            prior_mean=self.rating_prior_mean,
            prior_weight=self.rating_prior_weight,
            half_life_days=self.rating_half_life_days,
        )

    @model_validator(mode="after")
    def _salt_outside_development(self) -> ProfilesSettings:
        if (
            self.environment == "production"
            and self.erasure_salt.get_secret_value() == "development-only-erasure-salt"
        ):
            raise ValueError("erasure_salt must be set in production")
        if (
            self.environment == "production"
            and self.import_secret.get_secret_value() == "development-only-import-secret"
        ):
            raise ValueError("import_secret must be set in production")
        return self
