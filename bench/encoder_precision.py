"""The full encoder in float32 against bfloat16 (``SFTAUDIT_MODELS__EMBEDDING_PRECISION``), on the same texts in
one run: texts/s of each, the ratio, and how far the bf16 vectors move (cosine to the float32 vector of the same
text).

    python bench/encoder_precision.py [--texts 2000]

Texts: a seeded sample of the instructions and answers of the mixed file (:mod:`bench._mix`: Alpaca, Chinese
Alpaca, GSM8K, Code Alpaca, toolformer, Dolly, BELLE, LIMA in their real shares), encoded as an audit encodes
them (``Embedder``: length-sorted batches of 16, 256 word pieces at most, no cache).  Each precision is timed
twice and the faster run kept.  ``auto`` picks bfloat16 only where the hardware computes it natively
(:func:`scorers.embeddings.native_bf16`, printed); elsewhere bfloat16 is emulated and slower.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._mix import mixed_rows  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=2000)
    args = ap.parse_args()
    import numpy as np

    from scorers.embeddings import Embedder, native_bf16
    from scorers.models import ModelConfig

    texts: list[str] = []
    for r in mixed_rows(20000):
        user = " ".join(str(r.get(k, "")) for k in ("instruction", "input")).strip()
        texts += [t for t in (user, str(r.get("output", ""))) if t]
    texts = random.Random(0).sample(sorted(set(texts)), min(args.texts, len(set(texts))))
    path = ModelConfig().path("embedding_model")
    assert path is not None, "the packaged all-MiniLM-L6-v2 is not installed"
    print(f"{len(texts)} texts of the mixed file; native bf16 on this CPU: {native_bf16('cpu')}")
    vectors, speed = {}, {}
    for precision in ("float32", "bfloat16"):
        emb = Embedder(path, device="cpu", precision=precision)
        emb.encode_block(texts[:32])  # load and warm up
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            vectors[precision] = emb.encode_block(texts)
            best = min(best, time.perf_counter() - t0)
        speed[precision] = len(texts) / best
        print(f"  {precision:9s} {best:6.1f} s  {speed[precision]:6.0f} texts/s")
    cos = (vectors["float32"] * vectors["bfloat16"]).sum(axis=1)
    print(
        f"bfloat16 / float32: {speed['bfloat16'] / speed['float32']:.2f}x; cosine to the float32 vector: "
        f"min {cos.min():.6f}, mean {cos.mean():.6f} (1 - min = {1 - cos.min():.1e})"
    )
    print(f"unit norm kept: {bool(np.allclose(np.linalg.norm(vectors['bfloat16'], axis=1), 1.0, atol=1e-6))}")


if __name__ == "__main__":
    main()
