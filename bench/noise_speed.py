"""Speed and memory of the noise family on Alpaca 52k, and the near-duplicate stage against datasketch.

    python -m bench.noise_speed            # the whole thing (~2 minutes on 2 busy cores)
    python -m bench.noise_speed --baseline-rows 20000   # a shorter datasketch baseline

Prints: the time of each noise scorer without the embedding step (semantic_duplicate,
mismatched_answer and label_error need the shared embeddings and are left out), the near-duplicate
stage (shingling + vectorised MinHash + LSH + exact-Jaccard verification) against datasketch's
per-document MinHash + MinHashLSH insert/query measured in the same run, the recall of the LSH stage
against exact all-pairs Jaccard on a 5k-row sample, and peak RSS.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._data import load  # noqa: E402
from scorers import ModelConfig  # noqa: E402
from scorers._minhash import build_shingles, lsh_params, near_duplicates  # noqa: E402
from scorers.context import ScoringContext  # noqa: E402
from scorers.pipeline import resolve_scorers  # noqa: E402
from scorers.text.script import units  # noqa: E402

FAMILY = [
    "exact_duplicate",
    "duplicate_instruction",
    "duplicate_answer",
    "near_duplicate",
    "conflicting_answers",
    "junk_answer",
    "broken_answer",
    "text_damage",
    "unseen_content",
    "wrong_language",
    "extreme_length",
]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def family(samples) -> float:
    ctx = ScoringContext(samples=samples, models=ModelConfig(), seed=0)
    total = 0.0
    print(f"\nnoise family on {len(samples)} rows (no embeddings):")
    for scorer in resolve_scorers(FAMILY):
        t0 = time.perf_counter()
        res = scorer.score(samples, ctx)
        dt = time.perf_counter() - t0
        ctx.results[scorer.name] = res
        total += dt
        print(f"  {scorer.name:<22}{dt:7.2f}s  flagged {sum(1 for f in res.flags if f):>6}")
    print(f"  {'total':<22}{total:7.2f}s   (goal < 60 s)   peak RSS so far {peak_rss_mb():.0f} MB (goal < 2048)")
    return total


def baseline_shingles(text: str) -> list[bytes]:
    us, cjk = units(text)
    n = (3 if cjk else 5) if len(us) >= 30 else 2
    if len(us) < n:
        return [" ".join(us).encode()] if us else []
    return [" ".join(us[i : i + n]).encode() for i in range(len(us) - n + 1)]


def datasketch_baseline(texts: list[str], threshold: float, num_perm: int) -> float:
    """datasketch's per-document loop with the same LSH bands as ours (same candidate recall)."""
    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, params=lsh_params(threshold, num_perm))
    sigs = []
    for i, t in enumerate(texts):
        m = MinHash(num_perm=num_perm, seed=1)
        sh = baseline_shingles(t)
        if sh:
            m.update_batch(sh)
        lsh.insert(i, m)
        sigs.append(m)
    n_cand = sum(len(lsh.query(m)) - 1 for m in sigs)
    dt = time.perf_counter() - t0
    print(
        f"  datasketch per-document MinHash + LSH insert/query (bands x rows {lsh_params(threshold, num_perm)}, "
        f"no verification): {dt:.2f}s ({len(texts) / dt:,.0f} docs/s), "
        f"{n_cand // 2} candidate pairs (not verified)"
    )
    return dt


def exact_pairs(texts: list[str], threshold: float) -> set[tuple[int, int]]:
    """All pairs with Jaccard ≥ threshold in a shared shingle scheme, by blocked sparse products."""
    from scipy.sparse import csr_matrix

    truth: set[tuple[int, int]] = set()
    for sets in build_shingles(texts):
        m = len(sets.docs)
        if m < 2:
            continue
        _, cols = np.unique(sets.hashes, return_inverse=True)
        rows = np.repeat(np.arange(m), sets.sizes)
        x = csr_matrix((np.ones(len(cols), np.float32), (rows, cols)), shape=(m, cols.max() + 1))
        xt = x.T.tocsr()
        sizes = sets.sizes.astype(np.float32)
        for a0 in range(0, m, 500):
            inter = (x[a0 : a0 + 500] @ xt).toarray()
            jac = inter / (sizes[a0 : a0 + 500, None] + sizes[None, :] - inter)
            ii, jj = np.nonzero(jac >= threshold)
            for i, j in zip(ii + a0, jj):
                if i < j:
                    truth.add((int(sets.docs[i]), int(sets.docs[j])))
    return truth


def edit_words(text: str, rng: random.Random) -> str:
    ws = text.split()
    for _ in range(rng.randint(1, 3)):
        if len(ws) < 3:
            break
        k = rng.randrange(len(ws))
        op = rng.random()
        if op < 0.4:
            del ws[k]
        elif op < 0.7:
            ws.insert(k, rng.choice(["very", "also", "the", "some", "new"]))
        else:
            ws[k] = rng.choice(["thing", "item", "one", "part"])
    return " ".join(ws)


def recall_check(prompts: list[str], threshold: float, num_perm: int, seed: int) -> None:
    rng = random.Random(seed)
    base = rng.sample(prompts, 4500)
    texts = base + [edit_words(rng.choice(base), rng) for _ in range(500)]
    truth = exact_pairs(texts, threshold)
    nd = near_duplicates(texts, threshold=threshold, num_perm=num_perm, seed=seed)
    found = {(i, j) for i, j, _ in nd.pairs}
    hit = len(truth & found)
    print(
        f"\nrecall of the LSH stage vs exact Jaccard >= {threshold} on {len(texts)} rows (4,500 Alpaca prompts + "
        f"500 edited copies): {hit}/{len(truth)} = {hit / max(len(truth), 1):.3f} (goal >= 0.95); "
        f"false pairs: {len(found - truth)} (verified, so 0 expected)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline-rows", type=int, default=None, help="rows for the datasketch baseline (all)")
    ap.add_argument("--threshold", type=float, default=0.7)
    ap.add_argument("--num-perm", type=int, default=128)
    args = ap.parse_args()
    t0 = time.perf_counter()
    samples = load("stanford_alpaca/alpaca_data.json")
    print(f"loaded {len(samples)} rows in {time.perf_counter() - t0:.1f}s")
    family(samples)
    prompts = [s.prompt_text for s in samples]
    print(
        f"\nnear-duplicate stage on {len(prompts)} prompts, {args.num_perm} permutations, threshold {args.threshold}:"
    )
    t0 = time.perf_counter()
    nd = near_duplicates(prompts, threshold=args.threshold, num_perm=args.num_perm)
    ours = time.perf_counter() - t0
    print(
        f"  vectorised (shingling + MinHash + LSH + exact verification): {ours:.2f}s "
        f"({len(prompts) / ours:,.0f} docs/s), {nd.candidates} candidates, {len(nd.pairs)} verified pairs, "
        f"{len(nd.groups)} groups"
    )
    rows = prompts[: args.baseline_rows] if args.baseline_rows else prompts
    base = datasketch_baseline(rows, args.threshold, args.num_perm)
    base_full = base * len(prompts) / len(rows)
    print(
        f"  speed-up: {base_full / ours:.1f}x (goal >= 10x)"
        + ("" if len(rows) == len(prompts) else f" (baseline extrapolated from {len(rows)} rows)")
    )
    recall_check(prompts, args.threshold, args.num_perm, seed=0)
    print(f"\npeak RSS of the whole run (datasketch baseline included): {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
