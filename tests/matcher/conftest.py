"""Matcher tests: real PostgreSQL, the real model, the real profiles app in-process."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from convene_matcher.config import MatcherSettings
from convene_matcher.embedding.embedder import SentenceModel
from convene_matcher.main import create_app
from convene_profiles.config import ProfilesSettings
from convene_profiles.main import create_app as create_profiles_app
from tests.conftest import ONNX_DIR, FreshDatabase, load_served_model


class CountingModel:
    """The real model, counting the texts that reach it."""

    def __init__(self, model: SentenceModel) -> None:
        self._model = model
        self.texts: list[str] = []

    def encode(self, sentences: list[str], **kwargs: Any) -> Any:
        self.texts.extend(sentences)
        return self._model.encode(sentences, **kwargs)

    def get_embedding_dimension(self) -> int | None:
        return self._model.get_embedding_dimension()


@pytest.fixture(scope="session")
def sentence_model() -> SentenceModel:
    """The model of the default backend: the vectors the tests see are the served ones."""
    model: SentenceModel = load_served_model(threads=2)
    return model


@pytest.fixture
def counting_model(sentence_model: SentenceModel) -> CountingModel:
    return CountingModel(sentence_model)


MakeSettings = Callable[..., MatcherSettings]


@pytest.fixture
def make_settings(database: FreshDatabase, tmp_path: Path) -> MakeSettings:
    def make(**overrides: Any) -> MatcherSettings:
        values: dict[str, Any] = {
            "environment": "test",
            "database_url": database.dsn("matcher"),
            "database_pool_max": 4,
            "index_dir": tmp_path / "index",
            "onnx_dir": ONNX_DIR,
            "profiles_url": "http://profiles.test",
            # Tests drive the feed step by step (FeedConsumer.poll_once / catch_up).
            "feed_enabled": False,
            "feed_wait_seconds": 0,
        }
        values.update(overrides)
        return MatcherSettings(**values)

    return make


@pytest.fixture
async def profiles_app(database: FreshDatabase) -> AsyncIterator[FastAPI]:
    settings = ProfilesSettings(
        environment="test",
        database_url=database.dsn("profiles"),
        database_pool_max=4,
        erasure_salt="test-salt",
    )
    app = create_profiles_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def profiles(profiles_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=profiles_app), base_url="http://profiles.test"
    ) as client:
        yield client


class MatcherHarness:
    """Starts and stops matcher apps over one database / index dir (restarts included)."""

    def __init__(
        self, make_settings: MakeSettings, model: CountingModel, profiles_app: FastAPI
    ) -> None:
        self.make_settings = make_settings
        self.model = model
        self.profiles_transport = httpx.ASGITransport(app=profiles_app)

    def app(
        self, *, transport: httpx.AsyncBaseTransport | None = None, **overrides: Any
    ) -> FastAPI:
        return create_app(
            self.make_settings(**overrides),
            profiles_transport=transport or self.profiles_transport,
            embedding_model=self.model,
        )


@pytest.fixture
def harness(
    make_settings: MakeSettings, counting_model: CountingModel, profiles_app: FastAPI
) -> MatcherHarness:
    return MatcherHarness(make_settings, counting_model, profiles_app)


@pytest.fixture
async def matcher_app(harness: MatcherHarness) -> AsyncIterator[FastAPI]:
    app = harness.app()
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def matcher(matcher_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=matcher_app), base_url="http://matcher.test"
    ) as client:
        yield client


async def create_citizen(
    profiles: httpx.AsyncClient,
    *,
    skills: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> str:
    citizen_id = str(uuid.uuid4())
    response = await profiles.post(
        "/v1/citizens",
        json={"id": citizen_id, "email": f"{citizen_id[:8]}@example.org", "display_name": "C"},
    )
    assert response.status_code == 201, response.text
    for label, level in skills:
        response = await profiles.post(
            f"/v1/citizens/{citizen_id}/skills", json={"label": label, "level": level}
        )
        assert response.status_code == 201, response.text
    return citizen_id
