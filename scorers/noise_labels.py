"""Label errors: samples whose category (or classification answer) disagrees with similar samples.

Confident learning (Northcutt et al., the method of the ``cleanlab`` package): a classifier over the
prompt embeddings is trained with k-fold cross-validation, so every sample gets *out-of-fold*
predicted label probabilities; a sample is a label issue when it confidently belongs to another
class than the one it carries.  ``cleanlab.filter.find_label_issues`` is used when cleanlab is
installed (the ``ml`` extra), otherwise the confident joint's off-diagonal is computed here.

Labels come from, in order:

1. a categorical field of the source record (``category`` in Dolly-style data, ``class`` in BELLE),
   read from ``Sample.meta["original"]``;
2. classification-style answers: short answers (a few words) from a small label set that recurs
   (``Positive`` / ``Negative``, ``Fact`` / ``Opinion``), each label on enough samples.

With neither the scorer reports *not computed*, with that reason.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field

from scorers._noise_text import result_from_flags
from scorers.base import Flag, NotComputed, Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.samples import Sample
from scorers.text.prompt import original
from scorers.text.script import normalise_strict


class LabelErrorParams(ScorerParams):
    label_fields: tuple[str, ...] = Field(
        ("category", "class", "label"),
        description=("Fields of the source record tried, in order, as the sample's label."),
    )
    use_answers: bool = Field(True, description="Without a label field, treat short recurring answers as labels.")
    max_label_words: int = Field(3, ge=1, description="Answers of at most this many words can be labels.")
    min_per_label: int = Field(5, ge=2, description="A label needs at least this many samples to be learned.")
    max_labels: int = Field(50, ge=2, description="More distinct labels than this is not a label set.")
    min_labelled: int = Field(30, ge=10, description="Fewer labelled samples than this: not computed.")
    folds: int = Field(5, ge=2, le=20, description="Cross-validation folds for the out-of-fold predictions.")
    max_given_probability: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description=(
            "Only confident-learning issues whose given label gets at most this out-of-fold probability are "
            "flagged (a weak classifier over overlapping categories otherwise flags whole categories)."
        ),
    )
    min_suggested_probability: float = Field(
        0.6, ge=0.0, le=1.0, description=("…and whose suggested label gets at least this probability.")
    )


def _norm_label(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).split()).strip()


def labels_from_field(samples: Sequence[Sample], fields: Sequence[str]) -> tuple[str, list[str | None]] | None:
    for name in fields:
        values: list[str | None] = []
        for s in samples:
            o = original(s)
            v = o.get(name) if o else None
            values.append(_norm_label(v) if isinstance(v, str) and v.strip() else None)
        if sum(v is not None for v in values) >= 2:
            return f"field {name!r}", values
    return None


def labels_from_answers(samples: Sequence[Sample], p: LabelErrorParams) -> list[str | None]:
    norm = [normalise_strict(s.answer) for s in samples]
    ok = [bool(a) and len(a.split()) <= p.max_label_words and not a.replace(" ", "").isdigit() for a in norm]
    counts = Counter(a for a, good in zip(norm, ok) if good)
    keep = {a for a, c in counts.items() if c >= p.min_per_label}
    if not 2 <= len(keep) <= p.max_labels:
        return [None] * len(samples)
    return [a if good and a in keep else None for a, good in zip(norm, ok)]


def out_of_fold_probs(x: np.ndarray, y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    k = int(min(folds, np.bincount(y).min()))
    cv = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    clf = LogisticRegression(max_iter=2000, C=4.0)
    return cross_val_predict(clf, x, y, cv=cv, method="predict_proba")


def find_issues(y: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Boolean mask of label issues by confident learning."""
    try:
        from cleanlab.filter import find_label_issues
    except ImportError:  # pragma: no cover - depends on the install
        return confident_joint_issues(y, probs)
    # n_jobs=1: cleanlab's default (a process per physical core) forks the whole audit process on Linux, and each fork
    # counts every page it shares in the process tree's RSS: 2.8 GB during this step of a 20k-row audit whose own
    # process held ~1.5 GB (issue #15). cleanlab documents that n_jobs changes only the run time, not the mask.
    return np.asarray(find_label_issues(y, probs, filter_by="prune_by_noise_rate", n_jobs=1), dtype=bool)


def confident_joint_issues(y: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The confident joint's off-diagonal: a sample whose predicted probability for another class
    reaches that class's average self-confidence (and beats its own label's)."""
    k = probs.shape[1]
    thresholds = np.array([probs[y == c, c].mean() if np.any(y == c) else 1.0 for c in range(k)])
    above = probs >= thresholds[None, :]
    masked = np.where(above, probs, -1.0)
    best = masked.argmax(axis=1)
    has = above.any(axis=1)
    return has & (best != y) & (probs[np.arange(len(y)), best] > probs[np.arange(len(y)), y])


@register
class LabelError(Scorer):
    """Samples whose category or classification answer disagrees with similar samples (confident learning)."""

    name = "label_error"
    version = "1"
    dimension = "noise"
    Params = LabelErrorParams
    needs_models = ("embedding_model",)

    def reads(self) -> tuple[str, ...]:
        return ("prompt",)

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p = self.params
        found = labels_from_field(samples, p.label_fields)
        source, raw = found if found else ("classification-style answers", None)
        if raw is None:
            if not p.use_answers:
                raise NotComputed("no label field (category/class/label) in the data")
            raw = labels_from_answers(samples, p)
        # a model judges only what it can read: labels of rows in other languages are not checked
        readable = ctx.readable(["prompt"])
        unread = np.array([v is not None and not readable[i] for i, v in enumerate(raw)], dtype=bool)
        raw = [v if readable[i] else None for i, v in enumerate(raw)]
        counts = Counter(v for v in raw if v is not None)
        classes = sorted(c for c, n in counts.items() if n >= p.min_per_label)
        labelled = [i for i, v in enumerate(raw) if v in classes]
        if len(classes) < 2 or len(labelled) < p.min_labelled:
            raise NotComputed(
                "no labels to check: no category/class field and no recurring short answers "
                f"(need at least 2 labels with {p.min_per_label}+ samples each and {p.min_labelled}+ labelled "
                "samples)"
            )
        # embed only the labelled samples; a large labelled set uses the aligned fast tier (a classifier over
        # it separates classes as well, and the full encoder over e.g. 50k prompts would dominate the audit)
        if len(labelled) <= ctx.models.full_tier_max_samples:
            prompts = ctx.texts("prompt")
            x, tier = ctx.embed([prompts[i] for i in labelled]), "full"
        else:
            x, tier = ctx.embeddings("prompt", tier="aligned")[labelled], "aligned"
        y = np.array([classes.index(raw[i]) for i in labelled])
        probs = out_of_fold_probs(x, y, p.folds, ctx.seed)
        rows = np.arange(len(y))
        other = np.where(np.arange(len(classes))[None, :] == y[:, None], -1.0, probs)
        suggested_all = other.argmax(axis=1)
        issues = (
            find_issues(y, probs)
            & (probs[rows, y] <= p.max_given_probability)
            & (probs[rows, suggested_all] >= p.min_suggested_probability)
        )
        flags: list[list[Flag]] = [[] for _ in samples]
        fields: list[dict[str, Any]] = [{} for _ in samples]
        applies = [False] * len(samples)
        for row, pos in enumerate(labelled):
            applies[pos] = True
            fields[pos]["label_quality"] = float(probs[row, y[row]])
            if not issues[row]:
                continue
            suggested = int(suggested_all[row])
            peer_rows = np.flatnonzero(y == suggested)
            sims = x[peer_rows] @ x[row]
            related = tuple(samples[labelled[peer_rows[r]]].index for r in np.argsort(-sims, kind="stable")[:3])
            flags[pos].append(
                Flag(
                    "label_error",
                    "noise",
                    "warning",
                    f"labelled {classes[y[row]]!r}, but similar samples are labelled {classes[suggested]!r} "
                    f"(out-of-fold classifier: {probs[row, y[row]]:.0%} for the given label, "
                    f"{probs[row, suggested]:.0%} for {classes[suggested]!r}); related: the most similar samples "
                    "with that label",
                    related,
                )
            )
            fields[pos]["suggested_label"] = classes[suggested]
        for pos in np.flatnonzero(unread):
            fields[pos]["not_judged"] = [self.name]
        result = result_from_flags(
            samples,
            flags,
            {
                **({"not_judged": ctx.not_judged(unread, ["prompt"])} if unread.any() else {}),
                "label_source": source,
                "labels": {c: counts[c] for c in classes},
                "labelled_samples": len(labelled),
                "label_issues": int(issues.sum()),
                "classifier_accuracy": float((probs.argmax(axis=1) == y).mean()),
                "method": "confident learning (cleanlab) on out-of-fold "
                "logistic-regression probabilities over prompt embeddings",
                "embedding_tier": tier,
            },
            fields,
            applies=applies,
        )
        return result
