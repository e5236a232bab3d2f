"""Difficulty mix of every alpaca-like shared dataset, and GSM8K vs Alpaca's short factual QA.

python bench/difficulty_mix.py
"""

from __future__ import annotations

import re
import time

import numpy as np
from _load import load

from scorers import run_audit

DATASETS = [
    "stanford_alpaca/alpaca_data.json",
    "gsm8k_alpaca_format/gsm_8k_train.json",
    "alpagasus/dolly_3k.json",
    "alpagasus/claude_t45.json",
    "codealpaca/code_alpaca_2k.json",
    "llama_factory/lima.json",
    "alpaca_chinese_carbonz0/zh-data-part-00.json",
    "belle/dev1K.json",
    "belle/eval_set.json",
    "fastchat/dummy_conversation.json",
]
FACTUAL = re.compile(r"^(what|who|when|where|which) (is|was|are|were) ", re.I)


def main() -> None:
    print(f"{'dataset':48s} {'rows':>6s}  easy  medium  hard  mean   time")
    means = {}
    for rel in DATASETS:
        samples = load(rel, limit=5000)
        t = time.perf_counter()
        out = run_audit(samples, scorers=["difficulty"])
        took = time.perf_counter() - t
        fig = out.report["dimensions"]["difficulty"]["figures"]["difficulty"]
        m = fig["mix"]
        means[rel] = [r["difficulty"] for r in out.samples]
        print(
            f"{rel:48s} {len(samples):6d}  {m['easy']:.2f}  {m['medium']:.2f}   {m['hard']:.2f}  "
            f"{fig['difficulty']['mean']:.3f}  {took:5.1f}s"
        )
    alpaca = load("stanford_alpaca/alpaca_data.json")
    short_qa = [
        s for s in alpaca if FACTUAL.match(s.instruction) and len(s.answer) < 200 and "\n\n" not in s.instruction
    ]
    qa = run_audit(short_qa, scorers=["difficulty"])
    qa_d = np.asarray([r["difficulty"] for r in qa.samples])
    gsm = np.asarray(means["gsm8k_alpaca_format/gsm_8k_train.json"])
    print(
        f"\nAlpaca short factual QA: n={len(short_qa)} mean difficulty {qa_d.mean():.3f} "
        f"(hard {np.mean([r['difficulty_level'] == 'hard' for r in qa.samples]):.2f})"
    )
    print(f"GSM8K (5k sample):       n={len(gsm)} mean difficulty {gsm.mean():.3f}")
    # probability that a random GSM8K row is rated harder than a random short-QA row
    rng = np.random.default_rng(0)
    a, b = rng.choice(gsm, 20000), rng.choice(qa_d, 20000)
    print(
        f"P(GSM8K row harder than short-QA row) = {np.mean(a > b):.3f}  -> "
        f"{'PASS' if gsm.mean() > qa_d.mean() else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
