"""A stand-in for the learned quality ranker (``learned_quality``), built to its contract, for the product's tests.

The real scorer (scorers/quality_learned.py) is tested on its own; these tests check what the product does
around it: labels in, judge labels out, ``proposed_next`` in the browser, ``rank_by`` in curation.  The fake
is swapped into the registry for one test only (``fake_ranker`` fixture), under the real scorer's name.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from pydantic import Field

from scorers.base import NotComputed, Scorer, ScorerParams, ScorerResult
from scorers.context import ScoringContext
from scorers.samples import Sample


class FakeParams(ScorerParams):
    min_labels: int = Field(2, ge=1)
    folds: int = Field(2, ge=2)
    judge_budget: int = Field(0, ge=0)


class FakeLearnedQuality(Scorer):
    """Earlier rows rank higher (1 - index / n); a labelled sample takes its label; the 'judge' calls an answer
    longer than three characters good."""

    name = "learned_quality"
    version = "fake"
    dimension = "answer_quality"
    Params = FakeParams

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p = self.params
        given = dict(ctx.labels or {})
        if len(given) < p.min_labels and p.judge_budget == 0:
            raise NotComputed(
                f"{len(given)} labels, {p.min_labels} needed: upload a label file, label samples in "
                "the sample browser, or configure an LLM judge and set judge_budget"
            )
        judged = {s.index: 1.0 if len(s.answer) > 3 else 0.0 for s in samples if s.index not in given}
        judged = dict(list(judged.items())[: p.judge_budget])
        labels = {**given, **judged}
        n = len(samples)
        scores = [labels.get(s.index, 1 - s.index / max(n, 1)) for s in samples]
        unlabelled = [s.index for s in samples if s.index not in labels]
        return ScorerResult(
            scores=scores,
            flags=[[] for _ in samples],
            fields=[
                {"learned_quality": v, "label_priority": 0.0 if s.index in labels else 1.0}
                for s, v in zip(samples, scores, strict=True)
            ],
            summary={
                "labels_used": len(labels),
                "label_sources": {"given": len(given), "judge": len(judged)},
                "cv_auroc": None,
                "calibration": [],
                "top_features": [],
                "proposed_next": unlabelled[:50],
                "judge_labels": [[i, v] for i, v in sorted(judged.items())],
            },
        )


@pytest.fixture
def fake_ranker(monkeypatch) -> Iterator[type[FakeLearnedQuality]]:
    from scorers import base

    base.registry()  # load the real registry first, so the real scorer (once merged) is restored afterwards
    monkeypatch.setitem(base._REGISTRY, "learned_quality", FakeLearnedQuality)
    yield FakeLearnedQuality
