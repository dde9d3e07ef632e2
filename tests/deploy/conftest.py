"""The monitoring checks scrape the real apps, wired in-process as the gateway tests do."""

from tests.gateway.conftest import (  # noqa: F401 (fixtures, found by pytest through here)
    calls_gateway,
    matcher_app,
    profiles_app,
    sentence_model,
)
