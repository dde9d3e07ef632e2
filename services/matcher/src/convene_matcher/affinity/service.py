"""Affinity: the routing relevance rule applied to a researcher's papers and candidate texts."""

from __future__ import annotations

import logging

import numpy as np

from convene_matcher.affinity.schemas import AffinityRequest, AffinityResponse, Paper
from convene_matcher.config import MatcherSettings
from convene_matcher.embedding.embedder import Embedder
from convene_matcher.errors import AffinityLimitError, MatcherError
from convene_matcher.scoring import MatchingConfig, relevance_matrix

logger = logging.getLogger("convene.matcher.affinity")


def _validate(papers: list[Paper], *, what: str, max_count: int, max_chars: int) -> list[str]:
    if len(papers) > max_count:
        raise AffinityLimitError(f"At most {max_count} {what} per request; got {len(papers)}.")
    texts = []
    for position, paper in enumerate(papers):
        text = paper.content()
        if not text.strip():
            raise MatcherError(f"{what}[{position}] has no title, abstract or text.")
        if len(text) > max_chars:
            raise AffinityLimitError(f"{what}[{position}] is longer than {max_chars} characters.")
        texts.append(text)
    return texts


async def score(
    request: AffinityRequest,
    *,
    embedder: Embedder,
    settings: MatcherSettings,
    config: MatchingConfig,
) -> AffinityResponse:
    paper_texts = _validate(
        request.researcher.papers,
        what="papers",
        max_count=settings.affinity_max_papers,
        max_chars=settings.affinity_max_text_chars,
    )
    candidate_texts = _validate(
        request.candidates,
        what="candidates",
        max_count=settings.affinity_max_candidates,
        max_chars=settings.affinity_max_text_chars,
    )
    if not candidate_texts:
        return AffinityResponse(scores=[])
    # Memory cache only: affinity stores nothing.
    vectors = await embedder.embed(paper_texts + candidate_texts, persist=False)
    papers, candidates = vectors[: len(paper_texts)], vectors[len(paper_texts) :]
    # Papers are the researcher's own writing, weighted 1 like experience passages: the
    # routing rule as is, with the texts so its lexical part applies
    # (MatchingConfig.lexical_weight).
    scores = relevance_matrix(
        papers,
        candidates,
        config=config,
        item_texts=paper_texts,
        query_texts=candidate_texts,
    )
    logger.debug(
        "affinity scored",
        extra={
            "papers": len(paper_texts),
            "candidates": len(candidate_texts),
            "lexical_weight": config.lexical_weight,
        },
    )
    return AffinityResponse(scores=[round(float(value), 6) for value in np.asarray(scores)])
