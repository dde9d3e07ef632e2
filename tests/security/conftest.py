"""One running suite per session (gateway + real profiles + real matcher when wired)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from convene_common.embedded_pg import EmbeddedPostgres

# The in-process gateway fixtures, for tests that need an app of their own settings.
from tests.gateway.conftest import profiles_app  # noqa: F401
from tests.security.harness import Suite, SuiteRunner, gateway_supports_matcher


def _sentence_model() -> Any:
    if not gateway_supports_matcher():
        return None
    from tests.conftest import load_served_model

    return load_served_model(threads=1)


@pytest.fixture(scope="session")
def suite(
    pg_cluster: EmbeddedPostgres, template_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Suite]:
    runner = SuiteRunner(
        cluster=pg_cluster,
        template=template_database,
        index_dir=Path(tmp_path_factory.mktemp("matcher-index")),
        sentence_model=_sentence_model(),
    )
    suite = runner.start()
    try:
        yield suite
    finally:
        runner.stop()


@pytest.fixture(scope="session")
def openapi(suite: Suite) -> dict[str, Any]:
    response = suite.client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document
