"""Scoring shared by routing and /v1/affinity (kept apart from panel selection).

- ``MatchingConfig``: every weight, depth and threshold, with documented defaults; routing
  extends it (subclass or add fields) and admins version it.
- ``aggregate_top_k(similarities, top_k)``: a person's relevance from their item
  similarities: the mean of the ``top_k`` best; with fewer items, the mean of those that exist.
- ``relevance_matrix(item_vectors, query_vectors, config, item_weights, item_texts,
  query_texts)``: one relevance per query for one person's items (what /v1/affinity
  returns): ``(1 - lexical_weight) x`` top-k mean of cosines ``+ lexical_weight x`` top-k
  mean of lexical similarities (the latter only when the texts are given).
- ``lexical_similarity(a, b, idf_floor)`` / ``lexical_similarity_matrix``: cosine of
  tf x general-English-IDF word vectors (``scoring.lexical``; wordfreq tables, stateless).
- ``item_weight(item, config, now)``: the multiplier an item's similarity gets (skill level,
  kind, a contribution's rating decayed at ``now``); ``counts_as_evidence`` leaves out
  contributions whose rating weighs nothing.
- ``group_hits(scores, ids, store)`` and ``citizen_relevance(hits, config, query_text)``:
  from an index search to per-citizen relevance; pass the call's text as ``query_text`` so
  routing applies the same lexical part as /v1/affinity (without it: cosines only).
"""

from convene_matcher.scoring.config import MatchingConfig
from convene_matcher.scoring.lexical import lexical_similarity, lexical_similarity_matrix
from convene_matcher.scoring.relevance import (
    Hit,
    aggregate_top_k,
    citizen_relevance,
    counts_as_evidence,
    group_hits,
    item_weight,
    rating_decay,
    relevance_matrix,
)

__all__ = [
    "Hit",
    "MatchingConfig",
    "aggregate_top_k",
    "citizen_relevance",
    "counts_as_evidence",
    "group_hits",
    "item_weight",
    "lexical_similarity",
    "lexical_similarity_matrix",
    "rating_decay",
    "relevance_matrix",
]
