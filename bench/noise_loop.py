"""Curation pays, shown by the product: inject the defects the audit detects into a clean base, then train
the same recipe on four arms through the experiment API and compare their loss on clean held-out rows.

    python bench/noise_loop.py [--seeds 0,1,2] [--share 0.25] [--held-out 300] [--epochs 1 | --steps 150]

1. Clean base: the Dolly 3k rows (human-written, ``alpagasus/dolly_3k.json``) of at most ``--max-chars``
   (500) characters. A fixed 300 rows are held out first
   (the same for every seed); no arm ever trains on them.
2. Per seed, ``inject_defects`` corrupts ``--share`` of the remaining rows, the same number of rows of each
   kind (:data:`KINDS`): empty, placeholder, truncated, swapped, wrong-language (a Chinese answer) and looping
   answers, another task glued after the answer, exact and near copies of another row.
3. The noisy set is uploaded and audited with every registered scorer (the product's default audit), then
   curated with the README's policy without its budget: drop rows with an error or warning flag, keep the
   best row of each duplicate group.
4. One ``POST /v1/experiments`` trains four arms with the same recipe: ``curated``; ``random`` (the
   curation's own random baseline, as many rows as ``curated``); ``all`` (the whole noisy upload) and
   ``oracle`` (the base without the injected rows) as extra arms; every arm is evaluated on the held-out rows.

Runs in-process (FastAPI TestClient + a worker) on a temporary SQLite database; the model is the closed
loop's small random-init Llama (``bench/closed_loop.py``) with a BPE tokenizer trained on the clean training
rows, trained on CPU. Prints per-arm mean ± sd over seeds, the curated arm's distance to the oracle and to the
random arm, its gap to random in sd units, and which injected and clean rows curation dropped.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import peak_rss_mb, shared_data
from bench.noise_detection import PLACEHOLDERS_EN, _cut, _perturb
from scorers.text.sentences import split_sentences

#: injected kind -> the flag codes that count as the audit detecting it (the scorers behind them:
#: :func:`detecting_scorers`)
KINDS: dict[str, frozenset[str]] = {
    "empty_answer": frozenset({"empty_answer"}),
    "placeholder_answer": frozenset({"placeholder_answer"}),
    "truncated_answer": frozenset({"truncated_answer"}),
    "swapped_answer": frozenset({"mismatched_answer", "answer_off_topic"}),
    "wrong_language": frozenset({"wrong_language"}),
    "repetition": frozenset({"repetition"}),
    "merged_instructions": frozenset({"merged_instructions"}),
    "exact_duplicate": frozenset({"exact_duplicate"}),
    "near_duplicate": frozenset({"near_duplicate", "duplicate_instruction", "duplicate_answer"}),
}


def detecting_scorers() -> list[str]:
    """The scorers whose flags detect the injected kinds."""
    from scorers.flags import FLAG_CODES

    return sorted({FLAG_CODES[c].scorer for codes in KINDS.values() for c in codes})


#: kinds whose corruption needs an answer long enough to cut, loop or trade meaningfully
LONG_ANSWER = 150
_NEEDS_LONG = {"truncated_answer", "swapped_answer", "merged_instructions"}
MERGE_FORMATS = (
    "{a}\n##\n{k}. Instruction: {q}\n{k}. Input:\n<noinput>\n{k}. Output:\n{o}",
    "{a}\n\n### Instruction:\n{q}\n\n### Response:\n{o}",
    "{a}\n\nInstruction: {q}\nOutput: {o}",
)


def _loop(answer: str, rng: random.Random) -> str:
    """A model stuck in a loop: the answer up to one of its sentences, then that sentence again and again."""
    sentences = split_sentences(answer, lines=False)
    long_enough = [i for i, s in enumerate(sentences) if len(s.split()) >= 4] or [0]
    k = rng.choice(long_enough[:3])
    said = sentences[k] if len(sentences[k].split()) >= 4 else answer.strip()
    return " ".join(sentences[: k + 1] + [said] * rng.randint(4, 8))


def inject_defects(
    rows: list[dict[str, Any]], share: float, seed: int, other_language: list[str]
) -> tuple[list[dict[str, Any]], dict[int, str]]:
    """Corrupt ``share`` of ``rows`` (alpaca dicts), the same number of rows of each kind of :data:`KINDS`.

    Returns the noisy rows (same length and order) and ``{row index: kind}`` of the injected rows. Copies
    (exact and near duplicates) overwrite a row with a copy of an earlier row; the original stays clean.
    A swap trades the answers of two rows: both are injected. ``other_language`` holds answers in another
    language (Chinese) for the wrong-language kind. Deterministic under ``seed``.
    """
    rng = random.Random(seed)
    out = [dict(r) for r in rows]
    n_target = round(share * len(rows))
    per_kind = {k: n_target // len(KINDS) + (i < n_target % len(KINDS)) for i, k in enumerate(KINDS)}
    order = list(range(len(rows)))
    rng.shuffle(order)
    free = dict.fromkeys(order)  # insertion-ordered set of rows not yet touched
    kind: dict[int, str] = {}

    def take(long: bool = False) -> int:
        for i in free:
            if long and len(out[i]["output"]) < LONG_ANSWER:
                continue
            del free[i]
            return i
        raise ValueError("not enough rows left to inject into")

    for k, count in per_kind.items():
        done = 0
        while done < count:
            if k == "swapped_answer":
                if count - done < 2:
                    break
                a, b = take(long=True), take(long=True)
                out[a]["output"], out[b]["output"] = rows[b]["output"], rows[a]["output"]
                kind[a] = kind[b] = k
                done += 2
                continue
            i = take(long=k in _NEEDS_LONG)
            if k in ("exact_duplicate", "near_duplicate"):
                candidates = [j for j in range(i) if j not in kind]
                if not candidates:
                    free[i] = None  # no earlier clean row to copy: give it back
                    continue
                src = rng.choice(candidates)
                free.pop(src, None)  # the original stays clean
                out[i] = dict(rows[src])
                if k == "near_duplicate":
                    out[i]["instruction"] = _perturb(rows[src]["instruction"], False, rng)
            elif k == "empty_answer":
                out[i]["output"] = rng.choice(["", " ", "\n"])
            elif k == "placeholder_answer":
                out[i]["output"] = rng.choice(PLACEHOLDERS_EN)
            elif k == "truncated_answer":
                cut = _cut(rows[i]["output"], rng)
                if cut is None:
                    continue
                out[i]["output"] = cut
            elif k == "wrong_language":
                out[i]["output"] = rng.choice(other_language)
            elif k == "repetition":
                out[i]["output"] = _loop(rows[i]["output"], rng)
            elif k == "merged_instructions":
                other = rows[rng.randrange(len(rows))]
                out[i]["output"] = rng.choice(MERGE_FORMATS).format(
                    a=rows[i]["output"], k=rng.randint(2, 19), q=other["instruction"], o=other["output"]
                )
            kind[i] = k
            done += 1
    return out, kind


def chinese_answers(limit: int = 5000) -> list[str]:
    rows = json.loads((shared_data() / "alpaca_chinese_carbonz0" / "zh-data-part-00.json").read_text(encoding="utf-8"))
    return [r["output"] for r in rows[:limit] if len(r["output"]) >= 40]


def split_base(rows: list[dict[str, Any]], held_out: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A fixed (seed 0) held-out set, and the training base in its original order."""
    chosen = set(random.Random(0).sample(range(len(rows)), held_out))
    return ([r for i, r in enumerate(rows) if i not in chosen], [r for i, r in enumerate(rows) if i in chosen])


def mean_sd(xs: list[float]) -> tuple[float, float]:
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--share", type=float, default=0.25)
    ap.add_argument("--held-out", type=int, default=300)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument(
        "--max-chars",
        type=int,
        default=500,
        help="base: Dolly rows whose instruction, context and answer total at most this many characters",
    )
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument(
        "--steps",
        type=int,
        default=None,
        help="train every arm for this many optimiser steps (equal compute) instead of --epochs",
    )
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--limit", type=int, default=None, help="use only the first N Dolly rows (a smoke run)")
    ap.add_argument("--base-model", default=None)
    ap.add_argument("--out", default=None, help="write the per-seed figures as JSON here")
    ap.add_argument(
        "--export-arms",
        default=None,
        help="audit and curate on this machine, then write every seed's four arms and the held-out rows to this "
        "JSON file instead of training (bench/gpu_figures.py trains them on a GPU)",
    )
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]

    from fastapi.testclient import TestClient

    from app.api.main import create_app
    from app.db.session import session_scope
    from app.jobs.worker import Worker
    from app.services.auth import create_key
    from app.settings import Settings
    from bench._models import build_model

    t_all = time.perf_counter()
    dolly = [
        r
        for r in json.loads((shared_data() / "alpagasus" / "dolly_3k.json").read_text(encoding="utf-8"))
        if len(r["instruction"]) + len(r["input"]) + len(r["output"]) <= args.max_chars
    ][: args.limit]
    base, held = split_base(dolly, args.held_out)
    zh = chinese_answers()
    tmp = Path(tempfile.mkdtemp(prefix="sftaudit-noise-loop-"))
    model = args.base_model or str(build_model(base, tmp / "model", args.hidden, args.layers))
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'db.sqlite'}",
        storage={"data_dir": tmp / "data"},
        models={"roots": [str(Path(model).parent)]},
    )
    policy = {"drop_severities": ["error", "warning"], "dedupe": True}
    spec = {
        "base_model": model,
        "method": "full",
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "max_length": args.max_length,
        "overlength": "truncate",
        "warmup_ratio": 0.05,
        "save_steps": 100000,
        **({"max_steps": args.steps} if args.steps else {}),
    }
    results: list[dict[str, Any]] = []
    exported: dict[str, Any] = {"held_out": held, "base": base, "args": vars(args), "seeds": {}}
    with TestClient(create_app(settings)) as c:
        with session_scope(settings.db_url) as s:
            key, _ = create_key(s)
        c.headers["Authorization"] = f"Bearer {key}"
        worker = Worker(settings)

        def upload(name: str, rows: list[dict[str, Any]]) -> str:
            r = c.post("/v1/datasets", files={"file": (f"{name}.json", json.dumps(rows).encode())}, data={"name": name})
            assert r.status_code == 201, r.text
            return r.json()["id"]

        held_id = upload("dolly held out", held)
        print(
            f"Dolly rows of at most {args.max_chars} characters: {len(dolly)}; {len(held)} held out, {len(base)} to train on; "
            f"{args.share:.0%} injected per seed; model {Path(model).name}"
        )
        for seed in seeds:
            t_seed = time.perf_counter()
            noisy, kind = inject_defects(base, args.share, seed, zh)
            oracle = [r for i, r in enumerate(base) if i not in kind]
            noisy_id, oracle_id = upload(f"dolly noisy s{seed}", noisy), upload(f"dolly oracle s{seed}", oracle)
            t = time.perf_counter()
            audit = c.post(f"/v1/datasets/{noisy_id}/audits", json={"seed": seed}).json()
            worker.run_once()
            audit = c.get(f"/v1/audits/{audit['id']}").json()
            t_audit = time.perf_counter() - t
            assert audit["status"] == "succeeded", audit
            print(f"seed {seed}: audit in {t_audit:.0f}s", flush=True)
            cur = c.post(
                f"/v1/datasets/{noisy_id}/curations", json={"audit_id": audit["id"], "policy": {**policy, "seed": seed}}
            ).json()
            worker.run_once()
            cur = c.get(f"/v1/curations/{cur['id']}").json()
            assert cur["status"] == "succeeded", cur
            curated_id = cur["curated"]["id"]
            kept: set[int] = set()
            while len(kept) < cur["counts"]["kept"]:
                page = c.get(f"/v1/datasets/{curated_id}/lineage", params={"offset": len(kept)}).json()
                if not page["items"]:
                    break
                kept |= {x["source_index"] for x in page["items"]}
            assert len(kept) == cur["counts"]["kept"], "lineage page did not cover the curated set"
            dropped = set(range(len(noisy))) - kept
            if args.export_arms:
                from app.curation.select import random_subset

                arms = {
                    "curated": [noisy[i] for i in sorted(kept)],
                    # the curation's own random baseline: as many rows as it kept, drawn with its seed
                    "random": [noisy[i] for i in random_subset(range(len(noisy)), len(kept), seed)],
                    "all": noisy,
                    "oracle": oracle,
                }
                exported["seeds"][str(seed)] = {
                    "arms": arms,
                    **curation_figures(kind, dropped, len(noisy), cur["counts"]["dropped_by_reason"]),
                    "audit_s": t_audit,
                }
                Path(args.export_arms).write_text(json.dumps(exported))
                print(f"seed {seed}: curated kept {len(kept)} of {len(noisy)}; arms written", flush=True)
                continue
            exp = c.post(
                "/v1/experiments",
                json={
                    "curation_id": cur["id"],
                    "spec": {**spec, "seed": seed},
                    "eval_dataset_id": held_id,
                    "baselines": ["random"],
                    "extra_arms": {"all": noisy_id, "oracle": oracle_id},
                },
            )
            if exp.status_code != 202:
                raise SystemExit(f"experiment refused: {exp.status_code} {exp.text}")
            t = time.perf_counter()
            for _ in exp.json()["arms"]:
                worker.run_once()
            t_train = time.perf_counter() - t
            exp = c.get(f"/v1/experiments/{exp.json()['id']}").json()
            assert exp["status"] == "succeeded", exp
            res = {
                "seed": seed,
                "arms": {
                    a: {"rows": v["rows"], "loss": v["held_out_loss"], "accuracy": v["held_out_accuracy"]}
                    for a, v in exp["arms"].items()
                },
                **curation_figures(kind, dropped, len(noisy), cur["counts"]["dropped_by_reason"]),
                "audit_s": t_audit,
                "train_s": t_train,
                "seed_s": time.perf_counter() - t_seed,
            }
            results.append(res)
            if args.out:
                Path(args.out).write_text(json.dumps(results, indent=1))
            print(
                f"seed {seed}: 4 arms trained in {t_train:.0f}s; curated kept "
                f"{len(kept)} of {len(noisy)}; " + ", ".join(f"{a} {v['loss']:.4f}" for a, v in res["arms"].items()),
                flush=True,
            )
    if args.export_arms:
        print(f"arms of {len(seeds)} seeds written to {args.export_arms} in {time.perf_counter() - t_all:.0f}s")
        return
    report(results, args, time.perf_counter() - t_all)


def curation_figures(kind: dict[int, str], dropped: set[int], n: int, by_reason: dict[str, int]) -> dict[str, Any]:
    """What curation dropped of the injected and of the clean rows, per injected kind."""
    return {
        "injected": len(kind),
        "injected_dropped": len(dropped & set(kind)),
        "clean": n - len(kind),
        "clean_dropped": len(dropped - set(kind)),
        "per_kind": {
            k: [sum(1 for i, x in kind.items() if x == k and i in dropped), sum(1 for x in kind.values() if x == k)]
            for k in KINDS
        },
        "dropped_by_reason": by_reason,
    }


def report(results: list[dict[str, Any]], args: argparse.Namespace, wall: float) -> None:
    arms = ("all", "curated", "random", "oracle")
    loss = {a: [r["arms"][a]["loss"] for r in results] for a in arms}
    print(
        f"\nnoise-injection closed loop: Dolly, {args.share:.0%} of the training rows corrupted, seeds "
        f"{args.seeds}, {f'{args.steps} steps' if args.steps else f'{args.epochs:g} epochs'} per arm, held-out {args.held_out} clean rows"
    )
    print(f"{'arm':<8} {'rows (mean)':>11} {'held-out loss':>20} {'token acc':>10}")
    for a in arms:
        m, sd = mean_sd(loss[a])
        rows = statistics.fmean(r["arms"][a]["rows"] for r in results)
        acc = statistics.fmean(r["arms"][a]["accuracy"] for r in results)
        print(f"{a:<8} {rows:>11.0f} {m:>12.4f} ± {sd:.4f} {acc:>10.4f}")
    cur, rnd, orc = (statistics.fmean(loss[a]) for a in ("curated", "random", "oracle"))
    diffs = [r - c for r, c in zip(loss["random"], loss["curated"], strict=True)]
    d_m, d_sd = mean_sd(diffs)
    pooled = (
        ((statistics.stdev(loss["curated"]) ** 2 + statistics.stdev(loss["random"]) ** 2) / 2) ** 0.5
        if len(results) > 1
        else 0.0
    )
    print(
        f"curated − oracle {cur - orc:+.4f}; random − curated {rnd - cur:+.4f} → curated is "
        f"{'closer to the oracle' if abs(cur - orc) < abs(rnd - cur) else 'closer to random'}"
    )
    print(
        f"gap to random: {d_m:.4f} = {d_m / d_sd if d_sd else float('inf'):.1f} sd of the per-seed differences "
        f"(sd {d_sd:.4f}); {d_m / pooled if pooled else float('inf'):.1f} pooled sd of the two arms' losses"
    )
    inj = sum(r["injected"] for r in results)
    inj_d = sum(r["injected_dropped"] for r in results)
    clean = sum(r["clean"] for r in results)
    clean_d = sum(r["clean_dropped"] for r in results)
    print(
        f"curation dropped {inj_d} of {inj} injected rows (recall {inj_d / inj:.3f}) and {clean_d} of {clean} "
        f"clean rows ({clean_d / clean:.3f}); precision of the drops {inj_d / max(1, inj_d + clean_d):.3f}"
    )
    for k in KINDS:
        hit = sum(r["per_kind"][k][0] for r in results)
        tot = sum(r["per_kind"][k][1] for r in results)
        print(f"  {k:<20} dropped {hit:>4} of {tot:>4} ({hit / max(1, tot):.2f})")
    reasons: Counter[str] = Counter()
    for r in results:
        reasons.update(r["dropped_by_reason"])
    print("dropped by reason (all seeds): " + ", ".join(f"{k} {v}" for k, v in reasons.most_common(12)))
    print(
        f"wall time {wall / 60:.1f} min (audits {sum(r['audit_s'] for r in results):.0f}s, training "
        f"{sum(r['train_s'] for r in results):.0f}s), peak RSS {peak_rss_mb():.0f} MB"
    )


if __name__ == "__main__":
    main()
