"""The audit's parallel stages on a Ray cluster (``pip install 'sftaudit[ray]'``); see docs/scale.md.

* **Embedding**: Ray Data ``map_batches`` over the blocks of :meth:`BaseEmbedder.blocks`, in a pool of actors that
  each load the encoder once (``num_gpus`` per actor where the cluster has GPUs). Each actor encodes a block as it
  is, so the vectors are the bits the local backend computes (on the same kind of device).
* **Per-sample scorers** (:attr:`Scorer.per_sample`): ``map_batches`` with a plain function over chunks of rows;
  each chunk runs every such scorer, the driver joins the rows and rebuilds each summary
  (:func:`scorers.backends.join_chunks`).
* **Everything dataset-wide** runs on the driver, over the vectors and results the workers sent back.
  MinHash signatures stay there too: the shingle hashes are ids in a vocabulary built over the whole dataset
  (``scorers._minhash.build_shingles``), so a chunk cannot compute its rows' signatures alone.

The driver consumes results as they stream in and reports progress after each; a cancelled job's progress callback
raises, which stops the stream (Ray Data shuts the running tasks and actors down).

Rows and blocks travel pickled: texts may hold lone surrogates that Arrow strings refuse, and a pickled
:class:`ScorerResult` comes back as the same objects.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scorers.backends import ChunkPart, Heard, chunk_bounds, join_parts, score_chunk
from scorers.base import Scorer, ScorerResult
from scorers.models import ModelConfig
from scorers.samples import Sample

if TYPE_CHECKING:
    from scorers.context import ScoringContext
    from scorers.embeddings import BaseEmbedder


def _require_ray() -> Any:
    try:
        import ray
    except ImportError as e:  # pragma: no cover - depends on the install
        raise RuntimeError("the Ray backend needs Ray: pip install 'sftaudit[ray]'") from e
    return ray


class RayBackend:
    """Run the embedding and per-sample stages on Ray.

    ``address``: ``local`` starts a Ray instance in this process (``num_cpus`` of this machine), ``auto`` joins the
    cluster this machine belongs to, ``ray://head:10001`` a remote cluster through Ray Client. ``actors``: encoder
    actors (default: one per GPU where there are GPUs, else one per CPU of the cluster). ``chunk_rows``: rows per
    per-sample chunk. ``workers``: at most this many encoder actors and chunk tasks at once (default: as many as
    the cluster holds; the bench compares 1 with 2). ``ship_code``: send this process's ``scorers`` package to the workers (``py_modules``), so
    they run the driver's code whatever is installed on the nodes.
    """

    name = "ray"

    def chunks_per_sample(self, rows: int) -> bool:
        return True

    def __init__(
        self,
        address: str = "local",
        *,
        num_cpus: int | None = None,
        actors: int | None = None,
        gpus_per_actor: float | None = None,
        chunk_rows: int = 5000,
        workers: int | None = None,
        ship_code: bool = True,
    ):
        self.workers = workers
        self.address, self.num_cpus, self.actors = address, num_cpus, actors
        self.gpus_per_actor, self.chunk_rows, self.ship_code = gpus_per_actor, chunk_rows, ship_code

    # --- the cluster ----------------------------------------------------------------------------
    def connect(self) -> Any:
        """Join (or start) the cluster once per process; a driver that already called ``ray.init`` keeps its own."""
        ray = _require_ray()
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"address": self.address, "log_to_driver": False, "include_dashboard": False}
            if self.address == "local" and self.num_cpus is not None:
                kwargs["num_cpus"] = self.num_cpus
            if self.ship_code:
                kwargs["runtime_env"] = code_env()
            ray.init(**kwargs)
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        return ray

    def _gpus(self, ray: Any) -> float:
        if self.gpus_per_actor is not None:
            return self.gpus_per_actor
        return 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0

    def _actors(self, ray: Any, gpus: float) -> int:
        res = ray.cluster_resources()
        n = self.actors or max(1, int(res.get("GPU", 0) // gpus) if gpus else int(res.get("CPU", 1)))
        return min(n, self.workers) if self.workers else n

    # --- the stages -------------------------------------------------------------------------------
    def encode_blocks(self, embedder: BaseEmbedder, blocks: Sequence[list[str]], heard: Heard) -> None:
        ray = self.connect()
        gpus = self._gpus(ray)
        size = min(self._actors(ray, gpus), len(blocks))
        rows = [{"block": i, "texts": pickle.dumps(b)} for i, b in enumerate(blocks)]
        ds = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
            EncodeBlocks,
            fn_constructor_kwargs={"models": embedder_models(embedder, gpus)},
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=size),
            num_cpus=0 if gpus else 1,
            num_gpus=gpus,
        )
        done = 0
        for row in ds.iter_rows():
            block = blocks[int(row["block"])]
            embedder.remember(block, np.frombuffer(row["vectors"], dtype=np.float32).reshape(len(block), -1))
            done += 1
            heard(done, len(blocks))

    def score_per_sample(
        self, scorers: Sequence[Scorer], samples: Sequence[Sample], ctx: ScoringContext, heard: Heard
    ) -> dict[str, ScorerResult]:
        if not samples or not scorers:
            return {}
        ray = self.connect()
        bounds = chunk_bounds(len(samples), self.chunk_rows)
        rows = [{"chunk": i, "samples": pickle.dumps(list(samples[a:b]))} for i, (a, b) in enumerate(bounds)]
        ds = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
            score_chunks,
            fn_kwargs={
                "scorers": pickle.dumps(list(scorers)),
                "models": ctx.models.model_dump(),
                "seed": ctx.seed,
                "read": list(ctx.read_ahead),
            },
            batch_size=1,
            num_cpus=1,
            compute=ray.data.TaskPoolStrategy(size=self.workers) if self.workers else None,
        )
        parts: dict[int, ChunkPart] = {}
        for row in ds.iter_rows():
            parts[int(row["chunk"])] = pickle.loads(row["results"])
            heard(len(parts), len(bounds))
        return join_parts(scorers, samples, [parts[i] for i in range(len(bounds))], ctx)


def node_ip() -> str:
    """This machine's address as Ray sees it (a cluster started here listens on it, not on 127.0.0.1)."""
    from ray.util import get_node_ip_address

    return str(get_node_ip_address())


def code_env() -> dict[str, Any]:
    """The runtime environment that ships the driver's ``scorers`` package to every worker."""
    import scorers

    return {"py_modules": [str(Path(scorers.__file__).parent)]}


def embedder_models(embedder: BaseEmbedder, gpus: float) -> dict[str, Any]:
    """The model config an actor needs to load the same encoder: its directory (the same path on every node), on
    the device its resources give it (not the driver's), in the driver's arithmetic (the vectors are cached under
    the driver's model id, which names it)."""
    return {
        "embedding_model": str(embedder.model_path),
        "device": "cuda" if gpus else "cpu",
        "embedding_precision": embedder.precision,
    }


class EncodeBlocks:
    """A Ray Data actor: loads the full encoder once, then encodes block after block as given."""

    def __init__(self, models: dict[str, Any]):
        from scorers.embeddings import get_embedder

        self.embedder = get_embedder(ModelConfig(**models), tier="full")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = [self.embedder.encode_block(pickle.loads(b)).astype(np.float32).tobytes() for b in batch["texts"]]
        return {"block": batch["block"], "vectors": np.array(out, dtype=object)}


def score_chunks(
    batch: dict[str, np.ndarray], scorers: bytes, models: dict[str, Any], seed: int, read: Sequence[str] = ()
) -> dict[str, np.ndarray]:
    """A Ray Data task: every per-sample scorer over each chunk of the batch, and the views read ahead
    (:func:`scorers.backends.score_chunk`)."""
    instances: list[Scorer] = pickle.loads(scorers)
    config = ModelConfig(**models)
    out = [pickle.dumps(score_chunk(pickle.loads(blob), instances, config, seed, read)) for blob in batch["samples"]]
    return {"chunk": batch["chunk"], "results": np.array(out, dtype=object)}
