"""Bulk embedding on Ray Data: the same code runs in local mode here and on a cluster.

``embed_on_ray(spec, texts, ...)`` streams ``ray.data.from_items`` through
``map_batches(RayEmbedder, ...)``: each actor loads the model once (``EmbeddingSpec.load``,
so a worker on another machine needs only the model folder at the same path) and embeds
with ``Embedder.encode_normalised``, the recipe the serving matcher uses. Batches of
vectors come back to the caller's ``on_batch`` in the order Ray yields them (positions say
which texts they are), so the caller writes them away as they arrive.

Local mode (no ``address``): ``ray.init(num_cpus=..., include_dashboard=False)`` on
127.0.0.1 with usage statistics off, shut down when the job ends. With ``address`` (a
cluster's ``ray://`` or ``auto``) nothing else changes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from convene_matcher.embedding.backends import EmbeddingSpec

logger = logging.getLogger("convene.matcher.reembed")

Batch = dict[str, npt.NDArray[Any]]


class RayEmbedder:
    """A Ray Data actor: the target model, loaded once per actor."""

    def __init__(self, spec: EmbeddingSpec) -> None:
        from convene_matcher.embedding.embedder import Embedder

        model, _ = spec.load()
        self._embedder = Embedder(
            model=model, model_name=spec.version, batch_size=spec.batch_size, cache_entries=0
        )

    def __call__(self, batch: Batch) -> Batch:
        texts = [str(text) for text in batch["text"]]
        return {
            "position": np.asarray(batch["position"], dtype=np.int64),
            "vector": self._embedder.encode_normalised(texts),
        }


@dataclass(frozen=True, slots=True)
class RayOptions:
    address: str | None = None
    num_cpus: int = 2
    concurrency: int = 1
    batch_size: int = 256
    object_store_bytes: int = 200 * 1024 * 1024


def embed_on_ray(
    spec: EmbeddingSpec,
    texts: Sequence[str],
    *,
    options: RayOptions,
    on_batch: Callable[[npt.NDArray[np.int64], npt.NDArray[np.float32]], None],
) -> None:
    """Embeds ``texts`` (already normalised) on Ray; ``on_batch(positions, vectors)`` per
    batch of results. Blocking: run it in a worker thread."""
    if not texts:
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    started_here = False
    if not ray.is_initialized():
        if options.address is None:
            ray.init(
                num_cpus=options.num_cpus,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                object_store_memory=options.object_store_bytes,
                log_to_driver=False,
                configure_logging=False,
            )
        else:
            ray.init(address=options.address, log_to_driver=False, configure_logging=False)
        started_here = True
    try:
        # One CPU and one model thread per actor: Ray places actors, not threads.
        actor_spec = replace(spec, threads=1)
        dataset = ray.data.from_items(
            [{"position": n, "text": text} for n, text in enumerate(texts)],
            override_num_blocks=max(1, -(-len(texts) // options.batch_size)),
        ).map_batches(
            RayEmbedder,
            fn_constructor_kwargs={"spec": actor_spec},
            batch_size=options.batch_size,
            compute=ray.data.ActorPoolStrategy(size=options.concurrency),
            num_cpus=1,
            batch_format="numpy",
        )
        for batch in dataset.iter_batches(batch_size=options.batch_size, batch_format="numpy"):
            on_batch(
                np.asarray(batch["position"], dtype=np.int64),
                np.asarray(batch["vector"], dtype=np.float32),
            )
    finally:
        if started_here:
            ray.shutdown()
