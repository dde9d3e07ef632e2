"""The active matching configuration for a request (routing's one hook into configs).

For routers not yet on the typed aliases (``ConfigsDep``, ``ActiveConfigDep`` in
``convene_matcher.dependencies``): the same objects, read from the typed state.
"""

from __future__ import annotations

from fastapi import Request

from convene_matcher.configs import service
from convene_matcher.configs.service import ConfigsState
from convene_matcher.scoring import MatchingConfig


def configs_state(request: Request) -> ConfigsState:
    state: ConfigsState | None = getattr(request.app.state, "configs", None)
    if state is None:
        state = request.app.state.configs = ConfigsState()
    return state


async def active_matching_config(request: Request) -> MatchingConfig:
    """The active configuration (read per request: activations on any replica apply at once)."""
    _, config = await service.active_config(
        pool=request.app.state.pool, state=configs_state(request)
    )
    return config
