"""Our own kernels against the well-kept libraries, on the same input in one run (issue #16, item 4).

    python bench/kernels.py [--rows 52000] [--model-cache DIR]

Input: the prompts of the mixed file of ``--rows`` rows (:mod:`bench._mix`), as near_duplicate shingles them.

* **MinHash signatures** over our own shingles: ``scorers._minhash.signatures`` (numpy multiply-shift) against
  ``rensa`` (``RMinHash.digest_matrix_from_flat_token_hashes``, Rust) and ``datasketch`` (``MinHash.bulk``, a
  1,000-document sample, extrapolated).  Signatures of different libraries are different hashes, so what is
  compared is what the scorer does with them: the near-duplicate pairs found at Jaccard ≥ 0.7 after exact
  verification.
* **Neighbour search** (top-10 cosine neighbours of every row, the fast-tier instruction vectors):
  ``scorers._vectors.knn`` (exact up to 8,000 rows, an inverted file above) against ``faiss`` (exact
  ``IndexFlatIP``; ``IndexIVFFlat`` with our lists and probes) and ``usearch`` (its HNSW index; its exact brute force allocates n × n and fails at 52k rows), with
  the recall of each against the exact search.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _timed(fn, *a, **kw):
    t = time.perf_counter()
    out = fn(*a, **kw)
    return out, time.perf_counter() - t


def rensa_signatures(sets, num_perm: int, seed: int) -> np.ndarray:
    """Signatures of the same shape as ``scorers._minhash.signatures`` from rensa over our shingle hashes (its only
    way out is ``to_rows``, a list of lists, so the conversion to numpy is part of its cost)."""
    import rensa

    n = len(sets.docs)
    m = rensa.RMinHash.digest_matrix_from_flat_token_hashes(
        sets.hashes, sets.offsets.astype(np.uint64), num_perm=num_perm, seed=seed
    )
    return np.array(m.to_rows(), dtype=np.uint32).reshape(n, num_perm)


def minhash(prompts: list[str], threads: int) -> None:
    import rensa

    from scorers import _minhash as M

    t = time.perf_counter()
    schemes = M.build_shingles(prompts)
    print(f"shingles of {len(prompts):,} prompts: {time.perf_counter() - t:.1f} s (same for every library)")
    bands, rows = M.lsh_params(0.7, 128)
    for name, sets in zip(("short", "long"), schemes):
        if len(sets.docs) < 2:
            continue
        ours, t_ours = _timed(M.signatures, sets, 128, 0)
        theirs, t_rensa = _timed(rensa_signatures, sets, 128, 0)
        _, t_rensa_core = _timed(
            rensa.RMinHash.digest_matrix_from_flat_token_hashes,
            sets.hashes,
            sets.offsets.astype(np.uint64),
            num_perm=128,
            seed=0,
        )
        print(
            f"  {name} scheme, {len(sets.docs):,} docs, {len(sets.hashes):,} shingles: ours {t_ours:.2f} s, "
            f"rensa {t_rensa:.2f} s with its conversion to numpy ({t_rensa_core:.2f} s without) -> ours / rensa "
            f"{t_ours / max(t_rensa, 1e-9):.2f}x"
        )
        found = {}
        for lib, sig in (("ours", ours), ("rensa", theirs)):
            pairs, t_c = _timed(M.candidate_pairs, sig, bands, rows)
            ok, t_v = _timed(M.verify, sets, pairs, 0.7, sig)
            found[lib] = {(i, j) for i, j, _ in ok}
            print(f"    {lib:6s}: {len(pairs):,} candidates ({t_c:.2f} s), {len(ok):,} pairs ≥ 0.7 ({t_v:.2f} s)")
        a, b = found["ours"], found["rensa"]
        print(f"    pairs found by both {len(a & b):,}; only ours {len(a - b):,}; only rensa {len(b - a):,}")
        for lib, pairs_found in found.items():
            uf = M.UnionFind(len(prompts))
            for i, j in pairs_found:
                uf.union(i, j)
            linked = sum(1 for i in range(len(prompts)) if uf.find(i) != i)
            print(
                f"    {lib:6s}: {linked:,} docs linked to an earlier one (what near_duplicate flags, before its vetoes)"
            )
        try:
            from datasketch import MinHash
        except ImportError:
            continue
        sub = min(1000, len(sets.docs))
        t = time.perf_counter()
        for k in range(sub):
            mh = MinHash(num_perm=128, seed=0)
            mh.update_batch([int(h).to_bytes(8, "little") for h in sets.of(k)])
        t_ds = (time.perf_counter() - t) * len(sets.docs) / sub
        print(f"    datasketch (MinHash.update_batch per doc, {sub} docs extrapolated): {t_ds:.1f} s")
    del rensa, threads


def neighbours(vecs: np.ndarray, threads: int) -> None:
    import faiss
    from usearch.index import Index, MetricKind

    from scorers._vectors import knn

    faiss.omp_set_num_threads(threads)
    x = np.ascontiguousarray(vecs, dtype=np.float32)
    n, d = x.shape
    k = 10
    (ours_i, _), t_ours = _timed(knn, x, k, 0)

    def flat():
        index = faiss.IndexFlatIP(d)
        index.add(x)
        s, i = index.search(x, k + 1)
        return i

    ex_i, t_flat = _timed(flat)

    def exact_rows(ii: np.ndarray) -> list[set[int]]:
        return [set(r[r != q][:k].tolist()) for q, r in enumerate(ii)]

    truth = exact_rows(ex_i)

    def recall(rows: list[set[int]]) -> float:
        return float(np.mean([len(a & b) / max(len(b), 1) for a, b in zip(rows, truth)]))

    def hnsw():
        index = Index(
            ndim=d, metric=MetricKind.IP, dtype="f32", connectivity=16, expansion_add=128, expansion_search=64
        )
        index.add(np.arange(n), x, threads=threads)
        return index.search(x, k + 1, threads=threads).keys

    hn_i, t_hnsw = _timed(hnsw)

    def ivf():  # the same inverted file as ours: √n lists trained on 30 per list, 10 probed
        nlist = int(np.sqrt(n))
        quant = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFFlat(quant, d, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        index.train(x[rng.choice(n, min(n, 30 * nlist), replace=False)])
        index.add(x)
        index.nprobe = 10
        return index.search(x, k + 1)[1]

    iv_i, t_ivf = _timed(ivf)
    print(f"top-{k} neighbours of {n:,} vectors (d={d}), {threads} threads:")
    print(
        f"  ours (scorers._vectors.knn)       {t_ours:6.2f} s  recall {recall([set(r.tolist()) for r in ours_i]):.4f}"
    )
    print(
        f"  faiss IndexFlatIP (exact)         {t_flat:6.2f} s  recall 1 (reference)  ours/faiss {t_ours / t_flat:.2f}x"
    )
    print(
        f"  faiss IVF (√n lists, 10 probed)   {t_ivf:6.2f} s  recall {recall(exact_rows(iv_i)):.4f}  ours/ivf {t_ours / t_ivf:.2f}x"
    )
    print(
        f"  usearch HNSW (build + search)     {t_hnsw:6.2f} s  recall {recall(exact_rows(hn_i)):.4f}  ours/hnsw {t_ours / t_hnsw:.2f}x"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=52000)
    ap.add_argument("--model-cache", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip", default="", help="minhash,neighbours")
    args = ap.parse_args()
    if args.model_cache:
        os.environ["SFTAUDIT_MODEL_CACHE"] = args.model_cache
    from app.local import read_file_samples
    from app.settings import Settings
    from bench._mix import mixed_file
    from scorers.context import ScoringContext
    from scorers.noise_duplicates import NearDuplicateParams, _question_texts
    from scorers.text.prompt import without_fillers

    settings = Settings()
    samples, _ = read_file_samples(mixed_file(args.rows, Path("/tmp/sftaudit-sweep")), settings)
    ctx = ScoringContext(samples=samples, models=settings.model_config_for_scorers())
    if "minhash" not in args.skip:
        prompts, _ = _question_texts(samples, ctx)
        del NearDuplicateParams
        minhash([without_fillers(t) for t in prompts], args.threads)
    if "neighbours" not in args.skip:
        t = time.perf_counter()
        vecs = ctx.embeddings("context", tier="fast")
        print(f"fast-tier vectors: {time.perf_counter() - t:.1f} s")
        neighbours(vecs, args.threads)


if __name__ == "__main__":
    main()
