"""The product's routing, in process: people go in through the matcher's own feed path
(a ``MatchSnapshot`` per person with one experience entry per earlier answer, applied by
``EvidenceService.apply_changes`` exactly as the profiles change feed is: passages, one
vector per distinct text, the evidence index and the citizen store), and every call goes
through ``routing.service.route_request`` and ``routing.pipeline.route`` with a
``MatchingConfig``: retrieval, relevance, filters, scores, panel. No database: the feed
path and the pipeline take none (the embedding cache is this benchmark's own, on disk)."""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from bench.crossperson.data import Call, Split
from convene_matcher.calls.schemas import CallRead
from convene_matcher.citizens.schemas import Change, Consent, Experience, MatchSnapshot
from convene_matcher.embedding.embedder import Embedder, SentenceModel, Vectors
from convene_matcher.index.evidence_index import IndexParams
from convene_matcher.index.service import EvidenceService
from convene_matcher.routing import pipeline
from convene_matcher.routing.service import route_request
from convene_matcher.scoring import MatchingConfig

# The product's limit on an experience entry's description (issue 12): longer answers are cut.
MAX_DESCRIPTION = 4_000
BODY = uuid.UUID("00000000-0000-4000-8000-00000000c0de")
SAVE_EVERY = 512


class CachedModel:
    """A sentence model whose vectors are kept on disk by text (sha256), so reruns embed
    only what is new. Same ``encode`` contract as sentence-transformers."""

    def __init__(self, model: SentenceModel, path: Path) -> None:
        self.model = model
        self.path = path
        self.vectors: dict[bytes, Vectors] = {}
        self.dirty = False
        if path.exists():
            with np.load(path) as stored:
                keys, values = stored["keys"], stored["vectors"]
            self.vectors = {bytes(k): v for k, v in zip(keys, values, strict=True)}

    def get_embedding_dimension(self) -> int | None:
        return self.model.get_embedding_dimension()

    def encode(self, sentences: list[str], **kwargs: Any) -> Vectors:
        keys = [hashlib.sha256(s.encode()).digest()[:16] for s in sentences]
        missing = [i for i, k in enumerate(keys) if k not in self.vectors]
        # In chunks, saved after each: an interrupted first run keeps what it embedded.
        for start in range(0, len(missing), SAVE_EVERY):
            chunk = missing[start : start + SAVE_EVERY]
            fresh = np.asarray(
                self.model.encode([sentences[i] for i in chunk], **kwargs), dtype=np.float32
            )
            for i, vector in zip(chunk, fresh, strict=True):
                self.vectors[keys[i]] = vector
            self.dirty = True
            self.save()
        return np.stack([self.vectors[k] for k in keys]).astype(np.float32)

    def save(self) -> None:
        if not self.dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self.vectors), dtype="S16")
        values = np.stack(list(self.vectors.values())).astype(np.float32)
        temporary = self.path.with_suffix(".tmp.npz")
        np.savez(temporary, keys=keys, vectors=values)
        temporary.replace(self.path)
        self.dirty = False


def snapshot(person: str, split: Split) -> MatchSnapshot:
    """A person as the profiles feed would publish them: consent to matching, one
    experience entry per earlier answer (the question's title, the answer as description)."""
    return MatchSnapshot(
        citizen_id=person,
        consent=Consent(matching=True),
        experience=[
            Experience(
                id=f"{person}/{entry.answer_id}",
                kind="other",
                title=entry.title[:200],
                description=entry.text[:MAX_DESCRIPTION],
            )
            for entry in split.evidence[person]
        ],
    )


def call_read(call: Call, *, title_only: bool) -> CallRead:
    return CallRead(
        id=uuid.uuid5(BODY, f"{call.question_id}"),
        public_body_id=BODY,
        public_body_name="Cross-person benchmark",
        title=call.title[:200],
        description="" if title_only else call.body[:MAX_DESCRIPTION],
        questions=[],
        skills=[],
        perspectives=[],
        place=None,
        languages=[],
        access_offered=[],
        hours=None,
        deadline=call.created + timedelta(days=30),
        panel_size=1,
        conflicts=[],
        confidentiality="public",
        status="open",
        created_at=call.created,
    )


class ProductRouter:
    """The matcher's evidence service and routing pipeline over one population."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._directory = tempfile.TemporaryDirectory(prefix="xbench-index-")
        self.evidence = EvidenceService(
            embedder=embedder,
            pool=None,
            index_dir=Path(self._directory.name),
            params=IndexParams(),
        )

    async def load(self, splits: Sequence[Split]) -> int:
        """Applies every person as one feed change; returns the evidence items indexed."""
        changes = []
        for split in splits:
            for person in split.people:
                changes.append(
                    Change(
                        seq=len(changes) + 1,
                        citizen_id=person,
                        kind="upsert",
                        snapshot=snapshot(person, split),
                    )
                )
        await self.evidence.apply_changes(changes)
        return self.evidence.store.item_count

    async def rank(
        self, calls: Sequence[Call], *, config: MatchingConfig, title_only: bool
    ) -> list[list[str]]:
        reads = [call_read(call, title_only=title_only) for call in calls]
        texts = [pipeline.query_texts(read, config=config) for read in reads]
        flat = [text for call_texts in texts for text in call_texts]
        vectors = await self.embedder.embed(flat)
        rankings: list[list[str]] = []
        offset = 0
        for read, call_texts in zip(reads, texts, strict=True):
            queries = vectors[offset : offset + len(call_texts)]
            offset += len(call_texts)
            request = route_request(
                read,
                call_texts,
                queries,
                index=self.evidence.index,
                config=config,
                now=read.created_at,
                salt=f"call:{read.id}",
                invitations={},
                feedback={},
            )
            routed = pipeline.route(self.evidence.store, request)
            rankings.append([scored.citizen_id for scored in routed.ranked])
        return rankings

    def close(self) -> None:
        self._directory.cleanup()
