"""MatchingConfig: the tunable numbers of matching, with their defaults and why."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from convene_matcher.evidence.items import EVIDENCE_KINDS, LEVELS, EvidenceKind


def _default_level_weights() -> dict[str, float]:
    return {"want_to_learn": 0.4, "can_explain": 0.8, "can_connect": 0.7, "can_do": 1.0}


def _default_kind_weights() -> dict[EvidenceKind, float]:
    return dict.fromkeys(EVIDENCE_KINDS, 1.0)


RATINGS = ("1", "2", "3", "4", "5")


def _default_contribution_rating_weights() -> dict[str, float]:
    return {"1": 0.0, "2": 0.0, "3": 0.5, "4": 0.8, "5": 1.0}


class MatchingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # -- relevance (item similarities -> one number per person) -------------------------
    top_k: int = Field(
        default=3,
        ge=1,
        le=50,
        description=(
            "Relevance = mean of the top_k best item similarities (fewer items: mean of "
            "those). Gold standard, 10 variants: k=1 (max) 0.240, k=2 0.214, k=3 0.211, "
            "k=5 0.219 loss."
        ),
    )
    lexical_weight: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description=(
            "Relevance = (1 - w) x top-k mean of MiniLM cosines + w x top-k mean of lexical "
            "cosines (scoring.lexical: tf x general-English IDF from wordfreq, stateless), "
            "when the texts are at hand (0 = MiniLM only). Gold standard, 10 variants, "
            "idf_floor 4: w=0 0.213, 0.2 0.208, 0.25 0.208, 0.3 0.204, 0.35 0.203, "
            "0.4 0.208, 0.45 0.210 loss; 0.3-0.35 is good for idf floors 0-6, 0.3 has the "
            "smaller worst case. Words in a call that also appear, rare, in a person's "
            "evidence are evidence MiniLM's 256-piece, general-domain vectors blur."
        ),
    )
    lexical_idf_floor: float = Field(
        default=4.0,
        ge=0,
        le=18,
        description=(
            "Lexical weight of a word = max(0, -ln frequency - floor): 4 gives the handful "
            "of words above 1.8% frequency ('the', 'of', 'and', 'to', 'in') no weight, a "
            "stop-word list without a list. Floors 0-6 lie within 0.004 loss of each other."
        ),
    )
    similarity_weight: float = Field(
        default=1.0, ge=0, description="Weight of semantic relevance in the routing score."
    )
    min_similarity: float = Field(
        default=0.1,
        ge=-1,
        le=1,
        description=(
            "Routing cut-off: a citizen whose relevance is below it is not a candidate; an "
            "item at or above it is on the call's topic (track record, verified badges). "
            "Cross-person benchmark (docs/benchmarks/cross-person.md, pooled, track record "
            "0.3), R@10 / MRR of the best answerer, full calls: 0.25 0.652 / 0.369, 0.2 "
            "0.690 / 0.392, 0.15 0.693 / 0.396, 0.1 0.687 / 0.391; title-only calls: 0.25 "
            "0.543 / 0.320, 0.15 0.635 / 0.366, 0.1 0.647 / 0.371. Relevance mixes in the "
            "lexical part, so a one-line call's true experts often score 0.1-0.25: 0.25 left "
            "a third of them out of the ranking altogether."
        ),
    )
    level_weights: dict[str, float] = Field(
        default_factory=_default_level_weights,
        description=(
            "Multiplier of a skill item's similarity by self-rated level: can_do highest, "
            "want_to_learn lowest (a learner is a voice, but not an expert)."
        ),
    )
    # Keys typed as the kinds, so an unknown kind is reported at settings.kind_weights.<key>.
    kind_weights: dict[EvidenceKind, float] = Field(
        default_factory=_default_kind_weights,
        description=(
            "Multiplier of an item's similarity by kind of evidence (skill, badge, role = "
            "lived experience or stake, contribution = rated past contribution). All 1 by "
            "default; e.g. role 1.3 weights lived experience more."
        ),
    )
    # -- imported records (issue 12) ----------------------------------------------------
    past_response_rating_slope: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description=(
            "An imported past consultation response's weight by the body's rating of it: "
            "1 + slope x (rating - 3) / 2 (slope 0.5: rating 1 -> 0.5, 3 -> 1, 5 -> 1.5); "
            "unrated: 1."
        ),
    )
    answer_base_weight: float = Field(
        default=0.8,
        ge=0,
        le=2,
        description=(
            "An uploaded Q&A answer's weight: base + vote_weight x min(1, ln(1 + score) / "
            "ln(1 + votes_saturation)) + accepted_bonus x accepted; a negative score counts "
            "as 0 votes and halves the whole weight. Defaults: 0.8 (no votes: the citizen's "
            "own words, a little below an experience entry's 1) to 1.2 (25+ votes and "
            "accepted): the community's votes attest usefulness."
        ),
    )
    answer_vote_weight: float = Field(
        default=0.3, ge=0, le=2, description="See answer_base_weight."
    )
    answer_votes_saturation: float = Field(
        default=25.0,
        gt=0,
        description="Votes at which an answer's vote term is full (log scale); see above.",
    )
    answer_accepted_bonus: float = Field(
        default=0.1, ge=0, le=2, description="Added when the asker accepted the answer."
    )
    # -- evidence bonuses --------------------------------------------------------------
    verified_badge_bonus: float = Field(
        default=0.05, ge=0, description="Added per relevant verified badge (capped at 2)."
    )
    rating_weight: float = Field(
        default=0.1, ge=0, description="Weight of the decayed rating aggregate (0..1 scale)."
    )
    track_record_weight: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description=(
            "How much a citizen's track record in the call's area counts: weight x min(1, "
            "ln(1 + items on the call's topic) / ln(101)), items on topic = evidence items "
            "(passages, rated contributions, skills) whose similarity reaches min_similarity. "
            "Across people, those who have done and said more about a topic answer it more "
            "often; a high weight favours the usual suspects over new voices (exposure "
            "damping still applies). Cross-person benchmark (pooled, min_similarity 0.1), "
            "R@10 / MRR, full calls: 0 0.652 / 0.314, 0.1 0.681 / 0.354, 0.3 0.687 / 0.391, "
            "0.5 0.672 / 0.398; title-only: 0 0.598 / 0.307, 0.1 0.632 / 0.344, 0.3 0.647 / "
            "0.371, 0.5 0.644 / 0.379. 0.3: R@10 at its best, most of the MRR gain, and the "
            "term (at most 0.3) stays below the spread of relevance. 0 = relevance alone."
        ),
    )
    rating_half_life_days: float = Field(
        default=365.0,
        gt=0,
        description=(
            "A contribution rating's weight halves every this many days, counted at routing "
            "time from each rating's date: rating = (3 x 2 + sum w_i r_i) / (2 + sum w_i), "
            "w_i = 0.5 ** (age_i / half_life) (profiles' prior: 3, weighted as two ratings)."
        ),
    )
    contribution_rating_weights: dict[str, float] = Field(
        default_factory=_default_contribution_rating_weights,
        description=(
            "Multiplier of a rated contribution's passages (its text is evidence) by the "
            "body's rating, then decayed by age: weight x 0.5 ** (age / "
            "rating_half_life_days). Defaults 1: 0, 2: 0 (a poorly rated contribution adds "
            "no evidence: its passages are left out, not merely weighted down), 3: 0.5, "
            "4: 0.8, 5: 1 (a fresh 5-star answer counts like a can_do skill)."
        ),
    )
    skill_code_bonus: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description=(
            "Added to an item's similarity (capped at 1) when it is a skill whose code (an "
            "ESCO URI) is exactly one of the call's wanted skill codes: a shared code is "
            "stronger evidence than similar words. 0 = codes ignored."
        ),
    )
    # -- place and fairness ------------------------------------------------------------
    locality_weight: float = Field(
        default=0.1, ge=0, description="Weight of being inside the call's place/radius."
    )
    exposure_damping: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="How strongly recent invitations lower a citizen's score (0 = not at all).",
    )
    # -- retrieval ---------------------------------------------------------------------
    retrieval_depth: int = Field(
        default=2_000,
        ge=10,
        le=100_000,
        description="Items fetched from the index per call before grouping per citizen.",
    )

    # -- routing a call (routing/, panel/) ----------------------------------------------
    skill_queries: bool = Field(
        default=True,
        description=(
            "Also embed each wanted skill label as its own query; an item's similarity is its "
            "best over the call text and the skills (a 'cycling' skill meets a 'cycling' ask "
            "even when the call text is about lanes)."
        ),
    )
    role_rescore_max: int = Field(
        default=2_000,
        ge=0,
        description=(
            "No effect (kept so stored configurations stay valid): routing now scores every "
            "holder of a wanted role exactly over all their items, vectorised, so no cap is "
            "needed."
        ),
    )
    candidate_pool_size: int = Field(
        default=300,
        ge=1,
        le=5_000,
        description=(
            "Panel selection sees the best this many eligible candidates plus the best "
            "panel_size holders of each wanted role."
        ),
    )
    shortlist_size: int = Field(
        default=50, ge=1, le=1_000, description="Candidates returned besides the panel."
    )
    max_affiliation_share: float = Field(
        default=0.34,
        gt=0,
        le=1,
        description=(
            "Most of a panel one organisation may fill: floor(share x panel_size), at "
            "least 1 (any affiliation kind)."
        ),
    )
    exposure_window_days: int = Field(
        default=90, ge=1, description="Invitations counted for exposure damping."
    )
    exposure_scale: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Damping factor 1 / (1 + exposure_damping x excess / exposure_scale), excess = "
            "invitations in the window above the candidates' median."
        ),
    )
    tie_tolerance: float = Field(
        default=1e-4,
        gt=0,
        description=(
            "Scores within this are ties, ordered by a key hashed from the seed (or the "
            "call id) and the citizen id."
        ),
    )
    panel_solver_time_limit_seconds: float = Field(
        default=2.0, gt=0, description="CP-SAT time limit when quotas bind."
    )

    @model_validator(mode="after")
    def _levels_known(self) -> MatchingConfig:
        unknown = set(self.level_weights) - set(LEVELS)
        if unknown:
            raise ValueError(f"unknown skill levels: {sorted(unknown)}")
        if set(self.contribution_rating_weights) != set(RATINGS):
            raise ValueError("contribution_rating_weights needs exactly the ratings 1 to 5")
        if any(not 0 <= w <= 10 for w in self.contribution_rating_weights.values()):
            raise ValueError("contribution_rating_weights must be between 0 and 10")
        return self
