"""Who holds memory in a full default audit (issue #15): deep sizes (``sys.getsizeof``, each object counted once, in
this order) of the samples, the context's memo, the embedders' in-memory vector caches and each scorer's result,
taken just before the report is assembled, in bytes per row; the audit process's RSS at the start of each step, before
the report, after ``malloc_trim(0)`` and after the report; the records the report is written from.

    python bench/audit_memory.py FILE [--json FIGURES.json] [--out DIR] [--model-cache DIR]

``--out DIR`` also writes DIR/report.json and DIR/samples.jsonl (to compare two runs' bytes). The pool's worker
processes are not counted here (``bench/full_audit.py`` polls the whole process tree).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import sys
import time
import types
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SKIP_TYPES = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def deep(obj, seen: set[int]) -> int:
    total = 0
    stack = [obj]
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, SKIP_TYPES):
            continue
        seen.add(id(o))
        total += sys.getsizeof(o)
        if isinstance(o, np.ndarray):
            if o.base is not None:
                stack.append(o.base)
            continue
        if isinstance(o, (str, bytes, int, float, bool, type(None))):
            continue
        if isinstance(o, dict) or hasattr(o, "items") and hasattr(o, "keys") and not hasattr(o, "__dict__"):
            try:
                for k, v in o.items():
                    stack.append(k)
                    stack.append(v)
            except Exception:
                pass
            continue
        if isinstance(o, (list, tuple, set, frozenset)):
            stack.extend(o)
            continue
        if hasattr(o, "__dict__"):
            stack.append(vars(o))
        for cls in type(o).__mro__:
            for slot in getattr(cls, "__slots__", ()):
                if hasattr(o, slot):
                    stack.append(getattr(o, slot))
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--json", default=None, help="write the figures here")
    ap.add_argument("--out", default=None, help="write report.json and samples.jsonl here")
    ap.add_argument("--model-cache", default=None, help="the fast-tier model directory ($SFTAUDIT_MODEL_CACHE)")
    args = ap.parse_args()
    if args.model_cache:
        os.environ["SFTAUDIT_MODEL_CACHE"] = args.model_cache
    import tempfile

    from app.local import read_file_samples
    from app.settings import Settings
    from scorers import embeddings, pipeline

    settings = Settings()
    models = settings.model_config_for_scorers()
    samples, info = read_file_samples(Path(args.file), settings)
    n = len(samples)
    me = psutil.Process()
    rss0 = me.memory_info().rss
    print(f"{n} rows; RSS after reading {rss0 / 2**20:.0f} MB", flush=True)

    captured = {}
    orig_ctx = pipeline.ScoringContext

    def make_ctx(*a, **k):
        captured["ctx"] = orig_ctx(*a, **k)
        return captured["ctx"]

    pipeline.ScoringContext = make_ctx
    rss_steps: list[tuple[str, float]] = []
    last = [""]

    def progress(fraction: float, step: str) -> None:
        key = step.split(" (")[0]
        if key != last[0]:
            last[0] = key
            rss_steps.append((key, me.memory_info().rss / 2**20))

    figures: dict = {"rows": n}
    orig_assemble = pipeline.assemble

    def assemble(samples_, runs, dataset_info):
        gc.collect()
        rss = me.memory_info().rss
        seen: set[int] = set()
        rows = {}
        rows["samples"] = deep(list(samples_), seen)
        ctx = captured["ctx"]
        memo = {}
        for key, val in ctx._memo.items():
            if key.startswith("embedder:"):
                continue
            memo[key] = deep(val, seen)
        emb = {}
        for e in embeddings._EMBEDDERS.values():
            emb[f"{e.tier}:{e.backend}"] = (len(e._memory), deep(e._memory, seen))
        res = {}
        for r in runs:
            if r.result is None:
                continue
            parts = {}
            for part in ("scores", "flags", "fields", "summary"):
                parts[part] = deep(getattr(r.result, part), seen)
            res[r.name] = parts
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
        figures["rss_after_trim_mb"] = me.memory_info().rss / 2**20
        figures.update(rss_before_assemble_mb=rss / 2**20, memo=memo, embedders=emb, results=res, **rows)
        t = time.perf_counter()
        out = orig_assemble(samples_, runs, dataset_info)
        figures["assemble_s"] = time.perf_counter() - t
        gc.collect()
        figures["rss_after_assemble_mb"] = me.memory_info().rss / 2**20
        figures["records"] = deep(out.samples, set())
        return out

    pipeline.assemble = assemble
    with tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        out = pipeline.run_audit(samples, models=models, cache_dir=cache, dataset_info=info, progress=progress)
        figures["wall_s"] = time.perf_counter() - t
    figures["rss_steps"] = rss_steps
    figures["peak_rss_self_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kb = lambda b: f"{b / n:8.0f} B/row {b / 2**20:8.1f} MB"  # noqa: E731
    print(
        f"\nwall {figures['wall_s']:.0f} s; RSS before assemble {figures['rss_before_assemble_mb']:.0f} MB, "
        f"after {figures['rss_after_assemble_mb']:.0f} MB, peak (self) {figures['peak_rss_self_mb']:.0f} MB"
    )
    print(f"RSS after malloc_trim(0) before assemble: {figures['rss_after_trim_mb']:.0f} MB")
    print(f"samples            {kb(figures['samples'])}")
    for k, v in sorted(figures["memo"].items(), key=lambda kv: -kv[1]):
        print(f"memo {k:30s} {kb(v)}")
    for k, (cnt, v) in figures["embedders"].items():
        print(f"embedder {k:26s} {kb(v)}  ({cnt} vectors)")
    tot = 0
    for name, parts in sorted(figures["results"].items(), key=lambda kv: -sum(kv[1].values())):
        s = sum(parts.values())
        tot += s
        print(f"result {name:28s} {kb(s)}  " + " ".join(f"{p}={v / n:.0f}" for p, v in parts.items()))
    print(f"results total      {kb(tot)}")
    print(f"records (output)   {kb(figures['records'])}")
    print("\nRSS (main process) at each step start:")
    for k, v in rss_steps:
        print(f"  {k:50s} {v:7.0f}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))
    if args.out:
        from bench._common import write_outputs

        write_outputs(out, args.out)
    del out


if __name__ == "__main__":
    main()
