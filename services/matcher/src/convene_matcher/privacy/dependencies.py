"""Typed access to what the privacy routes need from the lifespan's state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from convene_common.db import Pool


def get_pool(request: Request) -> Pool:
    pool: Pool = request.app.state.pool
    return pool


PoolDep = Annotated[Pool, Depends(get_pool)]
