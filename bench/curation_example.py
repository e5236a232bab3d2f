"""The README's curation example, measured: a default audit of a small real dataset, then the example policy
and a do-little policy side by side, with kept and dropped-by-reason counts.

    .venv/bin/python bench/curation_example.py [--path codealpaca/code_alpaca_2k.json] [--cache-dir DIR]

Prints the counts that the README quotes, beside the old example policy's (which barely changed a small set).
"""

from __future__ import annotations

import argparse
import json
import os
import time

from _common import peak_rss_mb, shared_data  # noqa: F401  (puts the repo on sys.path)
from _data import alpaca_row, read_rows

from app.curation.policy import CurationPolicy
from app.curation.select import select
from scorers.context import ScoringContext
from scorers.pipeline import run_audit
from scorers.samples import sample

#: The README's example: drop errors and warnings, keep one of each duplicate group, keep the better half
#: score-first with DEITA's diversity rule.
EXAMPLE = {
    "drop_severities": ["error", "warning"],
    "dedupe": True,
    "budget": {"fraction": 0.5},
    "diversity_threshold": "auto",
}
#: The example the README showed before: on a 2k-row set the 3,000-row budget never binds.
OLD = {"drop_severities": ["error"], "dedupe": True, "budget": {"rows": 3000}, "diversity_threshold": "auto"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--path", default="codealpaca/code_alpaca_2k.json")
    ap.add_argument("--cache-dir", default=os.environ.get("SFTAUDIT_VECTOR_CACHE", "/work/cache/vectors"))
    args = ap.parse_args()
    rows = [alpaca_row(r) for r in read_rows(shared_data() / args.path)]
    samples = [
        sample(i, r["instruction"] + (f"\n\n{r['input']}" if r["input"].strip() else ""), r["output"])
        for i, r in enumerate(rows)
    ]
    t0 = time.perf_counter()
    out = run_audit(samples, seed=0, cache_dir=args.cache_dir)
    audit_s = time.perf_counter() - t0
    ctx = ScoringContext(samples=samples, cache_dir=args.cache_dir)
    emb = ctx.embeddings("instruction", tier="fast")
    print(
        f"{args.path}: {len(samples):,} rows, default audit {audit_s:.0f} s (load {os.getloadavg()[0]:.1f}), "
        f"peak RSS {peak_rss_mb():.0f} MB"
    )
    for name, policy in (("example", EXAMPLE), ("old example", OLD)):
        sel = select(out.samples, CurationPolicy.model_validate(policy), lambda: emb)
        print(f"\n{name}: {json.dumps(policy)}")
        print(f"  kept {len(sel.kept):,} of {len(samples):,}; dropped {len(sel.dropped):,}; tau {sel.tau}")
        for reason, n in sorted(sel.counts().items(), key=lambda kv: -kv[1]):
            print(f"    {reason:45s} {n:6,}")
        families: dict[str, int] = {}
        for reason, n in sel.counts().items():
            family = ":".join(reason.split(":")[:2]) if reason.startswith("severity:") else reason
            families[family] = families.get(family, 0) + n
        print("  by family: " + ", ".join(f"{k} {v:,}" for k, v in sorted(families.items(), key=lambda kv: -kv[1])))
        for w in sel.warnings:
            print(f"  warning: {w}")


if __name__ == "__main__":
    main()
