"""Vectorised MinHash + LSH near-duplicate search (numpy over all shingles at once).

A per-document loop (datasketch's ``MinHash.update`` per row) spends most of its time in Python;
here every shingle of the whole dataset is one ``uint64`` array, each permutation is one vectorised
multiply-shift over it, and ``np.minimum.reduceat`` takes the per-document minimum.

Shingles (see :func:`scorers.text.script.units`):

* spaced languages: word n-grams; Chinese/Japanese: character n-grams;
* two schemes so that short texts are still compared: documents of fewer than ``long_from + overlap``
  units get *short* shingles (2-grams), documents of at least ``long_from`` units get *long* shingles
  (word 5-grams / character 3-grams).  Documents in the overlap get both, so a pair straddling the
  boundary shares a scheme; a pair of one text under ``long_from`` and one over
  ``long_from + overlap`` units cannot reach the threshold anyway (Jaccard ≤ shorter/longer);
* a text shorter than n units is one shingle (the whole text), so one-word prompts match exactly.

LSH candidates are verified with the exact Jaccard of the shingle sets and grouped with union-find.
Everything is deterministic for a given seed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from scorers.text.script import CJK_CHAR as _CJK
from scorers.text.script import units

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix(x: np.ndarray) -> np.ndarray:
    """A strong 64-bit mixer (splitmix64 finaliser), vectorised; wraps modulo 2**64."""
    x = x.astype(np.uint64, copy=True)
    x += np.uint64(0x9E3779B97F4A7C15)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@dataclass
class ShingleSets:
    """Per-document sorted unique shingle hashes, concatenated: doc i is ``hashes[offsets[i]:offsets[i+1]]``."""

    docs: np.ndarray  # positions (into the input texts) of the documents in this scheme
    hashes: np.ndarray
    offsets: np.ndarray

    def of(self, k: int) -> np.ndarray:
        return self.hashes[self.offsets[k] : self.offsets[k + 1]]

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)


def _window_hashes(ids: np.ndarray, starts: np.ndarray, lengths: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every n-gram of every document (ids concatenated; docs given by starts/lengths).

    Returns (hashes, owner) where owner is the document's row in ``starts``.  Documents shorter than
    n give one shingle covering all their units.
    """
    total = len(ids)
    mixed = _splitmix(ids.astype(np.uint64))
    pos_owner = np.repeat(np.arange(len(starts)), lengths)
    out_h: list[np.ndarray] = []
    out_o: list[np.ndarray] = []
    if total >= n:
        h = np.zeros(total - n + 1, dtype=np.uint64)
        for j in range(n):
            h = _splitmix(h ^ mixed[j : total - n + 1 + j] ^ np.uint64(j + 1))
        # a window is valid when it ends inside the document it starts in
        w_owner = pos_owner[: total - n + 1]
        ends = starts[w_owner] + lengths[w_owner]
        valid = np.arange(total - n + 1) + n <= ends
        out_h.append(h[valid])
        out_o.append(w_owner[valid])
    short = np.flatnonzero((lengths > 0) & (lengths < n))
    if len(short):
        hs = np.empty(len(short), dtype=np.uint64)
        for t, d in enumerate(short):
            h1 = np.zeros(1, dtype=np.uint64)
            for j in range(int(lengths[d])):
                h1 = _splitmix(h1 ^ mixed[starts[d] + j : starts[d] + j + 1] ^ np.uint64(j + 1))
            hs[t] = h1[0]
        out_h.append(hs)
        out_o.append(short)
    if not out_h:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    return np.concatenate(out_h), np.concatenate(out_o)


def _unique_per_doc(h: np.ndarray, owner: np.ndarray, n_docs: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((h, owner))
    h, owner = h[order], owner[order]
    keep = np.ones(len(h), dtype=bool)
    keep[1:] = (h[1:] != h[:-1]) | (owner[1:] != owner[:-1])
    h, owner = h[keep], owner[keep]
    counts = np.bincount(owner, minlength=n_docs)
    offsets = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return h, offsets


_SEP = "\ue000"  # a private-use character: NFKC and case folding leave it alone
_WORD_RUN = re.compile(r"[^\W_]+")


def _all_units(texts: Sequence[str]) -> list[tuple[list[str], bool]]:
    """:func:`~scorers.text.script.units` of every text, normalising the whole corpus in one pass.

    Same tokens as ``units`` (a word is a maximal run of letters/digits once punctuation is a space);
    Chinese/Japanese texts go through ``units`` itself.
    """
    if any(_SEP in t for t in texts):
        return [units(t) for t in texts]
    folded = unicodedata.normalize("NFKC", _SEP.join(texts)).casefold().split(_SEP)
    out: list[tuple[list[str], bool]] = []
    for raw, t in zip(texts, folded):
        if _CJK.search(t):
            out.append(units(raw))
        else:
            out.append((_WORD_RUN.findall(t), False))
    return out


def build_shingles(
    texts: Sequence[str], *, word_n: int = 5, cjk_n: int = 3, short_n: int = 2, long_from: int = 30, overlap: int = 20
) -> list[ShingleSets]:
    """Shingle every text in both schemes; returns [short scheme, long scheme]."""
    vocab: dict[str, int] = {}
    all_ids: list[int] = []
    lengths = np.zeros(len(texts), dtype=np.int64)
    is_cjk = np.zeros(len(texts), dtype=bool)
    for i, us_cjk in enumerate(_all_units(texts)):
        us, cjk = us_cjk
        is_cjk[i] = cjk
        lengths[i] = len(us)
        all_ids.extend([vocab.setdefault(u, len(vocab)) for u in us])
    ids = np.asarray(all_ids, dtype=np.int64)
    starts = np.zeros(len(texts), dtype=np.int64)
    if len(texts):
        np.cumsum(lengths[:-1], out=starts[1:])

    schemes: list[ShingleSets] = []
    in_short = (lengths > 0) & (lengths < long_from + overlap)
    in_long = lengths >= long_from
    for mask, sizes in ((in_short, {False: short_n, True: short_n}), (in_long, {False: word_n, True: cjk_n})):
        docs = np.flatnonzero(mask)
        hs: list[np.ndarray] = []
        ow: list[np.ndarray] = []
        for cjk in (False, True):
            sub = docs[is_cjk[docs] == cjk]
            if not len(sub):
                continue
            sub_ids = np.concatenate([ids[starts[d] : starts[d] + lengths[d]] for d in sub])
            sub_len = lengths[sub]
            sub_starts = np.zeros(len(sub), dtype=np.int64)
            np.cumsum(sub_len[:-1], out=sub_starts[1:])
            # CJK and spaced shingles must never collide: salt the CJK ones
            h, o = _window_hashes(sub_ids + (1 << 40) * int(cjk), sub_starts, sub_len, sizes[cjk])
            pos_in_docs = np.searchsorted(docs, sub)
            hs.append(h)
            ow.append(pos_in_docs[o])
        if hs:
            h, offsets = _unique_per_doc(np.concatenate(hs), np.concatenate(ow), len(docs))
        else:
            h, offsets = np.zeros(0, np.uint64), np.zeros(len(docs) + 1, np.int64)
        schemes.append(ShingleSets(docs=docs, hashes=h, offsets=offsets))
    return schemes


def signatures(sets: ShingleSets, num_perm: int, seed: int) -> np.ndarray:
    """MinHash signatures (uint32, shape (docs, num_perm)) by multiply-shift hashing, vectorised."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    n = len(sets.docs)
    sig = np.full((n, num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    nonempty = np.flatnonzero(sets.sizes > 0)
    if not len(nonempty) or not len(sets.hashes):
        return sig
    starts = sets.offsets[nonempty]
    x = sets.hashes
    for p in range(num_perm):
        v = ((a[p] * x + b[p]) >> np.uint64(32)).astype(np.uint32)
        sig[nonempty, p] = np.minimum.reduceat(v, starts)
    return sig


@lru_cache(maxsize=32)
def lsh_params(threshold: float, num_perm: int, at_threshold: float = 0.99) -> tuple[int, int]:
    """(bands, rows): the most rows per band (fewest false candidates) that still make a pair *at* the
    threshold a candidate with probability ``at_threshold``.

    datasketch's integrated-error optimum leaves a pair right at the threshold only ~60% likely to be
    compared (16 × 8 for 0.7 / 128); candidates are verified exactly anyway, so recall comes first.
    """
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if bands < 1:
            break
        if 1.0 - (1.0 - threshold**rows) ** bands >= at_threshold:
            best = (bands, rows)
    return best


def candidate_pairs(sig: np.ndarray, bands: int, rows: int, max_bucket: int = 64) -> np.ndarray:
    """Pairs (i < j, rows of ``sig``) sharing at least one LSH band; shape (m, 2), unique, sorted."""
    n = sig.shape[0]
    found: list[np.ndarray] = []
    for band in range(bands):
        cols = sig[:, band * rows : (band + 1) * rows].astype(np.uint64)
        key = np.zeros(n, dtype=np.uint64)
        for c in range(cols.shape[1]):
            key = _splitmix(key ^ cols[:, c])
        order = np.argsort(key, kind="stable")
        k_sorted = key[order]
        bounds = np.flatnonzero(np.diff(k_sorted)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [n]])
        sizes = ends - starts
        two = starts[sizes == 2]  # most buckets: one pair each, all at once
        if len(two):
            found.append(np.sort(np.stack([order[two], order[two + 1]], axis=1), axis=1))
        multi = np.flatnonzero(sizes > 2)
        for s, e in zip(starts[multi], ends[multi]):
            members = np.sort(order[s:e])
            if len(members) <= max_bucket:
                ii, jj = np.triu_indices(len(members), k=1)
            else:  # a huge bucket: chain neighbours and tie every member to the first one
                ii = np.concatenate([np.zeros(len(members) - 1, int), np.arange(len(members) - 1)])
                jj = np.concatenate([np.arange(1, len(members)), np.arange(1, len(members))])
            found.append(np.stack([members[ii], members[jj]], axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(found).astype(np.int64)
    code = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack([code // n, code % n], axis=1)


def verify(
    sets: ShingleSets,
    pairs: np.ndarray,
    threshold: float,
    sig: np.ndarray | None = None,
    margin: float = 0.15,
    progress: Callable[[int, int], None] | None = None,
) -> list[tuple[int, int, float]]:
    """Exact Jaccard of each candidate pair; keep those at or above ``threshold`` (as input positions).

    With signatures, pairs whose MinHash estimate is below ``threshold - margin`` are dropped first, all
    at once (with 128 permutations the estimate's standard deviation near 0.7 is 0.04: 0.15 is ~4σ).
    """
    sizes = sets.sizes
    if sig is not None and len(pairs):
        est = np.empty(len(pairs))
        for a0 in range(0, len(pairs), 65536):
            p = pairs[a0 : a0 + 65536]
            est[a0 : a0 + 65536] = (sig[p[:, 0]] == sig[p[:, 1]]).mean(axis=1)
        pairs = pairs[est >= threshold - margin]
    out: list[tuple[int, int, float]] = []
    for k, (i, j) in enumerate(pairs):
        if progress is not None and k % 4096 == 0:
            progress(k, len(pairs))
        si, sj = sizes[i], sizes[j]
        if min(si, sj) < threshold * max(si, sj):  # Jaccard ≤ smaller / larger
            continue
        inter = len(np.intersect1d(sets.of(i), sets.of(j), assume_unique=True))
        jac = inter / (si + sj - inter) if si + sj - inter else 1.0
        if jac >= threshold:
            out.append((int(sets.docs[i]), int(sets.docs[j]), float(jac)))
    return out


class UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class NearDuplicates:
    groups: list[list[int]]  # positions, each group sorted, groups ordered by first member
    #: best verified partner and its Jaccard, per position in a group
    partner: dict[int, tuple[int, float]] = field(default_factory=dict)
    pairs: list[tuple[int, int, float]] = field(default_factory=list)  # every verified pair (i < j, Jaccard)
    pairs_verified: int = 0
    candidates: int = 0
    bands: int = 0
    rows: int = 0


def near_duplicates(
    texts: Sequence[str],
    *,
    threshold: float = 0.7,
    num_perm: int = 128,
    seed: int = 0,
    word_n: int = 5,
    cjk_n: int = 3,
    short_n: int = 2,
    long_from: int = 30,
    overlap: int = 20,
    accept: Callable[[int, int], bool] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> NearDuplicates:
    """Groups of texts whose shingle sets have Jaccard ≥ ``threshold`` (linked transitively).

    ``accept(i, j)`` can veto a verified pair (e.g. two different tasks on one shared passage).
    ``progress(done, n)`` hears how many texts' candidate pairs are verified (a text in two shingle
    groups counts in each, capped at ``n``).
    """
    n = len(texts)
    bands, rows = lsh_params(threshold, num_perm)
    uf = UnionFind(n)
    partner: dict[int, tuple[int, float]] = {}
    n_cand = 0
    n_ok = 0
    found: dict[tuple[int, int], float] = {}
    docs_done = 0
    for sets in build_shingles(
        texts, word_n=word_n, cjk_n=cjk_n, short_n=short_n, long_from=long_from, overlap=overlap
    ):
        if len(sets.docs) < 2:
            continue
        sig = signatures(sets, num_perm, seed)
        pairs = candidate_pairs(sig, bands, rows)
        n_cand += len(pairs)
        base, size = docs_done, len(sets.docs)
        if progress is not None:

            def in_group(k: int, total: int, base: int = base, size: int = size) -> None:
                progress(min(n, base + size * k // max(total, 1)), n)

        for i, j, jac in verify(sets, pairs, threshold, sig, progress=in_group if progress is not None else None):
            if accept is not None and not accept(i, j):
                continue
            n_ok += 1
            key = (min(i, j), max(i, j))
            found[key] = max(jac, found.get(key, 0.0))
            uf.union(i, j)
            for a, b in ((i, j), (j, i)):
                if a not in partner or jac > partner[a][1] or (jac == partner[a][1] and b < partner[a][0]):
                    partner[a] = (b, jac)
        docs_done = min(n, docs_done + size)
        if progress is not None:
            progress(docs_done, n)
    comps: dict[int, list[int]] = {}
    for p in sorted(partner):
        comps.setdefault(uf.find(p), []).append(p)
    groups = sorted((sorted(g) for g in comps.values() if len(g) > 1), key=lambda g: g[0])
    return NearDuplicates(
        groups=groups,
        partner=partner,
        pairs=sorted((i, j, s) for (i, j), s in found.items()),
        pairs_verified=n_ok,
        candidates=n_cand,
        bands=bands,
        rows=rows,
    )
