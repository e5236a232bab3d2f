"""Where an audit's parallel stages run: in this process (:class:`LocalBackend`, the default) or spread over a Ray
cluster (:class:`scorers._ray_backend.RayBackend`, the ``ray`` extra).

An audit has two stages that split into independent pieces, and the rest, which needs the whole dataset:

* **embedding**: the texts the scorers will embed on the full encoder, in the blocks :meth:`BaseEmbedder.blocks`
  gives; a block's vectors depend on that block alone, so any machine may encode it;
* **per-sample scoring**: the scorers marked :attr:`Scorer.per_sample`, over chunks of rows;
* the **dataset-wide steps** (duplicates, neighbours, clusters, label errors, the alignment fit) then run where the
  pipeline runs, over the vectors and results the stages returned.

Both backends encode the same blocks and join the same per-row results, so they give the same report bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from scorers.base import Scorer, ScorerResult
from scorers.samples import Sample

if TYPE_CHECKING:
    from scorers.context import ScoringContext
    from scorers.embeddings import BaseEmbedder

#: ``heard(done, total)``: how many of a stage's pieces are done (the pipeline turns it into progress; a cancelled
#: job's callback raises, which stops the stage).
Heard = Callable[[int, int], None]


class AuditBackend(Protocol):
    name: str
    #: whether :meth:`score_per_sample` scores per-sample scorers itself (else the pipeline runs them in turn)
    chunks_per_sample: bool

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
    """Everything in this process, one block and one scorer after the other (today's path)."""

    name = "local"
    chunks_per_sample = False

    def encode_blocks(self, embedder: BaseEmbedder, blocks: Sequence[list[str]], heard: Heard) -> None:
        for done, block in enumerate(blocks, 1):
            embedder.remember(block, embedder.encode_block(block))
            heard(done, len(blocks))

    def score_per_sample(
        self, scorers: Sequence[Scorer], samples: Sequence[Sample], ctx: ScoringContext, heard: Heard
    ) -> dict[str, ScorerResult]:
        return {}


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


def chunk_bounds(n: int, rows: int) -> list[tuple[int, int]]:
    return [(a, min(a + rows, n)) for a in range(0, n, max(rows, 1))]
