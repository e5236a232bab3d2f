"""Benchmark of the answer-quality scorers on real ground truth (``../shared/data``).

Prints:
* AUROC of ``answer_quality`` and of each sub-dimension / signal against: AlpaGasus kept vs dropped
  (claude_t45, helpfulness_t45 on Alpaca 52k), hh-rlhf harmless-base chosen vs rejected, the KTO demo
  labels, OASST best sibling (rank 0) vs the others — model signals off (model-free checks, plus
  relevance on a seeded subset) and, with ``--lm DIR``, the causal-LM signals on a seeded subset;
* the detection rate of altered GSM8K final answers (seeded) and the flag rate on the originals;
* two real instructions joined into one (numbered parts, "Additionally, …", two questions; English and
  Chinese): how often an ask left unanswered is flagged, and how often a fully answered one is;
* flags per code on the Chinese sets (Chinese Alpaca, BELLE eval, OpenAssistant Chinese);
* counts per flag code on Alpaca 52k, and 20 flagged rows (seeded) to inspect by eye;
* throughput per component on Alpaca 52k.

    python bench/answer_quality.py [--relevance-rows 2000] [--lm DIR [--gguf-file F] --lm-rows 200]

A missing signal for one sample (e.g. accuracy on prose: nothing to check) counts as 1.0 ("no problem
found") in the AUROC, which is how the combined score treats it too.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._quality_data import (  # noqa: E402
    alpaca_samples,
    alpagasus_labels,
    alter_final_answers,
    chinese_samples,
    combined_asks,
    gsm8k_rows,
    hh_pairs,
    kto_samples,
    load_alpaca,
    oasst_siblings,
)
from scorers import ModelConfig, run_audit  # noqa: E402
from scorers.answer_quality import SUBDIMENSIONS  # noqa: E402
from scorers.quality_asks import check_completeness  # noqa: E402
from scorers.quality_checks import check_accuracy  # noqa: E402
from scorers.samples import Sample  # noqa: E402

MODEL_FREE = ["answer_accuracy", "answer_completeness", "answer_conciseness", "answer_clarity", "answer_quality"]


def auroc(labels: list[int], scores: list[float | None]) -> float | None:
    from sklearn.metrics import roc_auc_score

    y = np.asarray(labels)
    s = np.asarray([1.0 if v is None else v for v in scores], dtype=float)
    if len(set(y)) < 2:
        return None
    return float(roc_auc_score(y, s))


def columns(out) -> dict[str, list[float | None]]:
    """answer_quality, each sub-dimension, and each signal's own score, per sample."""
    cols: dict[str, list[float | None]] = {"answer_quality": [r["scores"].get("answer_quality") for r in out.samples]}
    for sub in SUBDIMENSIONS:
        cols[sub] = [r.get("answer_quality_breakdown", {}).get(sub) for r in out.samples]
    for name in ("answer_relevance", "answer_perplexity", "answer_ifd", "answer_reward"):
        if name in out.samples[0]:
            cols[name] = [(r.get(name) or {}).get("score") for r in out.samples]
    return cols


_CACHE: dict = {}


def audit(
    samples: list[Sample], scorers: list[str], models: ModelConfig | None = None, params=None, cache: bool = True
):
    key = (id(samples), tuple(scorers), repr(models), repr(params))
    if not cache or key not in _CACHE:
        _CACHE[key] = run_audit(samples, scorers=scorers, models=models or ModelConfig(), params=params, seed=0)
    return _CACHE[key]


def report_auroc(title: str, labels: list[int], out) -> None:
    cols = columns(out)
    cells = [f"{k}={v:.3f}" if (v := auroc(labels, c)) is not None else f"{k}=n/a" for k, c in cols.items()]
    print(f"  {title:<44} n={len(labels):>6} pos={sum(labels):>5}  " + "  ".join(cells))


def subset(n_total: int, k: int, seed: int = 0) -> list[int]:
    idx = list(range(n_total))
    random.Random(seed).shuffle(idx)
    return sorted(idx[:k])


def reindex(samples: list[Sample]) -> list[Sample]:
    return [Sample(index=i, turns=s.turns, system=s.system, meta=s.meta) for i, s in enumerate(samples)]


def ground_truths() -> list[tuple[str, list[Sample], list[int]]]:
    rows = load_alpaca()
    alpaca = alpaca_samples(rows)
    out = [
        (f"alpagasus {f} kept vs dropped", alpaca, alpagasus_labels(rows, f))
        for f in ("claude_t45.json", "helpfulness_t45.json")
    ]
    hh, hl, _ = hh_pairs()
    out.append(("hh-rlhf harmless chosen vs rejected", hh, hl))
    kto, kl = kto_samples()
    out.append(("kto_en_demo label", kto, kl))
    oa, ranks, _ = oasst_siblings()
    out.append(("oasst sibling rank 0 vs rest", oa, [int(r == 0) for r in ranks]))
    return out


ASK_CODES = {"part_not_addressed", "ask_not_addressed", "question_not_addressed"}


def report_joined_asks() -> None:
    """Two real instructions joined into one: the first row's answer alone should be flagged, both answers not."""
    print(
        "\n== Joined instructions: two real asks in one, answered with the first answer only (flag expected) "
        "or with both (no flag expected), 1,000 pairs per set (seed 0) =="
    )
    for name, zh in (
        ("stanford_alpaca/alpaca_data.json", False),
        ("alpaca_chinese_carbonz0/zh-data-part-00.json", True),
    ):
        stats: dict[str, list[int]] = {}
        for style, ins, answer, label in combined_asks(load_alpaca(name), n=1000, zh=zh):
            hit = any(f.code in ASK_CODES for f in check_completeness(ins, answer, "").flags)
            st = stats.setdefault(style, [0, 0, 0, 0])
            st[0 if label else 2] += 1
            st[1 if label else 3] += hit
        for style, (pos, caught, neg, false) in stats.items():
            print(
                f"  {name.split('/')[0]:<24} {style:<26} unanswered ask flagged {caught}/{pos} = {caught / pos:.1%}   "
                f"both answered but flagged {false}/{neg} = {false / neg:.1%}"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--relevance-rows", type=int, default=2000, help="seeded subset embedded for the relevance signal")
    ap.add_argument("--tier", default="full")
    ap.add_argument("--lm", default=None, help="causal LM directory for perplexity / IFD")
    ap.add_argument("--gguf-file", default=None)
    ap.add_argument("--lm-rows", type=int, default=60)
    ap.add_argument(
        "--lm-sets",
        nargs="*",
        default=["claude_t45", "hh-rlhf", "kto"],
        help="ground truths (substrings of their titles) to run the LM on; a 270M model on 2 CPU cores is slow",
    )
    ap.add_argument(
        "--skip",
        nargs="*",
        default=[],
        help="sections to skip: auroc relevance (and swap) asks chinese gsm8k alpaca throughput lm",
    )
    args = ap.parse_args()
    gts = ground_truths()

    if "auroc" not in args.skip:
        print("\n== AUROC, model-free checks (all rows) ==")
        for title, samples, labels in gts:
            report_auroc(title, labels, audit(samples, MODEL_FREE))

    if "auroc" not in args.skip:
        print(
            "\n== Flag precision: share of flagged rows that the ground truth rates good (lower = the flag agrees) =="
        )
        for title, samples, labels in gts:
            out = audit(samples, MODEL_FREE)
            base = sum(labels) / len(labels)
            by_code: dict[str, list[int]] = {}
            for r, lab in zip(out.samples, labels):
                for code in {f["code"] for f in r["flags"]}:
                    by_code.setdefault(code, []).append(lab)
            cells = [
                f"{c}={np.mean(v):.2f}(n={len(v)})" for c, v in sorted(by_code.items(), key=lambda kv: -len(kv[1]))
            ]
            print(f"  {title:<44} base={base:.2f}  " + "  ".join(cells))

    if "relevance" not in args.skip:
        print(f"\n== AUROC with relevance ({args.tier} embeddings), seeded subset of ≤{args.relevance_rows} rows ==")
        for title, samples, labels in gts:
            idx = subset(len(samples), args.relevance_rows)
            sub = reindex([samples[i] for i in idx])
            t = time.perf_counter()
            out = audit(sub, [*MODEL_FREE, "answer_relevance"], params={"answer_relevance": {"tier": args.tier}})
            dt = time.perf_counter() - t
            report_auroc(title, [labels[i] for i in idx], out)
            print(f"    ({dt:.0f} s for {len(sub)} rows incl. embedding)")

    if "relevance" not in args.skip and "swap" not in args.skip:  # swap embeds too: skipping relevance skips it
        print(
            f"\n== Swapped answers: 5% of answers moved to another instruction (Alpaca subset of {args.relevance_rows}, seed 0) =="
        )
        alpaca = gts[0][1]
        idx = subset(len(alpaca), args.relevance_rows)
        sub = reindex([alpaca[i] for i in idx])
        rng = random.Random(0)
        moved = sorted(rng.sample(range(len(sub)), max(2, len(sub) // 20)))
        rot = moved[1:] + moved[:1]
        swapped = list(sub)
        for a, b in zip(moved, rot):
            swapped[a] = Sample(index=a, turns=(sub[a].turns[0], sub[b].turns[-1]))
        out = audit(swapped, ["answer_relevance"], params={"answer_relevance": {"tier": args.tier}})
        hit = [i for i, r in enumerate(out.samples) if any(f["code"] == "answer_off_topic" for f in r["flags"])]
        moved_set = set(moved)
        caught = len(moved_set & set(hit))
        false = len(set(hit) - moved_set)
        rel = [(r.get("answer_relevance") or {}).get("score") for r in out.samples]
        print(
            f"  swapped {len(moved)}: flagged {caught} = {caught / len(moved):.1%}; other rows flagged {false} = "
            f"{false / (len(sub) - len(moved)):.1%}; AUROC(relevance, not swapped) = "
            f"{auroc([int(i not in moved_set) for i in range(len(sub))], rel):.3f}"
        )

    if args.lm and "lm" not in args.skip:
        models = ModelConfig(language_model=args.lm)
        lm_params = {"gguf_file": args.gguf_file, "batch_size": 4, "max_length": 384, "max_answer_tokens": 128}
        print(f"\n== AUROC with the language model {Path(args.lm).name}, seeded subset of ≤{args.lm_rows} rows ==")
        for title, samples, labels in gts:
            if not any(k in title for k in args.lm_sets):
                continue
            idx = subset(len(samples), args.lm_rows)
            sub = reindex([samples[i] for i in idx])
            t = time.perf_counter()
            out = audit(
                sub,
                [*MODEL_FREE, "answer_perplexity", "answer_ifd"],
                models=models,
                params={"answer_perplexity": lm_params, "answer_ifd": lm_params},
            )
            dt = time.perf_counter() - t
            report_auroc(title, [labels[i] for i in idx], out)
            print(f"    ({dt:.0f} s for {len(sub)} rows, {len(sub) / dt:.2f} rows/s)")

    if "asks" not in args.skip:
        report_joined_asks()

    if "chinese" not in args.skip:
        print("\n== Chinese sets: answer_completeness flags per code ==")
        for title, samples in chinese_samples().items():
            out = audit(samples, ["answer_completeness"])
            codes = Counter(f["code"] for r in out.samples for f in {f["code"]: f for f in r["flags"]}.values())
            checked = sum(1 for r in out.samples if (r.get("answer_completeness") or {}).get("checked"))
            print(
                f"  {title:<44} rows={len(samples):>6} with checks={checked:>5}  "
                + "  ".join(f"{c}={n}" for c, n in codes.most_common())
            )

    if "gsm8k" not in args.skip:
        print("\n== GSM8K: altered final answers (seed 0) ==")
        rows = gsm8k_rows()
        altered = alter_final_answers(rows, seed=0)
        t = time.perf_counter()
        orig = [check_accuracy(r["instruction"], r["output"]) for r in rows]
        alt = [check_accuracy(r["instruction"], r["output"]) for r in altered]
        dt = time.perf_counter() - t
        changed = [i for i in range(len(rows)) if rows[i]["output"] != altered[i]["output"]]
        det = sum(1 for i in changed if alt[i].flags)
        fp = sum(1 for f in orig if f.flags)
        print(f"  rows {len(rows)}, altered {len(changed)}; detected {det} = {det / len(changed):.1%}")
        print(f"  originals flagged {fp} = {fp / len(rows):.1%}  (real GSM8K slips and false alarms; see the docs)")
        print(f"  codes on altered: {dict(Counter(f.code for a in alt for f in a.flags))}")
        print(f"  {2 * len(rows) / dt:.0f} rows/s")

    if "alpaca" not in args.skip and "throughput" not in args.skip:  # one section: either name skips it
        samples = gts[0][1]
        print("\n== Alpaca 52k: throughput per component (2 shared cores, under contention) ==")
        total = 0.0
        for name in MODEL_FREE[:-1]:
            t = time.perf_counter()
            audit(samples, [name], cache=False)
            dt = time.perf_counter() - t
            total += dt
            print(f"  {name:<22} {dt:6.1f} s  {len(samples) / dt:8.0f} rows/s")
        t = time.perf_counter()
        out = audit(samples, MODEL_FREE, cache=False)
        dt = time.perf_counter() - t
        print(
            f"  {'all model-free + combine':<22} {dt:6.1f} s  {len(samples) / dt:8.0f} rows/s (sum of parts {total:.1f} s)"
        )
        from scorers.quality_checks import instruction_expression, unit_conversion

        maths = [s for s in samples if instruction_expression(s.instruction) or unit_conversion(s.instruction)]
        wrong = [
            s
            for s in maths
            if any(
                f.code in {"wrong_result", "wrong_conversion"} for f in check_accuracy(s.instruction, s.answer).flags
            )
        ]
        worked = [r for r in out.samples if (r.get("answer_quality_breakdown") or {}).get("accuracy") is not None]
        print(
            f"\n== Alpaca maths: {len(maths)} rows ask for a computation or conversion we can redo; "
            f"{len(wrong)} ({len(wrong) / max(len(maths), 1):.0%}) state a wrong result; "
            f"{len(worked)} rows have any checkable accuracy claim =="
        )
        print("\n== Alpaca 52k: flags per code (samples) ==")
        for code, c in sorted(out.report["flagged_samples"].items(), key=lambda kv: -kv[1]):
            print(f"  {code:<28} {c}")
        flagged = [i for i, r in enumerate(out.samples) if r["flags"]]
        print(f"  samples with any flag: {len(flagged)} of {len(samples)}")
        print("\n== 20 flagged Alpaca rows (seed 0; verbose_for_task-only rows skipped) ==")
        pick = [
            i for i in flagged if {f["code"] for f in out.samples[i]["flags"]} - {"verbose_for_task", "hard_to_read"}
        ]
        for i in sorted(random.Random(0).sample(pick, min(20, len(pick)))):
            s = samples[i]
            print(f"  [{i}] Q: {s.instruction[:140]!r}\n       A: {s.answer[:160]!r}")
            for f in out.samples[i]["flags"]:
                print(f"       - {f['code']}: {f['reason'][:170]}")


if __name__ == "__main__":
    main()
