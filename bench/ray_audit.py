"""The Ray backend against the local one, on a real two-node Ray cluster on this machine.

    python bench/ray_audit.py [FILE] [--rows 20000] [--skip-whole]

FILE defaults to Alpaca 52k in the shared data; the first ``--rows`` rows are audited with every default scorer and
default settings (above ``full_tier_max_samples`` the full encoder embeds the alignment sample and the candidates;
the rest is on the fast tier). The cluster: ``ray start --head`` and ``ray start --address``, one CPU each.

Printed, all measured in this run:

* **whole audit**: local backend vs Ray backend, wall time and the ratio (target ≤ 1.5×), and whether
  ``report.json`` and ``samples.jsonl`` are the same bytes;
* **the parallel stages** (the embedding blocks, the per-sample scorers over chunks) on Ray with 1 worker process
  vs 2, and the speed-up (target ≥ 1.7×); each stage's per-row figures for docs/scale.md;
* the load average, because the 2 cores are shared with other work.

Nothing is reused between runs: the vector cache is off and the encoder caches are emptied before each.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import peak_rss_mb  # noqa: E402
from bench._load import DATA  # noqa: E402


def _digest(out) -> tuple[str, str]:
    rep = hashlib.sha256(out.report_json().encode()).hexdigest()[:16]
    smp = hashlib.sha256("".join(out.samples_jsonl()).encode()).hexdigest()[:16]
    return rep, smp


def _fresh() -> None:
    from scorers import embeddings

    embeddings._EMBEDDERS.clear()


def _stages(samples, models, backend) -> dict[str, float]:
    """The two parallel stages alone, as the pipeline runs them (fresh caches)."""
    from scorers.context import ScoringContext
    from scorers.pipeline import embedding_blocks, resolve_scorers

    _fresh()
    instances = resolve_scorers(None)
    ctx = ScoringContext(samples=samples, models=models, seed=0)
    embedder, blocks = embedding_blocks(instances, ctx)
    t = time.perf_counter()
    backend.encode_blocks(embedder, blocks, lambda k, m: None)
    embed = time.perf_counter() - t
    per_sample = [s for s in instances if type(s).per_sample]
    t = time.perf_counter()
    got = backend.score_per_sample(per_sample, samples, ctx, lambda k, m: None)
    score = time.perf_counter() - t
    assert set(got) == {s.name for s in per_sample}, sorted(got)
    return {"embed": embed, "per_sample": score, "texts": sum(len(b) for b in blocks), "blocks": len(blocks)}


def per_row_memory(samples, models) -> None:
    """Bytes per row that each step holds, measured with tracemalloc on these rows (docs/scale.md scales them to a
    million rows); vector sizes follow from the models' dimensions."""
    import pickle
    import tracemalloc

    from bench._data import load
    from scorers._minhash import build_shingles, signatures
    from scorers.context import ScoringContext
    from scorers.embeddings import get_embedder
    from scorers.pipeline import resolve_scorers

    n = len(samples)

    def held(make):
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        obj = make()
        after, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return obj, (after - before) / n, (peak - before) / n

    _, rows_b, _ = held(lambda: load(bench_file, limit=n))
    wire = len(pickle.dumps(list(samples))) / n
    per_sample = [s for s in resolve_scorers(None) if type(s).per_sample]
    ctx = ScoringContext(samples=samples, models=models, seed=0)
    results, res_b, res_peak = held(lambda: [s.score(samples, ctx) for s in per_sample])
    res_wire = len(pickle.dumps(results)) / n
    prompts = ctx.texts("prompt")
    sets, sh_b, sh_peak = held(lambda: build_shingles(prompts))
    sig_b = sum(signatures(x, 128, 0).nbytes for x in sets) / n
    full_dim = get_embedder(models, "full").dimension
    fast_dim = get_embedder(models, "fast").dimension
    print("\n| held per row (measured on these rows) | bytes |\n|---|---|")
    print(f"| samples in memory (tracemalloc) | {rows_b:,.0f} |")
    print(f"| samples pickled (a chunk on the wire) | {wire:,.0f} |")
    print(
        f"| per-sample scorers' results ({len(per_sample)} scorers; peak while scoring) | {res_b:,.0f} ({res_peak:,.0f}) |"
    )
    print(f"| per-sample results pickled (back from a chunk) | {res_wire:,.0f} |")
    print(f"| MinHash shingle sets of the prompts (peak while building) | {sh_b:,.0f} ({sh_peak:,.0f}) |")
    print(f"| MinHash signatures, 128 permutations, every scheme | {sig_b:,.0f} |")
    print(f"| one view's full-encoder vectors (dim {full_dim}, float32) | {4 * full_dim} |")
    print(f"| one view's fast-tier vectors (dim {fast_dim}, float32) | {4 * fast_dim} |")


bench_file = str(DATA / "stanford_alpaca" / "alpaca_data.json")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?", default=str(DATA / "stanford_alpaca" / "alpaca_data.json"))
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--skip-whole", action="store_true", help="only the stages, 1 vs 2 workers")
    ap.add_argument("--memory-only", action="store_true", help="only the bytes each step holds per row")
    args = ap.parse_args()
    global bench_file
    bench_file = args.file

    from bench._data import load
    from bench._ray_cluster import TwoNodeCluster
    from scorers._ray_backend import RayBackend
    from scorers.embeddings import get_embedder
    from scorers.models import ModelConfig
    from scorers.pipeline import run_audit

    samples = load(args.file, limit=args.rows)
    models = ModelConfig()
    print(f"{Path(args.file).name}: {len(samples)} rows; load average {os.getloadavg()[0]:.2f}", flush=True)
    get_embedder(models, tier="fast")._load()  # the fast tier distilled once, outside every timing
    if args.memory_only:
        per_row_memory(samples, models)
        return

    whole: dict[str, float] = {}
    digests = {}
    if not args.skip_whole:
        _fresh()
        t = time.perf_counter()
        digests["local"] = _digest(run_audit(samples, models=models, seed=0))
        whole["local"] = time.perf_counter() - t
        print(f"whole audit, local backend: {whole['local']:.1f} s (peak RSS {peak_rss_mb():.0f} MB)", flush=True)

    with TwoNodeCluster(cpus=1) as cluster:
        t = time.perf_counter()
        RayBackend(cluster.address).connect()
        print(f"two-node cluster up; driver joined in {time.perf_counter() - t:.1f} s", flush=True)
        stages = {}
        for workers in (1, 2):
            stages[workers] = _stages(samples, models, RayBackend(cluster.address, workers=workers))
            s = stages[workers]
            print(
                f"stages with {workers} worker(s): embedding {s['embed']:.1f} s ({s['texts']} texts, {s['blocks']} "
                f"blocks), per-sample scorers {s['per_sample']:.1f} s; load average {os.getloadavg()[0]:.2f}",
                flush=True,
            )
        if not args.skip_whole:
            _fresh()
            t = time.perf_counter()
            digests["ray"] = _digest(run_audit(samples, models=models, seed=0, backend=RayBackend(cluster.address)))
            whole["ray"] = time.perf_counter() - t
            print(f"whole audit, Ray backend: {whole['ray']:.1f} s", flush=True)

    one = stages[1]["embed"] + stages[1]["per_sample"]
    two = stages[2]["embed"] + stages[2]["per_sample"]
    print("\n| measure | value | target |\n|---|---|---|")
    if whole:
        print(f"| whole audit, local | {whole['local']:.1f} s | |")
        print(f"| whole audit, Ray (2 nodes × 1 CPU) | {whole['ray']:.1f} s | |")
        print(f"| Ray / local | {whole['ray'] / whole['local']:.2f}× | ≤ 1.5× |")
        same = digests["local"] == digests["ray"]
        print(f"| same report.json and samples.jsonl bytes | {'yes' if same else 'NO'} {digests['ray']} | yes |")
    for name in ("embed", "per_sample"):
        print(
            f"| stage {name}: 1 worker → 2 workers | {stages[1][name]:.1f} s → {stages[2][name]:.1f} s "
            f"({stages[1][name] / max(stages[2][name], 1e-9):.2f}×) | |"
        )
    print(f"| parallel stages, 1 worker / 2 workers | {one / max(two, 1e-9):.2f}× | ≥ 1.7× |")
    n = len(samples)
    print(
        f"\nper row, 1 worker: embedding {1000 * stages[1]['embed'] / max(stages[1]['texts'], 1):.2f} ms per text "
        f"encoded; per-sample scorers {1000 * stages[1]['per_sample'] / n:.2f} ms per row; "
        f"load average at the end {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
