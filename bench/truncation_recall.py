"""Truncation recall over many seeds: the injected cuts of ``bench/noise_detection.py``, and only them, read by
``broken_answer`` and (with ``--lm``) ``answer_ending``.

The noise bench cuts 83 answers a seed; one seed's recall moves by ±0.03 with which rows it cuts, and rules found by
reading one seed's misses flatter that seed.  This script gives the recall per seed and pooled, so a change can be
measured on seeds its author read and on seeds nobody read (docs/noise.md: seeds 0–7 were read, 8–11 were not
when this was written).  It runs the same injection as the bench (``inject`` with ``seed + k`` for the k-th base),
so seed 0 gives the bench's own truncation figure.

    python -m bench.truncation_recall --lm /path/to/gemma3-hf --seeds 8-11
    python -m bench.truncation_recall --seeds 0-3 --misses /tmp/misses.jsonl   # certain cuts only, misses saved
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._data import load  # noqa: E402
from bench.noise_detection import BASES, TYPES, _shown, donors, inject  # noqa: E402
from scorers import ModelConfig, run_audit  # noqa: E402


def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="0-3", help="seeds, e.g. 0-3 or 0,2,8-11 (the bench's protocol is 0)")
    ap.add_argument("--lm", default=None, help="a causal LM directory: also runs answer_ending")
    ap.add_argument("--rate", type=float, default=0.015, help="as the bench's --rate")
    ap.add_argument("--misses", type=Path, default=None, help="write each missed cut (ending, model fields) here")
    args = ap.parse_args()
    codes = TYPES["truncated_answer"][0]
    scorers = ["broken_answer"] + (["answer_ending"] if args.lm else [])
    models = ModelConfig(language_model=args.lm)
    en_donors, zh_donors = donors()
    bases = [(path, load(path, limit), zh) for path, limit, zh in BASES]
    misses: list[dict] = []
    found_all = total_all = 0
    print(f"truncation recall, {'with ' + args.lm if args.lm else 'certain cuts only (no LM)'}")
    print(f"{'seed':>4} {'cuts':>5} {'found':>6} {'recall':>7}  per base (found/cuts)")
    for seed in _seeds(args.seeds):
        t0 = time.perf_counter()
        found = total = 0
        per_base = []
        for k, (path, base, zh) in enumerate(bases):
            inj = inject(base, en_donors if zh else zh_donors, zh, seed=seed + k, rate=args.rate)
            pos = [p for p, t in inj.kind.items() if t == "truncated_answer"]
            rows = [inj.samples[p] for p in pos]
            out = run_audit(rows, scorers=scorers, models=models, seed=seed, gate_flags=False)
            hit = 0
            for s, rec in zip(rows, out.samples, strict=True):
                if {f["code"] for f in _shown(rec["flags"])} & codes:
                    hit += 1
                else:
                    misses.append(
                        {
                            "seed": seed,
                            "base": path,
                            "row": s.index,
                            "ending": s.answer[-160:],
                            "answer_ending": rec.get("answer_ending"),
                        }
                    )
            found, total = found + hit, total + len(rows)
            per_base.append(f"{Path(path).stem} {hit}/{len(rows)}")
        found_all, total_all = found_all + found, total_all + total
        print(
            f"{seed:>4} {total:>5} {found:>6} {found / max(total, 1):>7.3f}  {', '.join(per_base)}"
            f"  ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    print(f"pooled {total_all:>4} {found_all:>6} {found_all / max(total_all, 1):>7.3f}")
    if args.misses:
        args.misses.write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in misses), encoding="utf-8")
        print(f"{len(misses)} misses -> {args.misses}")


if __name__ == "__main__":
    main()
