"""Speed and memory of the diversity / difficulty / consistency families on Alpaca 52k.

    python bench/diversity_speed.py [--full-subset 2000] [--rows N]

Prints: fast-tier embedding time for all rows (the bound the families are measured against), the
full encoder's time on a random subset extrapolated to all rows, then the families one by one with
the embeddings already computed, the end-to-end fast-tier audit and peak RSS.  Timings on this
project's 2 shared CPU cores are taken under contention from other jobs: read them as upper bounds.
"""

from __future__ import annotations

import argparse
import random
import resource
import time

from _load import load

from scorers import run_audit
from scorers.context import ScoringContext
from scorers.embeddings import get_embedder
from scorers.models import ModelConfig

FAMILIES = [
    "language",
    "instruction_clusters",
    "semantic_diversity",
    "lexical_diversity",
    "task_type",
    "instruction_form",
    "difficulty",
    "answer_agreement",
    "format_consistency",
]


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--full-subset", type=int, default=600)
    ap.add_argument("--rows", type=int, default=None)
    args = ap.parse_args()
    t0 = time.perf_counter()
    samples = load("stanford_alpaca/alpaca_data.json", limit=args.rows)
    n = len(samples)
    print(f"Alpaca: {n} rows loaded in {time.perf_counter() - t0:.1f}s")

    ctx = ScoringContext(samples)
    fast = get_embedder(ctx.models, tier="fast")
    fast._load()
    t = time.perf_counter()
    ctx.embeddings("instruction", tier="fast")
    t_fast = time.perf_counter() - t
    print(f"fast tier ({fast.describe()['model']}): {n} instructions in {t_fast:.1f}s ({n / t_fast:,.0f} texts/s)")

    full = get_embedder(ModelConfig(), tier="full")
    sub = random.Random(0).sample(ctx.texts("instruction"), min(args.full_subset, n))
    full._load()
    t = time.perf_counter()
    full.encode(sub)
    t_sub = time.perf_counter() - t
    t_full_est = t_sub * n / len(sub)
    print(
        f"full tier ({full.describe()['model']}, {full.device}): {len(sub)} instructions in {t_sub:.1f}s "
        f"({len(sub) / t_sub:,.0f} texts/s) -> EXTRAPOLATED {t_full_est / 60:.1f} min for {n}"
    )

    stamps: list[tuple[float, str]] = []
    t = time.perf_counter()
    out = run_audit(samples, scorers=FAMILIES, progress=lambda f, step: stamps.append((time.perf_counter(), step)))
    t_fam = time.perf_counter() - t
    stamps.append((time.perf_counter(), "end"))
    print("families (fast-tier instruction vectors already cached; every other cost included):")
    for (a, step), (b, _) in zip(stamps, stamps[1:]):
        if step.startswith("scoring: "):
            print(f"  {step[9:]:22s} {b - a:6.1f}s")
    print(f"  {'total':22s} {t_fam:6.1f}s")
    print(f"ratio families / full-encoder embedding (extrapolated): {t_fam / t_full_est:.2f}  (goal <= 0.25)")
    print(f"ratio families / fast-tier embedding: {t_fam / t_fast:.1f}")
    print(f"fast-tier audit end to end (embedding + families): {(t_fast + t_fam) / 60:.2f} min (goal < 5 min)")
    print(f"peak RSS: {rss_gb():.2f} GB (goal < 4 GB)")
    div = out.report["dimensions"]["diversity"]
    print(
        f"diversity headline {div['score']:.3f}; clusters k={div['figures']['instruction_clusters']['k']}; "
        f"difficulty mix {out.report['dimensions']['difficulty']['figures']['difficulty']['mix']}"
    )
    print(f"flags: {out.report['flags']}")
    ag = out.report["dimensions"]["consistency"]["figures"]["answer_agreement"]
    print("answer_agreement:", {k: v for k, v in ag.items() if k not in ("embedding", "sources")})


if __name__ == "__main__":
    main()
