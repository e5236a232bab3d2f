"""Embeddings built in code for unit tests: a fake embedder the context hands to scorers."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from scorers import Sample
from scorers.context import ScoringContext
from scorers.models import ModelConfig


class FakeEmbedder:
    """Maps known texts to given vectors; unknown texts get a deterministic random unit vector."""

    def __init__(self, vectors: dict[str, np.ndarray], dim: int, name: str = "fake-multilingual", tier: str = "fast"):
        self.vectors = {k: v / np.linalg.norm(v) for k, v in vectors.items()}
        self.dimension = dim
        self.source_name = name
        self.tier = tier

    def describe(self) -> dict[str, str]:
        lang = "multilingual" if "multilingual" in self.source_name else "en"
        return {"model": self.source_name, "tier": self.tier, "backend": "test", "languages": lang}

    def encode(self, texts: list[str], progress=None) -> np.ndarray:
        out = []
        for k, t in enumerate(texts):
            if progress is not None:
                progress(k + 1, len(texts))
            v = self.vectors.get(t)
            if v is None:
                seed = int.from_bytes(hashlib.blake2b(t.encode(), digest_size=4).digest(), "little")
                rng = np.random.default_rng(seed)  # stable across processes (unlike hash())
                v = rng.normal(size=self.dimension)
                v /= np.linalg.norm(v)
            out.append(v)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dimension)


def context_with(samples: Sequence[Sample], vectors: dict[str, np.ndarray], dim: int, **kw) -> ScoringContext:
    """A context whose fast and full tiers both answer from ``vectors`` (a fake multilingual model: it reads
    every language unless ``models`` says otherwise)."""
    kw.setdefault("models", ModelConfig(embedding_languages="*"))
    ctx = ScoringContext(samples=samples, **kw)
    for tier in ("fast", "full"):
        ctx._memo[f"embedder:{tier}"] = FakeEmbedder(vectors, dim, tier=tier)
    return ctx


def blobs(centres: int, per: int, dim: int = 16, spread: float = 0.05, seed: int = 0) -> np.ndarray:
    """``centres`` well-separated groups of ``per`` unit vectors each (rows grouped by centre)."""
    rng = np.random.default_rng(seed)
    c = np.linalg.qr(rng.normal(size=(dim, dim)))[0][:centres]
    x = np.repeat(c, per, axis=0) + spread * rng.normal(size=(centres * per, dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True)
