"""The learned ranker's model: logistic regression on standardised features, cross-validated.

* Labels are values in [0, 1]; a label v is fitted as a positive of weight v and a negative of
  weight 1 − v, so a 1–5 rating of 3 (v = 0.5) teaches nothing either way rather than being
  forced to one side.
* The regularisation strength is picked by k-fold cross-validated AUROC over a small grid; the
  out-of-fold probabilities at that strength are the honest scores of the labelled rows, and the
  reported ``cv_auroc`` and calibration come from them (the choice of one of a few strengths on the
  same folds makes it a little optimistic; ``bench/learned_quality.py`` measures on held-out rows).
* A model fitted on every label scores the rest.
* **Comparisons.**  When most labels compare answers to the same prompt (preference data: a chosen and
  a rejected reply), a pointwise model learns the prompt, not the answer, and its folds leak (a
  sibling with the opposite label sits in the training fold).  Then the folds keep each prompt's
  rows together, and the model is fitted on within-prompt differences (a good answer's features
  minus a worse one's: Bradley–Terry); its scores are mapped to probabilities by a one-feature
  logistic fit on the out-of-fold scores (Platt).  Measured on hh-rlhf harmless-base (500 labelled
  pairs): pairwise accuracy 0.572 pointwise → 0.61 (docs/answer-quality.md).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

C_GRID: tuple[float, ...] = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
#: scales tried for the embedding blocks (on Alpaca with 1,000 labels, 0.3 beat 1.0 by ~0.01 AUROC on
#: claude_t45 and lost ~0.005 on helpfulness_t45, so the choice is left to the cross-validation).
BLOCK_WEIGHTS: tuple[float, ...] = (0.3, 1.0)


@dataclass
class Fit:
    probability: np.ndarray  # every row: out-of-fold for labelled rows, the full model for the rest
    oof: np.ndarray  # labelled rows, out-of-fold
    cv_auroc: float | None
    C: float
    coef: np.ndarray  # the full model's weights on standardised features
    pairwise: bool = False  # fitted on within-prompt comparisons
    block_weight: float | None = None  # the scale the embedding blocks were fitted at


def binary(values: np.ndarray) -> np.ndarray:
    """1 good, 0 bad, -1 undecided (exactly 0.5)."""
    return np.where(values > 0.5, 1, np.where(values < 0.5, 0, -1))


def _fit(x: np.ndarray, y: np.ndarray, C: float, seed: int):
    from sklearn.linear_model import LogisticRegression

    xx = np.vstack([x, x])
    yy = np.concatenate([np.ones(len(y)), np.zeros(len(y))])
    ww = np.concatenate([y, 1.0 - y])
    keep = ww > 0
    model = LogisticRegression(C=C, max_iter=3000, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lbfgs convergence chatter on tiny folds
        model.fit(xx[keep], yy[keep], sample_weight=ww[keep])
    return model


def auroc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    b = binary(labels)
    ok = b >= 0
    if len(set(b[ok].tolist())) < 2:
        return None
    return float(roc_auc_score(b[ok], scores[ok]))


def folds_of(
    values: np.ndarray, k: int, seed: int, groups: np.ndarray | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds (by good/bad/undecided), keeping rows of one prompt group together when given."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    b = binary(values)
    strata = np.where(b < 0, 2, b)
    k = max(2, min(k, int(np.bincount(strata[strata < 2]).min()) if (strata < 2).any() else 2))
    if groups is not None and len(set(groups.tolist())) < len(groups):
        k = min(k, len(set(groups.tolist())))
        return list(
            StratifiedGroupKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(values)), strata, groups)
        )
    return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(values)), strata))


def comparisons(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """(better, worse) row pairs inside each prompt group, shape (m, 2)."""
    by: dict[int, list[int]] = {}
    for i, g in enumerate(groups.tolist()):
        by.setdefault(g, []).append(i)
    pairs = [(a, b) for rows in by.values() if len(rows) > 1 for a in rows for b in rows if values[a] > values[b]]
    return np.asarray(pairs, dtype=int).reshape(-1, 2)


def is_comparison_data(values: np.ndarray, groups: np.ndarray | None) -> bool:
    """Most labelled rows share their prompt with a differently labelled row."""
    if groups is None:
        return False
    pairs = comparisons(values, groups)
    return len(pairs) > 0 and len(set(pairs.ravel().tolist())) >= 0.5 * len(values)


def _fit_pairs(x: np.ndarray, values: np.ndarray, groups: np.ndarray, C: float, seed: int) -> np.ndarray:
    """Weights w such that w·(better − worse) > 0 (logistic, no intercept)."""
    from sklearn.linear_model import LogisticRegression

    pairs = comparisons(values, groups)
    if len(pairs) == 0:
        return np.zeros(x.shape[1])
    d = x[pairs[:, 0]] - x[pairs[:, 1]]
    model = LogisticRegression(C=C, max_iter=3000, fit_intercept=False, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(np.vstack([d, -d]), np.r_[np.ones(len(d)), np.zeros(len(d))])
    return model.coef_[0]


def fit_ranker(
    x: np.ndarray,
    labelled: np.ndarray,
    values: np.ndarray,
    folds: int,
    seed: int,
    groups: np.ndarray | None = None,
    blocks_from: int | None = None,
) -> Fit:
    """Standardise ``x`` (every row), cross-validate on ``labelled`` rows, score every row.

    ``groups``: a prompt id per row; rows of one prompt stay in one fold, and comparison data is
    fitted on within-prompt differences.  ``blocks_from``: the first embedding column; the
    embedding blocks are also tried at ``BLOCK_WEIGHTS`` of their standard scale (a stronger penalty
    on hundreds of embedding columns than on the few named ones), picked by the same cross-validation.
    """
    from sklearn.preprocessing import StandardScaler

    z = StandardScaler().fit_transform(np.nan_to_num(x.astype(np.float64)))
    gl = groups[labelled] if groups is not None else None
    pairwise = is_comparison_data(values, gl)
    splits = folds_of(values, folds, seed, gl)
    weights = BLOCK_WEIGHTS if blocks_from is not None and blocks_from < z.shape[1] else (1.0,)
    best: tuple[float, float, float, np.ndarray] | None = None
    for weight in weights:
        xl = z[labelled].copy()
        if blocks_from is not None:
            xl[:, blocks_from:] *= weight
        for C in C_GRID:
            oof = np.zeros(len(values))
            for tr, va in splits:
                if pairwise:
                    oof[va] = xl[va] @ _fit_pairs(xl[tr], values[tr], gl[tr], C, seed)  # type: ignore[index]
                else:
                    oof[va] = _fit(xl[tr], values[tr], C, seed).predict_proba(xl[va])[:, 1]
            a = auroc(values, oof)
            if best is None or (a if a is not None else 0.0) > best[0]:
                best = (a if a is not None else 0.0, C, weight, oof)
    assert best is not None
    _, C, weight, oof = best
    if blocks_from is not None:
        z[:, blocks_from:] *= weight
    xl = z[labelled]
    if pairwise:
        coef = _fit_pairs(xl, values, gl, C, seed)  # type: ignore[arg-type]
        platt = _fit(oof[:, None], values, 1.0, seed)  # out-of-fold score → probability
        prob = platt.predict_proba((z @ coef)[:, None])[:, 1]
        oof = platt.predict_proba(oof[:, None])[:, 1]
    else:
        model = _fit(xl, values, C, seed)
        coef = model.coef_[0]
        prob = model.predict_proba(z)[:, 1]
    prob[labelled] = oof
    return Fit(
        probability=prob,
        oof=oof,
        cv_auroc=auroc(values, oof),
        C=C,
        coef=coef,
        pairwise=pairwise,
        block_weight=weight if blocks_from is not None else None,
    )


def calibration(values: np.ndarray, oof: np.ndarray, bins: int = 5) -> list[dict[str, float]]:
    """Out-of-fold probability against the share of good labels, in bins of equal count."""
    order = np.argsort(oof, kind="stable")
    out = []
    for part in np.array_split(order, min(bins, len(order))):
        if len(part):
            out.append(
                {
                    "predicted": float(oof[part].mean()),
                    "observed": float(values[part].mean()),
                    "labels": int(len(part)),
                    "from": float(oof[part].min()),
                    "to": float(oof[part].max()),
                }
            )
    return out
