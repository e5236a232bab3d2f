"""Consistency checks on real data.

    python bench/consistency_check.py
1. External: BELLE eval_set (1,000 Chinese questions with std_answer) as the reference set; the
   audited data is 200 of its questions with their own reference answer (should be supported), 200
   with another row's answer (should be contradicted) and 100 Alpaca questions (no reference).
2. Internal: answer_agreement + format_consistency on the Chinese OASST SFT set (one prompt per
   branch of a conversation tree, so repeated prompts with different answers exist) and a 5k
   Alpaca sample.
"""

from __future__ import annotations

import random
import time
from collections import Counter

from _load import load

from scorers import run_audit
from scorers.samples import Sample, Turn


def external() -> None:
    refs = load("belle/eval_set.json")
    rng = random.Random(0)
    pick = rng.sample(range(len(refs)), 400)
    own, swapped = pick[:200], pick[200:]
    samples, truth = [], []
    for i in own:
        samples.append(
            Sample(index=len(samples), turns=(Turn("user", refs[i].instruction), Turn("assistant", refs[i].answer)))
        )
        truth.append("supported")
    for k, i in enumerate(swapped):
        j = swapped[(k + 1) % len(swapped)]
        samples.append(
            Sample(index=len(samples), turns=(Turn("user", refs[i].instruction), Turn("assistant", refs[j].answer)))
        )
        truth.append("contradicted")
    for s in load("stanford_alpaca/alpaca_data.json", limit=100):
        samples.append(Sample(index=len(samples), turns=s.turns))
        truth.append("no_reference")
    t = time.perf_counter()
    out = run_audit(samples, scorers=["reference_agreement"], reference=refs)
    took = time.perf_counter() - t
    fig = out.report["dimensions"]["consistency"]["figures"]["reference_agreement"]
    got = [r["reference_status"] for r in out.samples]
    print(f"[external] BELLE eval_set reference, {len(samples)} samples, {took:.1f}s")
    print("  report:", {k: fig[k] for k in ("supported", "contradicted", "unclear", "no_reference")})
    for want in ("supported", "contradicted", "no_reference"):
        c = Counter(g for g, w in zip(got, truth) if w == want)
        print(f"  truth={want:13s} -> {dict(c)}  (accuracy {c[want] / truth.count(want):.2f})")
    print(
        "  models:",
        fig["embedding"]["matching"]["model"],
        "/",
        fig["embedding"]["candidates"]["model"],
        "| warning:",
        fig.get("warning", "-"),
    )


def internal() -> None:
    for rel, limit in [("llama_factory/oaast_sft_zh.json", None), ("stanford_alpaca/alpaca_data.json", 5000)]:
        samples = load(rel, limit=limit)
        t = time.perf_counter()
        out = run_audit(
            samples, scorers=["language", "instruction_clusters", "task_type", "answer_agreement", "format_consistency"]
        )
        took = time.perf_counter() - t
        figs = out.report["dimensions"]["consistency"]["figures"]
        ag, fm = figs["answer_agreement"], figs["format_consistency"]
        print(
            f"[internal] {rel} ({len(samples)} rows, {took:.1f}s): candidate pairs {ag['candidate_pairs']}, "
            f"same-question pairs {ag['same_question_pairs']}, samples with disagreeing answers {ag['samples_flagged']}; "
            f"format-inconsistent {fm['format_inconsistent']}, length outliers {fm['length_outliers']}"
        )
        ex = [r for r in out.samples if any(f["code"] == "inconsistent_answers" for f in r["flags"])][:2]
        for r in ex:
            f = next(f for f in r["flags"] if f["code"] == "inconsistent_answers")
            print(f"    e.g. sample {r['index']}: {f['reason'][:160]}")


if __name__ == "__main__":
    external()
    internal()
