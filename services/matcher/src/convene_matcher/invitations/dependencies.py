"""Typed access to what the invitation routes need: the matcher's typed aliases
(convene_matcher.dependencies), re-exported so the room's routers import from one place."""

from __future__ import annotations

from convene_matcher.dependencies import PoolDep, ProfilesDep, SettingsDep, StoreDep

__all__ = ["PoolDep", "ProfilesDep", "SettingsDep", "StoreDep"]
