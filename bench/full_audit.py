"""The full default audit of a file (every registered scorer, default settings), timed per scorer.

    python bench/full_audit.py [FILE] [--full-tier-max-samples N] [--cache DIR] [--model-cache DIR]
    python bench/full_audit.py --sweep 1000,3000,9000,20000,52000,100000,200000 [--model-cache DIR]
    python bench/full_audit.py FILE --flags before.jsonl   # each flagged row's codes, to compare two runs
    python bench/full_audit.py FILE --out DIR   # also writes DIR/report.json and DIR/samples.jsonl, to compare bytes

FILE defaults to Alpaca 52k in the shared data.  This is what ``sftaudit audit FILE`` runs, with the
time of each scorer (embedding done inside the first scorer that needs it), the wall time, peak RSS
and the load average printed.  ``--cache`` (the vector cache) defaults to a fresh temporary directory
so nothing is reused from an earlier run; ``--model-cache`` points at the fast-tier model directory
($SFTAUDIT_MODEL_CACHE; a fresh one makes the run distil the fast tier first, which is timed apart).
The baseline in the same run is the full encoder's own speed on a random 1,000 of the texts,
extrapolated to every instruction and answer (what an audit embedding everything would need).

``--sweep SIZES`` audits the mixed file of each size (:mod:`bench._mix`: Alpaca, Chinese Alpaca, GSM8K, Code Alpaca,
toolformer, Dolly, BELLE, LIMA in their real shares; rows beyond the 85,211 real ones are made distinct by
recombining two real rows of a source) each in a fresh subprocess, so that its peak RSS is its own, and prints rows/s,
peak RSS and the seconds of each scorer per size.  ``--json PATH`` writes one run's figures for the sweep to read.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import TreeRss, peak_rss_mb, write_outputs  # noqa: E402
from bench._load import DATA  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?", default=str(DATA / "stanford_alpaca" / "alpaca_data.json"))
    ap.add_argument("--full-tier-max-samples", type=int, default=None)
    ap.add_argument("--cache", default=None)
    ap.add_argument("--model-cache", default=None)
    ap.add_argument("--baseline", type=int, default=1000, help="texts for the full-encoder speed baseline (0: skip)")
    ap.add_argument("--sweep", default=None, help="comma-separated sizes of the mixed file, each audited apart")
    ap.add_argument("--sweep-dir", default="/tmp/sftaudit-sweep", help="where the mixed files are written")
    ap.add_argument("--json", default=None, help="write this run's figures here (used by --sweep)")
    ap.add_argument(
        "--flags", default=None, help="write each flagged row's index and flag codes here (JSONL), to compare two runs"
    )
    ap.add_argument(
        "--out",
        default=None,
        help="write report.json and samples.jsonl here, as the CLI does (compare two runs' bytes)",
    )
    ap.add_argument(
        "--processes", type=int, default=None, help="processes for the per-sample scorers (default: every CPU)"
    )
    args = ap.parse_args()
    if args.sweep:
        sweep([int(x) for x in args.sweep.split(",")], Path(args.sweep_dir), args)
        return
    if args.model_cache:
        os.environ["SFTAUDIT_MODEL_CACHE"] = args.model_cache
    from app.local import read_file_samples
    from app.settings import Settings
    from scorers.backends import LocalBackend
    from scorers.embeddings import get_embedder
    from scorers.pipeline import run_audit

    settings = Settings()
    models = settings.model_config_for_scorers()
    if args.full_tier_max_samples is not None:
        models = models.model_copy(update={"full_tier_max_samples": args.full_tier_max_samples})
    t0 = time.perf_counter()
    samples, info = read_file_samples(Path(args.file), settings)
    print(
        f"{Path(args.file).name}: {len(samples)} samples read in {time.perf_counter() - t0:.1f} s; "
        f"full_tier_max_samples={models.full_tier_max_samples}",
        flush=True,
    )

    t = time.perf_counter()
    get_embedder(models, tier="fast")._load()  # distils the fast tier on first use
    print(
        f"fast tier ready in {time.perf_counter() - t:.1f} s (distilled now unless already in the model cache)",
        flush=True,
    )

    steps: list[tuple[float, str]] = []
    step_peaks: list[float] = []  # peak RSS of the process tree during each step (the one before each mark)
    own_peaks: list[float] = []  # this process's exact peak during each step (VmHWM, reset at each mark)

    def progress(fraction: float, step: str) -> None:
        steps.append((time.perf_counter(), step))
        step_peaks.append(tree.mark())
        own_peaks.append(TreeRss.own_peak_since_mark() or 0.0)

    tmp = tempfile.TemporaryDirectory()
    cache = args.cache or tmp.name
    t = time.perf_counter()
    with TreeRss() as tree:
        out = run_audit(
            samples,
            models=models,
            cache_dir=cache,
            dataset_info=info,
            progress=progress,
            backend=LocalBackend(args.processes),
        )
    wall = time.perf_counter() - t
    steps.append((time.perf_counter(), "end"))
    step_peaks.append(tree.mark())
    own_peaks.append(TreeRss.own_peak_since_mark() or 0.0)
    print("\nper step (s; peak RSS MB of the process tree during it, polled; this process's own exact peak, VmHWM):")
    per_scorer: dict[str, float] = {}
    scorer_peak: dict[str, float] = {}
    scorer_own: dict[str, float] = {}
    for (t1, name), (t2, _), peak, own in zip(steps, steps[1:], step_peaks[1:], own_peaks[1:]):
        key = name.split(" (")[0].removeprefix("scoring: ")
        per_scorer[key] = per_scorer.get(key, 0.0) + t2 - t1
        scorer_peak[key] = max(scorer_peak.get(key, 0.0), peak)
        scorer_own[key] = max(scorer_own.get(key, 0.0), own)
    for name, sec in per_scorer.items():
        if sec >= 0.5 or scorer_own[name] >= 0.95 * max(scorer_own.values()):
            print(f"  {name:42s} {sec:7.1f} {scorer_peak[name]:7.0f} {scorer_own[name]:7.0f}")
    # getrusage's peak restarts with each VmHWM reset, so the process's peak is the largest of the steps' peaks
    own_max = max([peak_rss_mb(), *own_peaks])
    flagged = sum(1 for r in out.samples if r["flags"])
    print(
        f"\naudit wall {wall:.1f} s ({wall / 60:.2f} min); peak RSS {own_max:.0f} MB in this process, "
        f"{tree.peak_mb:.0f} MB with its worker processes (polled); "
        f"load average {os.getloadavg()[0]:.1f}; {flagged} samples flagged"
    )
    for dim, d in out.report["dimensions"].items():
        print(f"  {dim:15s} {d.get('score')}")
    if args.json:
        figures = {
            "rows": len(samples),
            "wall": wall,
            "peak_rss_mb": max(own_max, tree.peak_mb),
            "peak_rss_self_mb": own_max,
            "load": os.getloadavg()[0],
            "flagged": flagged,
            "per_scorer": per_scorer,
            "per_scorer_peak_rss_mb": scorer_peak,
            "per_scorer_own_peak_mb": scorer_own,
        }
        Path(args.json).write_text(json.dumps(figures), encoding="utf-8")
    if args.flags:
        with open(args.flags, "w", encoding="utf-8") as fh:
            for r in out.samples:
                if r["flags"]:
                    codes = sorted({f["code"] for f in r["flags"]})
                    fh.write(json.dumps({"index": r["index"], "codes": codes, "flags": r["flags"]}) + "\n")
    if args.out:
        write_outputs(out, args.out)
    if args.baseline:
        texts = [s.instruction for s in samples] + [s.answer for s in samples]
        sub = random.Random(0).sample(texts, min(args.baseline, len(texts)))
        full = get_embedder(models, tier="full")
        full._load()
        with tempfile.TemporaryDirectory() as fresh:
            full_fresh = type(full)(full.model_path, cache_dir=fresh)
            t = time.perf_counter()
            full_fresh.encode(sub)
            rate = len(sub) / (time.perf_counter() - t)
        est = len(texts) / rate
        print(
            f"\nbaseline: full encoder {rate:.0f} texts/s on {len(sub)} random texts -> every instruction and answer "
            f"({len(texts)}) would take {est:.0f} s alone; audit wall / that = {wall / est:.2f}"
        )
    tmp.cleanup()


def sweep(sizes: list[int], directory: Path, args: argparse.Namespace) -> None:
    """Each size's mixed file audited in a fresh subprocess (its own peak RSS), then one table."""
    from bench._mix import mixed_file

    results = []
    for size in sizes:
        path = mixed_file(size, directory)
        out = directory / f"figures-{size}.json"
        cmd = [sys.executable, __file__, str(path), "--baseline", "0", "--json", str(out)]
        if args.model_cache:
            cmd += ["--model-cache", args.model_cache]
        if args.full_tier_max_samples is not None:
            cmd += ["--full-tier-max-samples", str(args.full_tier_max_samples)]
        if args.processes is not None:
            cmd += ["--processes", str(args.processes)]
        print(f"\n=== {size:,} rows: {' '.join(cmd)}", flush=True)
        subprocess.run(cmd, check=True)
        results.append(json.loads(out.read_text(encoding="utf-8")))
    print("\n| rows | wall s | rows/s | peak RSS MB (with worker processes) | load |")
    print("|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['rows']:,} | {r['wall']:.0f} | {r['rows'] / r['wall']:.0f} | {r['peak_rss_mb']:.0f} | {r['load']:.1f} |"
        )
    names = sorted(
        {k for r in results for k in r["per_scorer"]}, key=lambda k: -max(r["per_scorer"].get(k, 0) for r in results)
    )
    slow = {name for name in names if max(r["per_scorer"].get(name, 0) for r in results) >= 0.5}
    _step_table("seconds per scorer", "per_scorer", results, names, slow, ".1f")
    _step_table("peak RSS of the process tree during each step (MB)", "per_scorer_peak_rss_mb", results, names, slow)
    top = max((v for r in results for v in r.get("per_scorer_own_peak_mb", {}).values()), default=0.0)
    high = {n for n in names if max(r.get("per_scorer_own_peak_mb", {}).get(n, 0) for r in results) >= 0.9 * top}
    _step_table(
        "the audit process's own exact peak during each step (VmHWM, MB; worker processes not counted)",
        "per_scorer_own_peak_mb",
        results,
        names,
        slow | high,
    )


def _step_table(title: str, key: str, results: list[dict], names: list[str], shown: set[str], fmt: str = ".0f") -> None:
    """One markdown table of a per-step figure (``key`` of each run's figures), a column per size."""
    print(f"\n{title}:\n")
    print("| step | " + " | ".join(f"{r['rows']:,}" for r in results) + " |")
    print("|---|" + "---:|" * len(results))
    for name in names:
        if name in shown:
            print(f"| {name} | " + " | ".join(f"{r.get(key, {}).get(name, 0):{fmt}}" for r in results) + " |")


if __name__ == "__main__":
    main()
