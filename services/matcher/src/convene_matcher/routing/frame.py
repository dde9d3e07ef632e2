"""Routing's types: what the pipeline is asked, the candidate frame its stages fill, and what
it returns. Pure (numpy and dataclasses only)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from convene_matcher.calls.schemas import CallRead
from convene_matcher.panel import PanelResult
from convene_matcher.scoring import Hit, MatchingConfig

FloatArray = npt.NDArray[np.float32]
Float64s = npt.NDArray[np.float64]
Int64s = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
TextScores = tuple[Int64s, FloatArray]


@dataclass(frozen=True, slots=True)
class CallFilter:
    """What the hard filters need of a call (organisation names as ``names`` keys)."""

    now: datetime
    deadline: datetime
    conflicts: frozenset[str]  # organisation keys
    body: str  # organisation key of the posting body
    body_staff_allowed: bool
    authority_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    languages: frozenset[str] = frozenset()
    # Access needs the body said it cannot meet (casefolded): only these exclude.
    access_not_offered: frozenset[str] = frozenset()

    @property
    def has_place(self) -> bool:
        return self.authority_code is not None or self.radius_km is not None


@dataclass(frozen=True, slots=True)
class TextSimilarity:
    """How the index scores the call's query vectors against distinct texts:
    ``all_text_scores`` (best over the queries) while the index is exact, else
    ``search_queries``; ``score_texts`` scores given text ids exactly (best over the queries).

    ``search_queries(ks, deep)``: each query's ``ks[i]`` best texts (ids, scores best first;
    0: not searched), a shallow search (efSearch k) unless ``deep[i]`` (at least the query's
    own efSearch). ``first_k`` is each query's k of a first, shallow round."""

    all_text_scores: Callable[[], TextScores] | None
    search_queries: Callable[[Sequence[int], Sequence[bool]], list[TextScores]]
    score_texts: Callable[[Int64s], TextScores]
    first_k: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """Everything the pipeline needs besides the citizen store."""

    call: CallRead
    call_filter: CallFilter
    similarity: TextSimilarity
    config: MatchingConfig
    salt: str
    query_text: str | None = None
    invitations: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    feedback: Mapping[tuple[str, str], int] = field(default_factory=dict)
    # Replays (evaluation): evidence created at or after this instant is left out.
    evidence_before: datetime | None = None
    # False where only the ranking is wanted (routing batches pick panels for all calls
    # together): no panel of the call alone, whose solver may take seconds per call.
    with_panel: bool = True


@dataclass(slots=True)
class CandidateFrame:
    """One row per candidate (``slots``) and, for relevance, one row per item of each
    candidate (``rows``, in runs of ``counts``); the stages fill the rest in order."""

    slots: Int64s
    counts: Int64s
    rows: Int64s
    texts: Int64s  # text id per item row
    positions: Int64s  # per item row, its index in the citizen's items (store.items_of)
    holders: dict[str, Bools]  # wanted role -> candidate holds it
    is_holder: Bools
    retrieved: int
    role_holders: int
    dense: FloatArray  # similarity by text id (NaN: not scored)
    # Exact scores still being computed (``settle_similarities`` collects them).
    pending: Future[TextScores] | None = None
    raw: FloatArray = field(default_factory=lambda: np.zeros(0, np.float32))  # per item row
    damping: FloatArray = field(default_factory=lambda: np.zeros(0, np.float32))
    # Per item row, scoring.item_weight of its item (level, kind, rating, record), undamped.
    item_weights: FloatArray = field(default_factory=lambda: np.zeros(0, np.float32))
    relevance: FloatArray = field(default_factory=lambda: np.zeros(0, np.float32))
    lexical_used: bool = False
    verified: Int64s = field(default_factory=lambda: np.zeros(0, np.int64))
    reason: Int64s = field(default_factory=lambda: np.zeros(0, np.int64))
    locality: Float64s = field(default_factory=lambda: np.zeros(0, np.float64))
    window: Int64s = field(default_factory=lambda: np.zeros(0, np.int64))
    eligible: Bools = field(default_factory=lambda: np.zeros(0, np.bool_))
    rating: Float64s = field(default_factory=lambda: np.zeros(0, np.float64))
    track: Float64s = field(default_factory=lambda: np.zeros(0, np.float64))
    factor: Float64s = field(default_factory=lambda: np.zeros(0, np.float64))
    score: Float64s = field(default_factory=lambda: np.zeros(0, np.float64))

    @property
    def size(self) -> int:
        return len(self.slots)

    def settle_similarities(self) -> None:
        """Fills ``dense`` with the exact scores retrieval started (waiting for them) and
        ``raw``, the similarity of each item row (0 for a text no index holds)."""
        if self.pending is None and len(self.raw) == len(self.texts):
            return  # settled already
        if self.pending is not None:
            found, exact = self.pending.result()
            self.pending = None
            self.dense[found] = exact
        self.raw = np.nan_to_num(self.dense[self.texts], nan=0.0)


@dataclass(frozen=True, slots=True)
class RoleSummary:
    total: int  # live holders
    available: int  # holders passing every filter
    rejected: dict[str, int]  # filter reason -> holders it removed


@dataclass(slots=True)
class Scored:
    citizen_id: str
    score: float
    adjustments: dict[str, float]
    hits: list[Hit]
    roles: list[str]
    affiliations: frozenset[str]
    access_needs: frozenset[str] = frozenset()


@dataclass(slots=True)
class Routed:
    ranked: list[Scored]  # the best eligible candidates (shortlist + role picks), best first
    panel: PanelResult
    roles: dict[str, RoleSummary]
    retrieved: int
    role_holders: int
    eligible: int
    filtered: dict[str, int] = field(default_factory=dict)
