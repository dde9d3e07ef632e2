"""Operability tests reuse the gateway tests' wiring: the three real apps in-process."""

from tests.gateway.conftest import (  # noqa: F401 (fixtures, found by pytest through here)
    calls_gateway,
    matcher_app,
    profiles_app,
    sentence_model,
)
