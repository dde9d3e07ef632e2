"""Configuration rules: validation, immutability, one active configuration, activations.

The active configuration is the target of the latest activation row, read from PostgreSQL on
every routing request (one indexed row) so every replica switches together; parsed
configurations are cached by id (they never change once created).

Validation: ``MatchingConfig`` (extra="forbid": unknown keys, negative weights, out-of-range
depths) and, for fields it leaves open-ended, the sensible bounds in ``SENSIBLE_BOUNDS``; every
number must be finite. Errors name the key as ``settings.<field>[.<sub-key>]``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from pydantic import ValidationError

from convene_common.cursors import decode_cursor, encode_cursor
from convene_matcher.configs import repository
from convene_matcher.configs.errors import ConfigValidationError, NothingToRollBackError
from convene_matcher.configs.schemas import (
    ActivationList,
    ActivationRead,
    ConfigCreate,
    ConfigList,
    ConfigRead,
)
from convene_matcher.errors import NotFoundError
from convene_matcher.scoring import MatchingConfig

logger = logging.getLogger("convene.matcher.configs")

SYSTEM_ACTOR = "system"
DEFAULT_NOTE = "defaults (MatchingConfig as shipped)"

# Upper (and lower) bounds for knobs MatchingConfig leaves open-ended: beyond these a value is
# a typo or a way to make routing unusably slow, not a tuning choice. Applied only to fields
# MatchingConfig has, so knobs added later are validated by MatchingConfig alone.
SENSIBLE_BOUNDS: dict[str, tuple[float, float]] = {
    "similarity_weight": (0, 10),
    "verified_badge_bonus": (0, 1),
    "rating_weight": (0, 10),
    "locality_weight": (0, 10),
    "rating_half_life_days": (1, 36_500),
    "role_rescore_max": (0, 100_000),
    "exposure_window_days": (1, 3_650),
    "exposure_scale": (0.01, 1_000),
    "panel_solver_time_limit_seconds": (0.01, 60),
    "tie_tolerance": (1e-9, 0.1),
}
LEVEL_WEIGHT_BOUNDS = (0.0, 10.0)


def _error(loc: str, msg: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg}


def _non_finite(value: Any, loc: str) -> list[dict[str, Any]]:
    if isinstance(value, float) and not math.isfinite(value):
        return [_error(loc, "must be a finite number")]
    if isinstance(value, Mapping):
        return [e for k, v in value.items() for e in _non_finite(v, f"{loc}.{k}")]
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in _non_finite(v, f"{loc}.{i}")]
    return []


def validate_settings(settings: Mapping[str, Any]) -> MatchingConfig:
    """The MatchingConfig these settings make, or ConfigValidationError naming every bad key."""
    errors = [e for k, v in settings.items() for e in _non_finite(v, f"settings.{k}")]
    if errors:
        raise ConfigValidationError(errors)
    try:
        config = MatchingConfig.model_validate(dict(settings))
    except ValidationError as exc:
        for item in exc.errors(include_url=False, include_input=False):
            loc = ".".join(str(part) for part in ("settings", *item["loc"]))
            message = str(item["msg"])
            if item["type"] == "extra_forbidden":
                message = "unknown setting (not a MatchingConfig field)"
            errors.append(_error(loc, message))
        raise ConfigValidationError(errors) from exc
    values = config.model_dump()
    for name, (low, high) in SENSIBLE_BOUNDS.items():
        value = values.get(name)
        if isinstance(value, int | float) and not low <= value <= high:
            errors.append(_error(f"settings.{name}", f"must be between {low:g} and {high:g}"))
    low, high = LEVEL_WEIGHT_BOUNDS
    for weights_field in ("level_weights", "kind_weights", "contribution_rating_weights"):
        for key, weight in values.get(weights_field, {}).items():
            if not low <= weight <= high:
                errors.append(
                    _error(
                        f"settings.{weights_field}.{key}", f"must be between {low:g} and {high:g}"
                    )
                )
    if errors:
        raise ConfigValidationError(errors)
    return config


def load_settings(stored: Mapping[str, Any]) -> MatchingConfig:
    """A stored configuration as today's MatchingConfig: keys it no longer has are dropped
    (logged), keys added since take their defaults."""
    known = MatchingConfig.model_fields
    dropped = sorted(set(stored) - set(known))
    if dropped:
        logger.warning("stored matching config has retired keys", extra={"keys": dropped})
    return MatchingConfig.model_validate({k: v for k, v in stored.items() if k in known})


@dataclass
class ConfigsState:
    """Parsed configurations by id (immutable, so cached forever) on app.state.configs."""

    parsed: dict[int, MatchingConfig] = field(default_factory=dict)

    def remember(self, config_id: int, stored: Mapping[str, Any]) -> MatchingConfig:
        config = self.parsed.get(config_id)
        if config is None:
            config = self.parsed[config_id] = load_settings(stored)
        return config


def _read(row: asyncpg.Record, *, active_id: int | None) -> ConfigRead:
    stored: dict[str, Any] = dict(row["settings"])
    return ConfigRead(
        id=row["id"],
        settings=load_settings(stored).model_dump(mode="json"),
        note=row["note"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        active=row["id"] == active_id,
    )


async def ensure_default(*, pool: asyncpg.Pool[Any]) -> None:
    """Configuration 1 (the defaults) and its activation, when there is none yet."""
    async with pool.acquire() as connection, connection.transaction():
        await repository.lock_activations(connection)
        if await repository.active_config_id(connection) is not None:
            return
        if await repository.count_configs(connection) == 0:
            row = await repository.insert_config(
                connection,
                settings=MatchingConfig().model_dump(mode="json"),
                note=DEFAULT_NOTE,
                created_by=SYSTEM_ACTOR,
            )
            config_id = int(row["id"])
        else:
            config_id = int(await connection.fetchval("SELECT min(id) FROM matching_config"))
        await repository.insert_activation(
            connection,
            from_config_id=None,
            to_config_id=config_id,
            kind="initial",
            activated_by=SYSTEM_ACTOR,
        )
        logger.info("default matching config activated", extra={"config_id": config_id})


async def active_config(
    *, pool: asyncpg.Pool[Any], state: ConfigsState
) -> tuple[int, MatchingConfig]:
    """(id, config) of the active configuration; what routing uses."""
    async with pool.acquire() as connection:
        config_id = await repository.active_config_id(connection)
        if config_id is None:
            config_id = None
        else:
            cached = state.parsed.get(config_id)
            if cached is not None:
                return config_id, cached
            row = await repository.get_config(connection, config_id=config_id)
            assert row is not None
            return config_id, state.remember(config_id, row["settings"])
    await ensure_default(pool=pool)
    return await active_config(pool=pool, state=state)


async def config_by_id(
    *, pool: asyncpg.Pool[Any], state: ConfigsState, config_id: int
) -> MatchingConfig:
    cached = state.parsed.get(config_id)
    if cached is not None:
        return cached
    async with pool.acquire() as connection:
        row = await repository.get_config(connection, config_id=config_id)
    if row is None:
        raise NotFoundError(f"No matching configuration {config_id}.")
    return state.remember(config_id, row["settings"])


async def create_config(*, pool: asyncpg.Pool[Any], body: ConfigCreate) -> ConfigRead:
    config = validate_settings(body.settings)
    async with pool.acquire() as connection:
        row = await repository.insert_config(
            connection,
            settings=config.model_dump(mode="json"),
            note=body.note,
            created_by=body.created_by,
        )
        active_id = await repository.active_config_id(connection)
    logger.info("matching config created", extra={"config_id": row["id"]})
    return _read(row, active_id=active_id)


async def get_config(*, pool: asyncpg.Pool[Any], config_id: int) -> ConfigRead:
    async with pool.acquire() as connection:
        row = await repository.get_config(connection, config_id=config_id)
        active_id = await repository.active_config_id(connection)
    if row is None:
        raise NotFoundError(f"No matching configuration {config_id}.")
    return _read(row, active_id=active_id)


async def get_active(*, pool: asyncpg.Pool[Any]) -> ConfigRead:
    async with pool.acquire() as connection:
        active_id = await repository.active_config_id(connection)
    if active_id is None:
        await ensure_default(pool=pool)
        return await get_active(pool=pool)
    return await get_config(pool=pool, config_id=active_id)


def _before(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    (value,) = decode_cursor(cursor, arity=1)
    return int(value) if isinstance(value, int) else None


async def list_configs(*, pool: asyncpg.Pool[Any], limit: int, cursor: str | None) -> ConfigList:
    async with pool.acquire() as connection:
        rows = await repository.list_configs(connection, limit=limit + 1, before=_before(cursor))
        active_id = await repository.active_config_id(connection)
    items = [_read(row, active_id=active_id) for row in rows[:limit]]
    next_cursor = encode_cursor([items[-1].id]) if len(rows) > limit else None
    return ConfigList(items=items, next_cursor=next_cursor)


async def list_activations(
    *, pool: asyncpg.Pool[Any], limit: int, cursor: str | None
) -> ActivationList:
    async with pool.acquire() as connection:
        rows = await repository.list_activations(
            connection, limit=limit + 1, before=_before(cursor)
        )
    items = [ActivationRead.model_validate(dict(row)) for row in rows[:limit]]
    next_cursor = encode_cursor([items[-1].id]) if len(rows) > limit else None
    return ActivationList(items=items, next_cursor=next_cursor)


async def _activate_locked(
    connection: repository.Connection, *, config_id: int, activated_by: str, kind: str
) -> ConfigRead:
    row = await repository.get_config(connection, config_id=config_id)
    if row is None:
        raise NotFoundError(f"No matching configuration {config_id}.")
    current = await repository.active_config_id(connection)
    if current != config_id:
        await repository.insert_activation(
            connection,
            from_config_id=current,
            to_config_id=config_id,
            kind=kind,
            activated_by=activated_by,
        )
        logger.info(
            "matching config activated",
            extra={"from_config_id": current, "to_config_id": config_id, "kind": kind},
        )
    return _read(row, active_id=config_id)


async def activate(*, pool: asyncpg.Pool[Any], config_id: int, activated_by: str) -> ConfigRead:
    """Makes ``config_id`` active (an earlier id is a rollback to it). Already active: no-op."""
    async with pool.acquire() as connection, connection.transaction():
        await repository.lock_activations(connection)
        return await _activate_locked(
            connection, config_id=config_id, activated_by=activated_by, kind="activate"
        )


async def rollback(*, pool: asyncpg.Pool[Any], activated_by: str) -> ConfigRead:
    """Back to the configuration that was active before the current one (the latest
    activation's origin; a second rollback therefore undoes the first)."""
    async with pool.acquire() as connection, connection.transaction():
        await repository.lock_activations(connection)
        latest = await repository.latest_activation(connection)
        if latest is None or latest["from_config_id"] is None:
            raise NothingToRollBackError(
                "No earlier configuration was active; nothing to roll back to."
            )
        return await _activate_locked(
            connection,
            config_id=int(latest["from_config_id"]),
            activated_by=activated_by,
            kind="rollback",
        )
