"""Task-type labels vs the human ``category`` labels of alpagasus/dolly_3k.json.

    python bench/task_type_accuracy.py
Dolly's categories map onto ours: open_qa and general_qa → open_qa, information_extraction →
extraction, summarization → summarisation, the rest by name.
"""

from __future__ import annotations

import time
from collections import Counter

from _load import load

from scorers import run_audit

MAP = {
    "open_qa": "open_qa",
    "general_qa": "open_qa",
    "closed_qa": "closed_qa",
    "classification": "classification",
    "information_extraction": "extraction",
    "summarization": "summarisation",
    "brainstorming": "brainstorming",
    "creative_writing": "creative_writing",
}


def main() -> None:
    samples = load("alpagasus/dolly_3k.json")
    t = time.perf_counter()
    out = run_audit(samples, scorers=["task_type"])
    took = time.perf_counter() - t
    gold = [MAP[s.meta["original"]["category"]] for s in samples]
    pred = [r["task_type"] for r in out.samples]
    acc = sum(g == p for g, p in zip(gold, pred)) / len(gold)
    print(f"dolly_3k task_type accuracy: {acc:.3f} over {len(gold)} rows ({took:.1f}s)")
    per = Counter(gold)
    for cat in sorted(per):
        hits = sum(1 for g, p in zip(gold, pred) if g == cat and p == cat)
        wrong = Counter(p for g, p in zip(gold, pred) if g == cat and p != cat).most_common(2)
        print(f"  {cat:17s} n={per[cat]:4d} recall={hits / per[cat]:.2f}  most confused with {wrong}")
    print("  decided by:", out.report["dimensions"]["diversity"]["figures"]["task_type"]["decided_by"])


if __name__ == "__main__":
    main()
