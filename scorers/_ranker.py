"""The learned ranker's model: logistic regression on standardised features, cross-validated.

* Labels are values in [0, 1]; a label v is fitted as a positive of weight v and a negative of
  weight 1 − v, so a 1–5 rating of 3 (v = 0.5) teaches nothing either way rather than being
  forced to one side.
* The regularisation strength is picked by k-fold cross-validated AUROC over a small grid; the
  out-of-fold probabilities at that strength are the honest scores of the labelled rows, and the
  reported ``cv_auroc`` and calibration come from them (the choice of one of a few strengths on the
  same folds makes it a little optimistic; ``bench/learned_quality.py`` measures on held-out rows).
* A model fitted on every label scores the rest.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

C_GRID: tuple[float, ...] = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


@dataclass
class Fit:
    probability: np.ndarray  # every row: out-of-fold for labelled rows, the full model for the rest
    oof: np.ndarray  # labelled rows, out-of-fold
    cv_auroc: float | None
    C: float
    coef: np.ndarray  # the full model's weights on standardised features


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


def folds_of(values: np.ndarray, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    b = binary(values)
    strata = np.where(b < 0, 2, b)
    k = max(2, min(k, int(np.bincount(strata[strata < 2]).min()) if (strata < 2).any() else 2))
    return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(values)), strata))


def fit_ranker(x: np.ndarray, labelled: np.ndarray, values: np.ndarray, folds: int, seed: int) -> Fit:
    """Standardise ``x`` (every row), cross-validate on ``labelled`` rows, score every row."""
    from sklearn.preprocessing import StandardScaler

    z = StandardScaler().fit_transform(np.nan_to_num(x.astype(np.float64)))
    xl = z[labelled]
    splits = folds_of(values, folds, seed)
    best: tuple[float, float, np.ndarray] | None = None
    for C in C_GRID:
        oof = np.zeros(len(values))
        for tr, va in splits:
            oof[va] = _fit(xl[tr], values[tr], C, seed).predict_proba(xl[va])[:, 1]
        a = auroc(values, oof)
        if best is None or (a if a is not None else 0.0) > best[0]:
            best = (a if a is not None else 0.0, C, oof)
    assert best is not None
    _, C, oof = best
    model = _fit(xl, values, C, seed)
    prob = model.predict_proba(z)[:, 1]
    prob[labelled] = oof
    return Fit(probability=prob, oof=oof, cv_auroc=auroc(values, oof), C=C, coef=model.coef_[0])


def calibration(values: np.ndarray, oof: np.ndarray, bins: int = 5) -> list[dict[str, float]]:
    """Out-of-fold probability against the share of good labels, in bins of equal count."""
    order = np.argsort(oof, kind="stable")
    out = []
    for part in np.array_split(order, min(bins, len(order))):
        if len(part):
            out.append({"predicted": float(oof[part].mean()), "observed": float(values[part].mean()),
                        "labels": int(len(part)), "from": float(oof[part].min()), "to": float(oof[part].max())})
    return out
