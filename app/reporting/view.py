"""Digest an audit (report + per-sample records) into what the report page shows.

Pure Python, no plotting: every list and count here is traced back to the per-sample records, so the
page never shows a figure it cannot point at samples for.  The plots in :mod:`app.reporting.figures`
and the template read these structures.

Per-sample keys that get their own section when a scorer writes them (all optional):

* ``instruction_chars``, ``answer_chars``, ``instruction_tokens``, ``answer_tokens`` — length histograms;
* ``cluster`` (+ ``map_x``/``map_y`` for the 2-D map) — the cluster map and table; keywords come from a
  diversity figure holding ``"clusters": [{"id"|"cluster", "size", "keywords"}, ...]``;
* ``task_type``, ``language`` — bars;
* ``difficulty`` (0–1) and ``difficulty_level`` (easy/medium/hard) — the mix, against a
  ``"target_mix": {"easy": .., "medium": .., "hard": ..}`` found in a difficulty figure;
* ``duplicate_group`` — duplicate groups (otherwise groups are built from the flags whose kind is
  ``duplicate`` in ``scorers.flags``, joined through their ``related`` indices);
* ``answer_quality_breakdown`` — ``{component: score}`` per sample.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from app.curation.select import duplicate_groups as flag_groups
from scorers import flags
from scorers.base import DIMENSIONS

TITLES = {
    "diversity": "Diversity",
    "answer_quality": "Answer quality",
    "consistency": "Consistency",
    "difficulty": "Difficulty",
    "noise": "Noise",
}
BLURBS = {
    "diversity": "How much of the task space the data covers, and how evenly (1 = most diverse).",
    "answer_quality": "Accuracy, completeness, conciseness and clarity of the answers (1 = best).",
    "consistency": "Whether similar questions get compatible answers (1 = no contradictions).",
    "difficulty": "How hard the instructions are (1 = hardest; no direction is 'good': compare with the target mix).",
    "noise": "Broken, duplicated and junk samples (1 = clean).",
}
LEVELS = ("easy", "medium", "hard")
LENGTH_FIELDS = ("instruction_chars", "answer_chars", "instruction_tokens", "answer_tokens")
EXAMPLES_PER_CODE = 3
SHOWN_GROUPS = 10
SHOWN_CONFLICTS = 10
#: at most this many points in the 2-D map (a deterministic sample of the rest is drawn).
MAP_POINTS = 5000


def excerpt(text: str | None, limit: int = 280) -> str:
    if not text:
        return ""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def text_of(texts: Mapping[int, Mapping[str, str]], index: int, key: str, limit: int = 280) -> str | None:
    """An excerpt of one sample's instruction or answer; ``None`` when the caller gave no text for it."""
    row = texts.get(index)
    if row is None:
        return None
    return excerpt(row.get(key, ""), limit)


def percentiles(values: Sequence[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return {}
    q = np.percentile(arr, [25, 50, 75, 95])
    return {
        "min": float(arr.min()),
        "p25": float(q[0]),
        "median": float(q[1]),
        "p75": float(q[2]),
        "p95": float(q[3]),
        "max": float(arr.max()),
        "mean": float(arr.mean()),
        "n": int(arr.size),
    }


def field_values(samples: Iterable[Mapping[str, Any]], key: str) -> list[Any]:
    return [rec[key] for rec in samples if rec.get(key) is not None]


def score_values(samples: Iterable[Mapping[str, Any]], dimension: str) -> list[float]:
    return [rec["scores"][dimension] for rec in samples if rec.get("scores", {}).get(dimension) is not None]


# --- flags -----------------------------------------------------------------------------------------


def flag_codes(samples: Sequence[Mapping[str, Any]], texts: Mapping[int, Mapping[str, str]]) -> list[dict[str, Any]]:
    """Every flag code with its counts, dimension, worst severity and the first examples in file order."""
    codes: dict[str, dict[str, Any]] = {}
    rank = {"info": 0, "warning": 1, "error": 2}
    for rec in samples:
        seen: set[str] = set()
        for f in rec.get("flags", ()):
            c = codes.setdefault(
                f["code"],
                {
                    "code": f["code"],
                    "dimension": f["dimension"],
                    "severity": f["severity"],
                    "count": 0,
                    "samples": 0,
                    "examples": [],
                },
            )
            c["count"] += 1
            if rank.get(f["severity"], 0) > rank.get(c["severity"], 0):
                c["severity"] = f["severity"]
            if f["code"] in seen:
                continue
            seen.add(f["code"])
            c["samples"] += 1
            if len(c["examples"]) < EXAMPLES_PER_CODE:
                c["examples"].append(_example(rec["index"], f, texts))
    return sorted(codes.values(), key=lambda c: (-c["samples"], c["code"]))


def code_trust(report: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per flag code, how far it can be trusted: its measured precision (adjudicated on real rows) and the
    ceiling the gate holds it to — from the report, or from today's table for a report stored before."""
    from scorers import flags as flag_table

    out: dict[str, dict[str, Any]] = {}
    stored = report.get("flag_codes") or {}
    for code in set(stored) | set(report.get("flags") or {}):
        entry = stored.get(code) or flag_table.describe(code)
        p = entry.get("precision") or {}
        out[code] = {
            "meaning": entry.get("meaning"),
            "ceiling": entry.get("ceiling"),
            "precision": p.get("precision"),
            "verdicts": p.get("verdicts", 0),
            "low": p.get("low"),
            "high": p.get("high"),
        }
    return out


def not_judged(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The model-based signals that left rows out because the model cannot read their language, largest share
    first (the Overview says so near the top, with how to fix it)."""
    items = [{"scorer": name, **entry} for name, entry in (report.get("not_judged") or {}).items()]
    for run in report.get("scorers", ()):  # a signal that could judge too few rows to run at all
        if run.get("status") == "not_computed" and "does not read" in (run.get("reason") or ""):
            items.append(
                {"scorer": run["name"], "rows": None, "share": 1.0, "languages": {}, "reason": run["reason"], "fix": ""}
            )
    return sorted(items, key=lambda e: (-(e.get("share") or 0), e["scorer"]))


def held_back(report: Mapping[str, Any]) -> dict[str, int]:
    """Flags the precision gate held back (their codes are right less than 60% of the time when people read the
    rows), by code."""
    return dict(report.get("flags_held_back") or {})


def _example(index: int, flag: Mapping[str, Any], texts: Mapping[int, Mapping[str, str]]) -> dict[str, Any]:
    meta = flags.spec(flag["code"])
    reference = meta is not None and meta.kind == "reference"
    return {
        "index": index,
        "instruction": text_of(texts, index, "instruction", 240),
        "answer": text_of(texts, index, "answer", 240),
        "reason": flag["reason"],
        "related": [
            {
                "index": r,
                "instruction": None if reference else text_of(texts, r, "instruction", 120),
                "reference": reference,
            }
            for r in flag.get("related", ())[:5]
        ],
        "more_related": max(0, len(flag.get("related", ())) - 5),
    }


# --- duplicates and conflicts ----------------------------------------------------------------------


def duplicate_groups(samples: Sequence[Mapping[str, Any]], texts: Mapping[int, Mapping[str, str]]) -> dict[str, Any]:
    """Groups of samples that repeat each other, biggest first.

    From the per-sample ``duplicate_group`` field when a scorer wrote it; otherwise from the flags whose kind
    is ``duplicate`` in ``scorers.flags``, joined through their ``related`` indices (the groups curation dedupes).
    """
    dup_codes = flags.codes_of_kind("duplicate")
    members: dict[Any, list[int]] = defaultdict(list)
    if any(rec.get("duplicate_group") is not None for rec in samples):
        for rec in samples:
            g = rec.get("duplicate_group")
            if g is not None:
                members[g].append(rec["index"])
        source = "duplicate_group field"
    else:
        for n, group in enumerate(flag_groups(samples, dup_codes)):
            members[n] = list(group)
        source = "duplicate flags"
    row_codes = {rec["index"]: {f["code"] for f in rec.get("flags", ()) if f["code"] in dup_codes} for rec in samples}
    codes = {key: set().union(*(row_codes.get(i, set()) for i in m)) for key, m in members.items()}
    groups = sorted(
        ((sorted(m), sorted(codes[key])) for key, m in members.items() if len(m) > 1),
        key=lambda gc: (-len(gc[0]), gc[0][0]),
    )
    shown = []
    for g, group_codes in groups[:SHOWN_GROUPS]:
        shown.append(
            {
                "size": len(g),
                "codes": group_codes,
                "more": max(0, len(g) - 5),
                "members": [
                    {
                        "index": m,
                        "instruction": text_of(texts, m, "instruction", 160),
                        "answer": text_of(texts, m, "answer", 160),
                    }
                    for m in g[:5]
                ],
            }
        )
    return {"total": len(groups), "redundant": sum(len(g) - 1 for g, _ in groups), "shown": shown, "source": source}


def conflicts(samples: Sequence[Mapping[str, Any]], texts: Mapping[int, Mapping[str, str]]) -> dict[str, Any]:
    """Pairs of samples whose answers disagree: flags whose kind (``scorers.flags``) is ``conflict`` (the related
    rows are of this dataset) or ``reference`` (the related rows are of the reference set)."""
    pairs: dict[tuple[int, int], dict[str, Any]] = {}
    for rec in samples:
        for f in rec.get("flags", ()):
            meta = flags.spec(f["code"])
            if meta is None or meta.kind not in ("conflict", "reference") or not f.get("related"):
                continue
            reference = meta.kind == "reference"
            for r in f["related"]:
                key = (rec["index"], r) if reference else tuple(sorted((rec["index"], r)))
                if key in pairs:
                    continue
                pairs[key] = {
                    "code": f["code"],
                    "reason": f["reason"],
                    "reference": reference,
                    "left": _side(texts, rec["index"]),
                    "right": {"index": r, "instruction": None, "answer": None} if reference else _side(texts, r),
                }
    ordered = [pairs[k] for k in sorted(pairs)]
    return {"total": len(ordered), "shown": ordered[:SHOWN_CONFLICTS]}


def _side(texts: Mapping[int, Mapping[str, str]], index: int) -> dict[str, Any]:
    return {
        "index": index,
        "instruction": text_of(texts, index, "instruction", 400),
        "answer": text_of(texts, index, "answer", 600),
    }


# --- clusters, task types, difficulty, answer quality ------------------------------------------------


def map_points(samples: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The samples drawn in the 2-D map: all with coordinates, or a fixed random ``MAP_POINTS`` of them."""
    recs = [rec for rec in samples if rec.get("map_x") is not None and rec.get("map_y") is not None]
    if len(recs) > MAP_POINTS:
        keep = np.sort(np.random.default_rng(0).choice(len(recs), MAP_POINTS, replace=False))
        recs = [recs[i] for i in keep]
    return recs


def cluster_table(report: Mapping[str, Any], samples: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Cluster sizes from the samples, with keywords from any diversity figure that lists clusters."""
    sizes = Counter(rec["cluster"] for rec in samples if rec.get("cluster") is not None)
    keywords: dict[str, str] = {}
    for summary in report.get("dimensions", {}).get("diversity", {}).get("figures", {}).values():
        for c in (summary or {}).get("clusters", ()) if isinstance(summary, Mapping) else ():
            if not isinstance(c, Mapping):
                continue
            cid = c.get("id", c.get("cluster"))
            kw = c.get("keywords")
            if cid is not None and kw:
                keywords[str(cid)] = ", ".join(map(str, kw)) if isinstance(kw, (list, tuple)) else str(kw)
    n = sum(sizes.values())
    return [
        {"cluster": cid, "size": size, "share": size / n, "keywords": keywords.get(str(cid), "")}
        for cid, size in sorted(sizes.items(), key=lambda kv: (-kv[1], str(kv[0])))
    ]


def difficulty_mix(report: Mapping[str, Any], samples: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    levels = Counter(rec["difficulty_level"] for rec in samples if rec.get("difficulty_level") is not None)
    if not levels:
        return None
    n = sum(levels.values())
    target = None
    for summary in report.get("dimensions", {}).get("difficulty", {}).get("figures", {}).values():
        if isinstance(summary, Mapping) and isinstance(summary.get("target_mix"), Mapping):
            target = {k: float(v) for k, v in summary["target_mix"].items() if v is not None}
    names = [lv for lv in LEVELS if lv in levels or (target and lv in target)]
    names += sorted(k for k in levels if k not in LEVELS)
    return {
        "levels": names,
        "counts": {k: levels.get(k, 0) for k in names},
        "shares": {k: levels.get(k, 0) / n for k in names},
        "target": target,
        "n": n,
    }


def quality_components(samples: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    values: dict[str, list[float]] = defaultdict(list)
    for rec in samples:
        for comp, v in (rec.get("answer_quality_breakdown") or {}).items():
            if isinstance(v, (int, float)):
                values[comp].append(float(v))
    return {comp: percentiles(vs) for comp, vs in sorted(values.items())}


class _Recorder(dict):
    """A texts mapping that only notes which indices are asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[int] = set()

    def get(self, key, default=None):  # type: ignore[override]
        self.asked.add(key)
        return default


def needed_text_indices(samples: Sequence[Mapping[str, Any]]) -> list[int]:
    """The sample indices whose text the report page shows (examples, groups, conflicts, map hovers).

    A caller whose texts live in a database can fetch exactly these rows, in one query, and pass them
    to :func:`app.reporting.html.render_report_html` as a plain dict.
    """
    rec = _Recorder()
    flag_codes(samples, rec)
    duplicate_groups(samples, rec)
    conflicts(samples, rec)
    rec.asked.update(r["index"] for r in map_points(samples))
    return sorted(rec.asked)


# --- scorers and raw figures ------------------------------------------------------------------------


def flatten_figures(summary: Any, prefix: str = "", limit: int = 60) -> list[tuple[str, str]]:
    """A scorer's summary as (key path, short value) rows: every figure is shown, whatever its shape."""
    rows: list[tuple[str, str]] = []
    if isinstance(summary, Mapping):
        for k, v in summary.items():
            path = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, Mapping) and v and len(rows) < limit:
                rows.extend(flatten_figures(v, path, limit - len(rows)))
            else:
                rows.append((path, short_json(v)))
    else:
        rows.append((prefix or "value", short_json(summary)))
    return rows[:limit]


def short_json(value: Any, limit: int = 160) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def scorer_rows(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {**s, "parameters_text": json.dumps(s.get("parameters") or {}, ensure_ascii=False, sort_keys=True)}
        for s in report.get("scorers", ())
    ]


# --- curation ---------------------------------------------------------------------------------------

SUBSET_ORDER = ("curated", "random", "longest")


class CurationSummary(BaseModel):
    """What a curation kept and dropped, for the report's curation section.

    ``subsets`` maps a subset name (``curated``, ``random``, ``longest``, or any other) to the indices
    of the audited samples it holds; every distribution of the section is computed from those samples.
    """

    model_config = ConfigDict(extra="forbid")

    policy: dict[str, Any] = Field(
        default_factory=dict, description="The policy that produced the subset, shown as given."
    )
    kept: int | None = Field(None, ge=0, description="Rows kept; defaults to the size of the curated subset.")
    dropped_by_reason: dict[str, int] = Field(default_factory=dict, description="Rows dropped, by reason code.")
    subsets: dict[str, list[int]] = Field(default_factory=dict, description="Subset name -> sample indices.")
    warnings: list[str] = Field(default_factory=list, description="What the policy could not get (budget, target mix).")


def curation_view(curation: Mapping[str, Any], samples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    cur = CurationSummary.model_validate(curation)
    by_index = {rec["index"]: rec for rec in samples}
    for name, indices in cur.subsets.items():
        missing = [i for i in indices if i not in by_index]
        if missing:
            raise ValueError(f"curation subset {name!r} names samples not in this audit: {missing[:10]}")
    kept = cur.kept if cur.kept is not None else len(cur.subsets.get("curated", ()))
    names = [n for n in SUBSET_ORDER if n in cur.subsets] + sorted(n for n in cur.subsets if n not in SUBSET_ORDER)
    subsets = {n: [by_index[i] for i in cur.subsets[n]] for n in names}
    table = []
    for n in names:
        recs = subsets[n]
        row: dict[str, Any] = {"name": n, "rows": len(recs)}
        for d in DIMENSIONS:
            vs = score_values(recs, d)
            row[d] = sum(vs) / len(vs) if vs else None
        for key in ("answer_tokens", "answer_chars"):
            vs = field_values(recs, key)
            row[key] = float(np.median(vs)) if vs else None
        levels = Counter(r.get("difficulty_level") for r in recs if r.get("difficulty_level"))
        row["hard_share"] = levels.get("hard", 0) / sum(levels.values()) if levels else None
        table.append(row)
    dims = [d for d in DIMENSIONS if any(r[d] is not None for r in table)]
    return {
        "policy": cur.policy,
        "kept": kept,
        "dropped": sum(cur.dropped_by_reason.values()),
        "warnings": cur.warnings,
        "dropped_by_reason": dict(sorted(cur.dropped_by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
        "names": names,
        "subsets": subsets,
        "table": table,
        "dims": dims,
        "length_key": "answer_tokens" if any(r["answer_tokens"] is not None for r in table) else "answer_chars",
    }
