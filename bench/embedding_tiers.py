"""Full encoder everywhere vs. the aligned fast tier with full-encoder verification, on real data.

    python bench/embedding_tiers.py [--rows 12000] [--swap 0.05]

A seeded random subset of Alpaca 52k gets a share of its answers swapped between rows (known
mismatches).  The three dataset-wide embedding checks — ``semantic_duplicate``, ``mismatched_answer``
and ``answer_relevance`` — then run twice, each time in a fresh process with an empty vector cache:
``search_tier``/``tier`` = ``full`` (every instruction and answer on the encoder; what audits up to
``full_tier_max_samples`` do) and ``aligned`` (what larger audits do).  Printed: wall time of each mode
(embedding included), the semantic-duplicate rows each finds and the aligned mode's recall against the
full mode, and recall / false-positive rate of both on the swapped answers.  The full mode is the
baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load import load  # noqa: E402

SCORERS = ["semantic_duplicate", "mismatched_answer", "answer_relevance"]


def subset(rows: int, swap: float, seed: int):
    from dataclasses import replace

    samples = load("stanford_alpaca/alpaca_data.json")
    rng = random.Random(seed)
    picked = sorted(rng.sample(range(len(samples)), min(rows, len(samples))))
    out = [replace(samples[i], index=k) for k, i in enumerate(picked)]
    k = int(len(out) * swap) // 2 * 2
    moved = rng.sample(range(len(out)), k)
    answers = {i: out[i].answer for i in moved}
    for a, b in zip(moved[0::2], moved[1::2]):
        out[a] = _with_answer(out[a], answers[b])
        out[b] = _with_answer(out[b], answers[a])
    return out, set(moved)


def _with_answer(s, answer: str):
    from dataclasses import replace

    turns = list(s.turns)
    turns[-1] = replace(turns[-1], content=answer)
    return replace(s, turns=tuple(turns))


def run_mode(mode: str, rows: int, swap: float, seed: int, out: str) -> None:
    from scorers import run_audit
    from scorers.models import ModelConfig

    samples, _ = subset(rows, swap, seed)
    params = {
        "semantic_duplicate": {"search_tier": mode},
        "mismatched_answer": {"search_tier": mode},
        "answer_relevance": {"tier": mode},
    }
    with tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        res = run_audit(samples, scorers=SCORERS, params=params, models=ModelConfig(), cache_dir=cache)
        wall = time.perf_counter() - t
    flagged = {
        c: sorted(r["index"] for r in res.samples if any(f["code"] == c for f in r["flags"]))
        for c in ("semantic_duplicate", "mismatched_answer", "answer_off_topic")
    }
    groups = sorted(r["index"] for r in res.samples if "semantic_group" in r)
    figures = {d: res.report["dimensions"][d]["figures"] for d in ("noise", "answer_quality")}
    Path(out).write_text(json.dumps({"wall": wall, "flagged": flagged, "grouped": groups, "figures": figures}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=12000)
    ap.add_argument("--swap", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mode", choices=["full", "aligned"], help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.mode:
        run_mode(args.mode, args.rows, args.swap, args.seed, args.out)
        return
    _, moved = subset(args.rows, args.swap, args.seed)
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("full", "aligned"):
            path = os.path.join(tmp, f"{mode}.json")
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--mode",
                    mode,
                    "--rows",
                    str(args.rows),
                    "--swap",
                    str(args.swap),
                    "--seed",
                    str(args.seed),
                    "--out",
                    path,
                ],
                check=True,
            )
            res[mode] = json.loads(Path(path).read_text())
            print(f"{mode:8s} wall {res[mode]['wall']:7.1f} s", flush=True)
    n = args.rows
    print(
        f"\nAlpaca subset: {n} rows, {len(moved)} answers swapped (seed {args.seed}); load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    full, al = res["full"], res["aligned"]
    print(f"time: full {full['wall']:.1f} s, aligned {al['wall']:.1f} s -> {full['wall'] / al['wall']:.2f}x faster")
    fs, as_ = set(full["flagged"]["semantic_duplicate"]), set(al["flagged"]["semantic_duplicate"])
    fg, ag = set(full["grouped"]), set(al["grouped"])
    print(
        f"semantic_duplicate: full flags {len(fs)} rows ({len(fg)} in groups), aligned {len(as_)} rows ({len(ag)} in groups); "
        f"aligned recall of full's grouped rows {len(fg & ag) / max(len(fg), 1):.3f}, "
        f"aligned grouped rows not grouped by full {len(ag - fg)}"
    )
    sd = al["figures"]["noise"]["semantic_duplicate"]
    print(
        f"  aligned: {sd.get('candidate_pairs')} candidate pairs, {sd.get('verified_pairs')} verified, "
        f"{sd.get('samples_embedded_full')} samples embedded on the full encoder; alignment {sd.get('alignment')}"
    )
    clean = n - len(moved)
    for code in ("mismatched_answer", "answer_off_topic"):
        for mode in ("full", "aligned"):
            got = set(res[mode]["flagged"][code])
            print(
                f"{code:18s} {mode:8s} swapped recall {len(got & moved) / max(len(moved), 1):.3f}  "
                f"false positives {len(got - moved) / clean:.4f} of untouched rows ({len(got - moved)})"
            )
    for name, dim in (("mismatched_answer", "noise"), ("answer_relevance", "answer_quality")):
        f = al["figures"][dim][name]
        print(f"  aligned {name}: verified on full {f.get('verified_full')} of {f.get('doubtful')} doubtful")


if __name__ == "__main__":
    main()
