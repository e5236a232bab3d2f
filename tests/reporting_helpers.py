"""Real audits for the report and browser tests: shared datasets as samples, and the per-sample fields
the diversity / difficulty / answer-quality / consistency families add, computed here from the real
text with cheap stand-ins (TF-IDF clusters, length terciles) so every section of the page has data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from scorers import run_audit, sample
from scorers.base import Flag
from scorers.pipeline import AuditOutput
from scorers.samples import Sample

ALPACA = "stanford_alpaca/alpaca_data.json"
CHINESE = "alpaca_chinese_carbonz0/zh-data-part-00.json"
#: rows copied to the end of the slice, so the audit finds real exact duplicates.
REPEATED = (3, 7, 7)


def alpaca_samples(path: Path, n: int) -> list[Sample]:
    """The first ``n`` rows of an alpaca-format file, then copies of rows ``REPEATED``."""
    rows = json.loads(path.read_text(encoding="utf-8"))[:n]
    rows += [rows[i] for i in REPEATED]
    return [
        sample(i, r["instruction"] + ("\n\n" + r["input"] if r.get("input") else ""), r["output"])
        for i, r in enumerate(rows)
    ]


def texts_of(samples: list[Sample]) -> dict[int, dict[str, str]]:
    from app.reporting import texts_from_samples

    return texts_from_samples(samples)


#: The report tests check rendering, not scoring: they pin the scorers whose output they assert on,
#: so that new scorer families (which add flags) do not change what these tests expect.
BASIC_SCORERS = ["exact_duplicate", "text_length", "language"]


def audit(path: Path, n: int) -> tuple[list[Sample], AuditOutput]:
    samples = alpaca_samples(path, n)
    return samples, run_audit(samples, BASIC_SCORERS, seed=0)


def add_family_fields(out: AuditOutput, samples: list[Sample], k: int = 6) -> None:
    """Add what the other scorer families write: clusters with a 2-D map and keywords, task types,
    difficulty with a target mix, an answer-quality breakdown, and one consistency conflict."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    instructions = [s.instruction for s in samples]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), min_df=2, max_features=5000)
    x = vec.fit_transform(instructions)
    reduced = TruncatedSVD(n_components=20, random_state=0).fit_transform(x)
    labels = KMeans(n_clusters=k, n_init=3, random_state=0).fit_predict(reduced)
    terms = np.asarray(vec.get_feature_names_out())
    clusters = []
    for c in range(k):
        centroid = np.asarray(x[labels == c].mean(axis=0)).ravel()
        clusters.append(
            {
                "id": c,
                "size": int((labels == c).sum()),
                "keywords": [t.strip() for t in terms[np.argsort(-centroid)[:4]]],
            }
        )
    answer_len = np.asarray([rec["answer_chars"] for rec in out.samples], dtype=float)
    cuts = np.quantile(answer_len, [1 / 3, 2 / 3])
    rank = answer_len.argsort().argsort() / max(len(answer_len) - 1, 1)
    for i, rec in enumerate(out.samples):
        rec["cluster"] = int(labels[i])
        rec["map_x"], rec["map_y"] = float(reduced[i, 0]), float(reduced[i, 1])
        rec["task_type"] = "open_qa" if instructions[i].rstrip().endswith(("?", "？")) else "generation"
        rec["difficulty"] = float(rank[i])
        rec["difficulty_level"] = (
            "easy" if answer_len[i] <= cuts[0] else "medium" if answer_len[i] <= cuts[1] else "hard"
        )
        rec["answer_quality_breakdown"] = {
            "completeness": float(min(1.0, answer_len[i] / 200)),
            "conciseness": float(max(0.0, 1 - answer_len[i] / 2000)),
        }
        rec["scores"]["answer_quality"] = float(np.mean(list(rec["answer_quality_breakdown"].values())))
    # samples 0 and 1 as a conflicting pair (their real texts, side by side)
    conflict = Flag(
        "conflicting_answers", "consistency", "warning", "a near-identical question is answered differently", (1,)
    )
    out.samples[0]["flags"].append(conflict.to_dict())
    dims = out.report["dimensions"]
    dims["diversity"]["figures"]["clusters_tfidf"] = {"clusters": clusters, "k": k}
    dims["difficulty"]["figures"]["length_terciles"] = {"target_mix": {"easy": 0.2, "medium": 0.5, "hard": 0.3}}
    for d, figure in (
        ("diversity", "clusters_tfidf"),
        ("difficulty", "length_terciles"),
        ("answer_quality", "length_proxy"),
        ("consistency", "conflict_pair"),
    ):
        scored = sum(1 for rec in out.samples if d in rec["scores"])
        dims[d].update(status="ok", score=0.5, reason=None, scorers=[figure], samples_scored=scored)


def curation_of(out: AuditOutput, size: int) -> dict[str, Any]:
    """A curation summary: unflagged samples with the best answer quality, against random and longest."""
    recs = out.samples
    clean = [r for r in recs if not r["flags"]]
    curated = sorted(clean, key=lambda r: (-r["scores"].get("answer_quality", 0), r["index"]))[:size]
    rng = np.random.default_rng(0)
    random = sorted(int(i) for i in rng.choice([r["index"] for r in recs], size, replace=False))
    longest = [r["index"] for r in sorted(recs, key=lambda r: (-r["answer_chars"], r["index"]))[:size]]
    flagged = len(recs) - len(clean)
    return {
        "policy": {"drop_flags": ["exact_duplicate"], "budget": size},
        "dropped_by_reason": {"flagged": flagged, "budget": len(clean) - len(curated)},
        "subsets": {"curated": sorted(r["index"] for r in curated), "random": random, "longest": longest},
    }


def record_with_conversation(rec: dict[str, Any], s: Sample) -> dict[str, Any]:
    """The samples endpoint's item: the per-sample record plus the whole conversation."""
    return {**rec, "conversation": {"system": s.system, "turns": [t.to_dict() for t in s.turns]}}
