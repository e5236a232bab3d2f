"""Benchmark of ``learned_quality`` against real labels, beside trivial baselines in the same run.

Protocol (issue #13), per seed: the 52,002 Alpaca rows are shuffled; the first 20,000 are the pool
and the other 32,002 the test rows; ``--labels`` rows drawn from the pool are labelled with the
AlpaGasus verdict (claude_t45 or helpfulness_t45 kept = good, else bad, joined by exact
(instruction, input, output)); every method is trained on those labels only and scored by AUROC on
the test rows.  hh-rlhf harmless-base: the labels of ``--pairs`` pairs (chosen = good, rejected =
bad) train each method; the score is pairwise accuracy on the other pairs (chosen scored above
rejected; a tie counts half).

Methods, all on the same labels:
* ``learned_quality`` — the product's scorer, fed through ``ctx.labels`` (tier ``auto``: the fast
  tier above ``full_tier_max_samples``, so on Alpaca 52k; full and fast on hh-rlhf);
* ``shorter answer`` — no training: the shorter answer ranks higher (and ``longer answer``);
* ``TF-IDF + LR`` — word 1–2-gram TF-IDF of prompt and answer, logistic regression (C by 5-fold CV);
* ``fast embeddings + LR`` — fast-tier vectors of instruction and answer, logistic regression (C by CV);
* ``answer_quality`` — the model-free score, no training (the honest defect-based score).

    python bench/learned_quality.py [--seeds 0 1 2] [--labels 1000 300] [--skip hh alpaca]

Vectors are cached in ``--cache-dir`` (default /work/cache/vectors if it exists).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._quality_data import alpaca_samples, alpagasus_labels, hh_pairs, load_alpaca  # noqa: E402
from scorers.context import ScoringContext  # noqa: E402
from scorers.models import ModelConfig  # noqa: E402
from scorers.pipeline import resolve_scorers  # noqa: E402
from scorers.quality_learned import LearnedQuality  # noqa: E402
from scorers.samples import Sample  # noqa: E402

AUDIT = [
    "answer_accuracy",
    "answer_completeness",
    "answer_conciseness",
    "answer_clarity",
    "junk_answer",
    "broken_answer",
    "answer_quality",
]
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def audit_context(samples: list[Sample], cache_dir: str | None) -> ScoringContext:
    """A context holding the model-free audit's results (what learned_quality reads after them)."""
    ctx = ScoringContext(samples=samples, models=ModelConfig(), seed=0, cache_dir=cache_dir)
    for scorer in resolve_scorers(AUDIT):
        ctx.results[scorer.name] = scorer.score(samples, ctx)
    return ctx


def learned(
    ctx: ScoringContext, labelled: np.ndarray, y: np.ndarray, seed: int, tier: str = "auto"
) -> tuple[np.ndarray, dict]:
    ctx.labels = {int(ctx.samples[i].index): float(y[i]) for i in labelled}
    ctx.seed = seed
    res = LearnedQuality({"tier": tier, "propose": 0}).score(ctx.samples, ctx)
    ctx.seed = 0
    return np.asarray(res.scores, dtype=float), res.summary


def cv_logistic(x, y: np.ndarray, seed: int):
    """Logistic regression with C picked by 5-fold cross-validated AUROC on the training labels."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    best = (-1.0, 1.0)
    for C in C_GRID:
        oof = np.zeros(len(y))
        for tr, va in StratifiedKFold(5, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
            oof[va] = LogisticRegression(C=C, max_iter=3000).fit(x[tr], y[tr]).decision_function(x[va])
        best = max(best, (roc_auc_score(y, oof), C))
    return LogisticRegression(C=best[1], max_iter=3000).fit(x, y)


_TFIDF: dict[int, object] = {}


def tfidf_scores(texts: list[str], labelled: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if id(texts) not in _TFIDF:  # vocabulary from every row's text (unsupervised); labels from the labelled rows only
        vec = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2, max_features=200_000)
        _TFIDF[id(texts)] = vec.fit_transform(texts)
    x = _TFIDF[id(texts)]
    return cv_logistic(x[labelled], y[labelled], seed).decision_function(x)


def embedding_scores(ctx: ScoringContext, labelled: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.preprocessing import StandardScaler

    x = np.hstack([ctx.embeddings("instruction", tier="fast"), ctx.embeddings("answer", tier="fast")])
    x = StandardScaler().fit_transform(x)
    return cv_logistic(x[labelled], y[labelled], seed).decision_function(x)


def auroc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s))


def run_alpaca(args) -> None:
    rows = load_alpaca()
    samples = alpaca_samples(rows)
    n = len(samples)
    t = time.perf_counter()
    ctx = audit_context(samples, args.cache_dir)
    print(f"model-free audit of {n} rows: {time.perf_counter() - t:.0f} s")
    texts = [f"{s.prompt_text}\n{s.answer}" for s in samples]
    length = np.array([len(s.answer) for s in samples], dtype=float)
    aq = np.array([1.0 if v is None else v for v in ctx.results["answer_quality"].scores])
    for label_file in ("claude_t45", "helpfulness_t45"):
        y = np.array(alpagasus_labels(rows, f"{label_file}.json"))
        print(f"\n== {label_file}: AUROC on the 32,002 test rows (positives {y.mean():.1%} of all rows) ==")
        table: dict[tuple[str, int], list[float]] = {}
        for seed in args.seeds:
            rng = np.random.default_rng(seed)
            perm = rng.permutation(n)
            pool, test = perm[:20_000], perm[20_000:]
            for k in args.labels:
                labelled = np.sort(rng.choice(pool, k, replace=False))
                t = time.perf_counter()
                prob, summary = learned(ctx, labelled, y, seed)
                dt = time.perf_counter() - t
                cells = {
                    "learned_quality": auroc(y[test], prob[test]),
                    "shorter answer": auroc(y[test], -length[test]),
                    "longer answer": auroc(y[test], length[test]),
                    "TF-IDF + LR": auroc(y[test], tfidf_scores(texts, labelled, y, seed)[test]),
                    "fast embeddings + LR": auroc(y[test], embedding_scores(ctx, labelled, y, seed)[test]),
                    "answer_quality (model-free)": auroc(y[test], aq[test]),
                }
                for name, v in cells.items():
                    table.setdefault((name, k), []).append(v)
                print(
                    f"  seed {seed} labels {k:>5} (good {int(y[labelled].sum())}): "
                    + "  ".join(f"{name}={v:.3f}" for name, v in cells.items())
                    + f"  [learned_quality cv_auroc={summary['cv_auroc']:.3f}, C={summary['regularisation_C']}, "
                    f"tiers={summary['features']['embedding_tiers']}, {dt:.0f} s]",
                    flush=True,
                )
        print_table(label_file, table, args)


def print_table(title: str, table: dict, args) -> None:
    print(f"\n  {title}: mean ± sd over seeds {args.seeds}")
    print("  | method | " + " | ".join(f"{k} labels" for k in args.labels) + " |")
    print("  |---|" + "---|" * len(args.labels))
    for name in dict.fromkeys(name for name, _ in table):
        cells = [f"{np.mean(v):.3f} ± {np.std(v):.3f}" if (v := table.get((name, k))) else "–" for k in args.labels]
        print(f"  | {name} | " + " | ".join(cells) + " |")
    for k in args.labels:
        lq = np.mean(table[("learned_quality", k)])
        trivial = max(np.mean(table[(m, k)]) for m in ("shorter answer", "longer answer", "TF-IDF + LR"))
        every = max(trivial, np.mean(table[("fast embeddings + LR", k)]))
        print(
            f"  {k} labels: learned_quality − best trivial baseline (length, TF-IDF) = {lq - trivial:+.3f}; "
            f"− best baseline incl. embeddings + LR = {lq - every:+.3f}"
        )


def pairwise(scores: np.ndarray, pair: np.ndarray, chosen: np.ndarray, pairs: np.ndarray) -> float:
    """Share of ``pairs`` whose chosen reply scores above the rejected one (ties count half)."""
    wins = []
    for p in pairs:
        c, r = np.flatnonzero((pair == p) & chosen)[0], np.flatnonzero((pair == p) & ~chosen)[0]
        wins.append(1.0 if scores[c] > scores[r] else 0.5 if scores[c] == scores[r] else 0.0)
    return float(np.mean(wins))


def run_hh(args) -> None:
    samples, labels, pair_ids = hh_pairs()
    y, pair = np.array(labels), np.array(pair_ids)
    chosen = y == 1
    ctx = audit_context(samples, args.cache_dir)
    texts = [f"{s.prompt_text}\n{s.answer}" for s in samples]
    length = np.array([len(s.answer) for s in samples], dtype=float)
    aq = np.array([1.0 if v is None else v for v in ctx.results["answer_quality"].scores])
    n_pairs = int(pair.max()) + 1
    print(
        f"\n== hh-rlhf harmless-base: labels from {args.pairs} pairs, pairwise accuracy on the other "
        f"{n_pairs - args.pairs} pairs =="
    )
    table: dict[str, list[float]] = {}
    for seed in args.seeds:
        perm = np.random.default_rng(seed).permutation(n_pairs)
        train, held = perm[: args.pairs], perm[args.pairs :]
        labelled = np.flatnonzero(np.isin(pair, train))
        t = time.perf_counter()
        prob, summary = learned(ctx, labelled, y, seed)
        dt = time.perf_counter() - t
        cells = {
            "learned_quality": pairwise(prob, pair, chosen, held),
            "TF-IDF + LR": pairwise(tfidf_scores(texts, labelled, y, seed), pair, chosen, held),
            "fast embeddings + LR": pairwise(embedding_scores(ctx, labelled, y, seed), pair, chosen, held),
            "shorter answer": pairwise(-length, pair, chosen, held),
            "answer_quality (model-free)": pairwise(aq, pair, chosen, held),
        }
        for name, v in cells.items():
            table.setdefault(name, []).append(v)
        print(
            f"  seed {seed}: "
            + "  ".join(f"{name}={v:.3f}" for name, v in cells.items())
            + f"  [cv_auroc={summary['cv_auroc']:.3f}, tiers={summary['features']['embedding_tiers']}, {dt:.0f} s]",
            flush=True,
        )
    print("\n  | method | pairwise accuracy |\n  |---|---|")
    for name, v in table.items():
        print(f"  | {name} | {np.mean(v):.3f} ± {np.std(v):.3f} |")
    print(f"  learned_quality − TF-IDF = {np.mean(table['learned_quality']) - np.mean(table['TF-IDF + LR']):+.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--labels", type=int, nargs="*", default=[1000, 300])
    ap.add_argument("--pairs", type=int, default=500)
    ap.add_argument("--skip", nargs="*", default=[], help="sections to skip: alpaca hh")
    ap.add_argument("--cache-dir", default="/work/cache/vectors" if os.path.isdir("/work/cache/vectors") else None)
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    if "hh" not in args.skip:
        run_hh(args)
    if "alpaca" not in args.skip:
        run_alpaca(args)


if __name__ == "__main__":
    main()
