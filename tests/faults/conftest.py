"""Fault tests share one suite with a PostgreSQL cluster of its own (made on first use)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.conftest import REPO_ROOT
from tests.faults.stack import FaultStack, fault_stack


@pytest.fixture(scope="session")
def fault_suite() -> Iterator[FaultStack]:
    # Beside the session's cluster (the server's user cannot read pytest's tmp folders here).
    base = REPO_ROOT / ".run" / f"faults-{os.getpid()}"
    try:
        with fault_stack(base) as stack:
            yield stack
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def stack(fault_suite: FaultStack) -> FaultStack:
    """The shared suite, healthy: whatever an earlier test stopped is started again."""
    fault_suite.ensure_healthy()
    return fault_suite
