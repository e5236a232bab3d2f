"""Where an audit's parallel stages run: on this machine (:class:`LocalBackend`, the default: this process, and a
pool of processes for the per-sample scorers of a large dataset) or spread over a Ray cluster
(:class:`scorers._ray_backend.RayBackend`, the ``ray`` extra).

An audit has two stages that split into independent pieces, and the rest, which needs the whole dataset:

* **embedding**: the texts the scorers will embed on the full encoder, in the blocks :meth:`BaseEmbedder.blocks`
  gives; a block's vectors depend on that block alone, so any machine may encode it;
* **per-sample scoring**: the scorers marked :attr:`Scorer.per_sample`, over chunks of rows;
* the **dataset-wide steps** (duplicates, neighbours, clusters, label errors, the alignment fit) then run where the
  pipeline runs, over the vectors and results the stages returned.

Both backends encode the same blocks and join the same per-row results, so they give the same report bytes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Protocol, cast

from scorers.base import NotComputed, Scorer, ScorerResult
from scorers.context import READING_LANGUAGE
from scorers.models import ModelConfig
from scorers.samples import Sample
from scorers.text.memo import forget as forget_texts

if TYPE_CHECKING:
    from scorers.context import ScoringContext
    from scorers.embeddings import BaseEmbedder

log = logging.getLogger(__name__)

#: ``heard(done, total)``: how many of a stage's pieces are done (the pipeline turns it into progress; a cancelled
#: job's callback raises, which stops the stage).
Heard = Callable[[int, int], None]


class AuditBackend(Protocol):
    name: str

    def chunks_per_sample(self, rows: int) -> bool:
        """Whether :meth:`score_per_sample` scores the per-sample scorers of a dataset of ``rows`` rows itself (else
        the pipeline runs them in turn)."""
        ...

    def encode_blocks(self, embedder: BaseEmbedder, blocks: Sequence[list[str]], heard: Heard) -> None:
        """Encode every block and :meth:`~scorers.embeddings.BaseEmbedder.remember` its vectors."""
        ...

    def score_per_sample(
        self, scorers: Sequence[Scorer], samples: Sequence[Sample], ctx: ScoringContext, heard: Heard
    ) -> dict[str, ScorerResult]:
        """Every row's results of each per-sample scorer over the whole dataset, summary included (by scorer name;
        a scorer left out is run by the pipeline as usual)."""
        ...


class LocalBackend:
    """This machine: embedding in this process (torch uses every core), and the per-sample scorers of a dataset of at
    least ``min_rows`` rows in a pool of ``processes`` worker processes, chunk by chunk (those scorers are pure
    Python: one process uses one core). Below ``min_rows``, or with one process, everything runs in this process.

    Measured (``bench/full_audit.py --sweep``): docs/benchmarks.md, *Size sweep of the full default audit*. The pool
    starts its processes from a ``forkserver`` (not ``fork``: the parent holds torch's and the tokenizers' threads),
    so each chunk's samples and scorers travel pickled, as they do to Ray.
    """

    name = "local"

    def __init__(self, processes: int | None = None, *, min_rows: int = 4000, chunk_rows: int = 2500):
        self.processes = max(1, processes if processes is not None else default_processes())
        self.min_rows, self.chunk_rows = min_rows, chunk_rows

    def chunks_per_sample(self, rows: int) -> bool:
        return self.processes > 1 and rows >= self.min_rows

    def encode_blocks(self, embedder: BaseEmbedder, blocks: Sequence[list[str]], heard: Heard) -> None:
        for done, block in enumerate(blocks, 1):
            embedder.remember(block, embedder.encode_block(block))
            heard(done, len(blocks))

    def score_per_sample(
        self, scorers: Sequence[Scorer], samples: Sequence[Sample], ctx: ScoringContext, heard: Heard
    ) -> dict[str, ScorerResult]:
        if not samples or not scorers or not self.chunks_per_sample(len(samples)):
            return {}
        # four chunks per process (more for a large file: about chunk_rows rows each) of about equal text: files are
        # often sorted by source, and a tail of long answers (LIMA's) in one chunk left a process idle for a third of
        # the stage
        chunks = max(4 * self.processes, -(-len(samples) // self.chunk_rows))
        bounds = text_balanced_bounds(samples, chunks)
        parts: dict[int, ChunkPart] = {}
        pool = ProcessPoolExecutor(
            min(self.processes, len(bounds)), mp_context=multiprocessing.get_context("forkserver")
        )
        try:
            pending: dict[Future, int] = {
                pool.submit(score_chunk, list(samples[a:b]), list(scorers), ctx.models, ctx.seed, ctx.read_ahead): i
                for i, (a, b) in enumerate(bounds)
            }
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    parts[pending.pop(fut)] = fut.result()
                heard(len(parts), len(bounds))  # a cancelled job raises here: the pool is shut down below
        except BrokenProcessPool:
            # a process died (killed for memory, or a script that starts an audit at import time without an
            # ``if __name__ == "__main__":`` guard, which every new process re-runs): score here instead
            log.warning("the per-sample process pool broke; scoring those scorers in this process", exc_info=True)
            return {}
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return join_parts(scorers, samples, [parts[i] for i in range(len(bounds))], ctx)


def default_processes() -> int:
    """The CPUs this process may run on (its affinity, where the system tells), at most 8."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


#: one chunk's results: each per-sample scorer's result (or why it could not compute here), by scorer name; and the
#: rows' reading languages of each view read ahead, under ``READING_LANGUAGE + view`` (the context's memo key)
ChunkPart = dict[str, "ScorerResult | str | list[str]"]


def score_chunk(
    chunk: Sequence[Sample], scorers: Sequence[Scorer], models: ModelConfig, seed: int, read: Sequence[str] = ()
) -> ChunkPart:
    """Every per-sample scorer over one chunk of rows, in a context of its own (a scorer that cannot compute here
    gives its reason instead of a result; the pipeline then runs it over the whole dataset), and the reading language
    of each row's views in ``read`` (what the dataset-wide scorers will ask: read here, in parallel, instead of one
    after the other on the driver — 68 s of a 200k-row audit, issue #15)."""
    from scorers.context import ScoringContext

    ctx = ScoringContext(samples=chunk, models=models, seed=seed)
    results: ChunkPart = {}
    for scorer in scorers:
        try:
            results[scorer.name] = scorer.score(chunk, ctx)
        except NotComputed as e:
            results[scorer.name] = e.reason
    for view in read:
        results[READING_LANGUAGE + view] = ctx.reading_languages(view)
    forget_texts()  # a Ray worker scores many chunks, of many audits
    return results


def join_parts(
    scorers: Sequence[Scorer],
    samples: Sequence[Sample],
    parts: Sequence[ChunkPart],
    ctx: ScoringContext,
) -> dict[str, ScorerResult]:
    """Each scorer's whole result from the chunks' results (in row order); a scorer that some chunk could not compute
    is left out, for the pipeline to run. The views read ahead go to the context's memo, as if read there."""
    for view in ctx.read_ahead:
        if parts and all(READING_LANGUAGE + view in p for p in parts):
            joined = [lang for p in parts for lang in cast(list[str], p[READING_LANGUAGE + view])]
            ctx.memo(READING_LANGUAGE + view, lambda joined=joined: joined)  # type: ignore[misc]
    out: dict[str, ScorerResult] = {}
    for scorer in scorers:
        got = [p[scorer.name] for p in parts]
        if all(isinstance(g, ScorerResult) for g in got):
            out[scorer.name] = join_chunks(scorer, samples, [g for g in got if isinstance(g, ScorerResult)], ctx)
    return out


def join_chunks(
    scorer: Scorer, samples: Sequence[Sample], parts: Sequence[ScorerResult], ctx: ScoringContext
) -> ScorerResult:
    """A per-sample scorer's whole result from its chunks' results, in row order: the rows' parts joined and the
    summary rebuilt by :meth:`Scorer.summarise`."""
    first = parts[0] if parts else ScorerResult.empty(0)
    joined = ScorerResult(
        scores=None if first.scores is None else [s for p in parts for s in p.scores or ()],
        flags=[fl for p in parts for fl in p.flags],
        fields=[fd for p in parts for fd in p.fields],
        scores_from_flags=first.scores_from_flags,
    )
    joined.summary = scorer.summarise(samples, joined, ctx)
    return joined


def text_balanced_bounds(samples: Sequence[Sample], chunks: int) -> list[tuple[int, int]]:
    """``chunks`` runs of consecutive rows (fewer when there are fewer rows) that each hold about the same amount of
    text (characters of every turn, plus a fixed cost per row)."""
    import numpy as np

    weight = np.cumsum([100 + len(s.system or "") + sum(len(t.content) for t in s.turns) for s in samples])
    if not len(weight):
        return []
    cuts = np.searchsorted(weight, weight[-1] * np.arange(1, chunks) / chunks, side="right")
    edges = sorted({0, len(samples), *(int(c) for c in cuts)})
    return list(zip(edges, edges[1:]))


def chunk_bounds(n: int, rows: int) -> list[tuple[int, int]]:
    return [(a, min(a + rows, n)) for a in range(0, n, max(rows, 1))]
