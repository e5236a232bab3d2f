"""The audit report as one self-contained HTML page.

``render_report_html`` takes the pipeline's output (``AuditOutput.report`` and ``.samples``), the text of
the samples it shows (instruction and answer by sample index: only the rows that appear as examples
are read, so a lazy mapping over the database works) and, optionally, a curation summary.  The page
inlines plotly.js and its styles — no CDN, it opens offline from disk — and every headline figure
(scores, flag counts, examples, the scorers that ran) is plain HTML that reads without JavaScript.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from app.reporting import figures, view
from scorers.base import DIMENSIONS

TEMPLATES = Path(__file__).with_name("templates")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["score"] = lambda v: "—" if v is None else f"{v:.2f}"
    env.filters["pct"] = lambda v: "—" if v is None else f"{100 * v:.1f}%"
    env.filters["num"] = lambda v: "—" if v is None else (f"{v:,}" if isinstance(v, int) else f"{v:,.1f}")
    env.filters["title"] = lambda d: view.TITLES.get(d, d.replace("_", " ").capitalize())
    return env


def render_report_html(
    report: Mapping[str, Any],
    samples: Sequence[Mapping[str, Any]],
    texts: Mapping[int, Mapping[str, str]],
    curation: Mapping[str, Any] | None = None,
    *,
    browser_url: str | None = None,
) -> str:
    """Render the report page.

    ``texts`` maps a sample index to ``{"instruction": ..., "answer": ...}``; missing rows are shown as
    "text not available".  ``curation`` follows :class:`app.reporting.view.CurationSummary`.
    ``browser_url`` (the audit's sample browser, e.g. ``/v1/audits/{id}/browser``) turns every row
    number into a link that opens that sample there; leave it out for a file read offline.
    """
    codes = view.flag_codes(samples, texts)
    trust = view.code_trust(report)
    for c in codes:
        c["trust"] = trust.get(c["code"])
    dims = {d: _dimension(d, report, samples, texts, codes) for d in DIMENSIONS}
    context = {
        "report": report,
        "dataset": report.get("dataset", {}),
        "rows": report.get("dataset", {}).get("rows", len(samples)),
        "dimension_names": DIMENSIONS,
        "dims": dims,
        "codes": codes,
        "flagged_samples": sum(1 for rec in samples if rec.get("flags")),
        "overview": _overview(report, samples),
        "not_judged": view.not_judged(report),
        "not_judged_fix": next((e["fix"] for e in view.not_judged(report) if e.get("fix")), ""),
        "held_back": view.held_back(report),
        "scorers": view.scorer_rows(report),
        "curation": _curation(curation, samples) if curation is not None else None,
        "plotly_js": Markup(figures.plotly_js()),
        "browser_url": browser_url,
        "css": Markup((TEMPLATES / "style.css").read_text(encoding="utf-8")),
    }
    return environment().get_template("report.html.j2").render(**context)


def texts_from_samples(samples: Iterable[Any]) -> dict[int, dict[str, str]]:
    """The ``texts`` argument from normalised :class:`scorers.samples.Sample` objects (CLI, notebooks)."""
    return {s.index: {"instruction": s.instruction, "answer": s.answer} for s in samples}


def _overview(report: Mapping[str, Any], samples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    languages = report.get("dataset", {}).get("languages") or Counter(view.field_values(samples, "language"))
    # most rows first: the stored report's keys are sorted by name, which hid "en 2,984" behind "af 1, ar 1, …"
    languages = dict(sorted(languages.items(), key=lambda kv: (-kv[1], str(kv[0]))))
    lengths = {k: view.percentiles(view.field_values(samples, k)) for k in view.LENGTH_FIELDS}
    return {
        "lengths": {k: v for k, v in lengths.items() if v},
        "lengths_fig": figures.length_histograms(samples),
        "languages": dict(languages),
        "languages_fig": figures.bars(languages, "fig-languages", "Languages (by prompt)") if languages else None,
    }


def _dimension(
    dim: str,
    report: Mapping[str, Any],
    samples: Sequence[Mapping[str, Any]],
    texts: Mapping[int, Mapping[str, str]],
    codes: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    info = report.get("dimensions", {}).get(dim, {})
    computed = {s["name"]: s.get("status") == "ok" for s in report.get("scorers", ()) if "name" in s}
    scores = view.score_values(samples, dim)
    out: dict[str, Any] = {
        "name": dim,
        "title": view.TITLES[dim],
        "blurb": view.BLURBS[dim],
        "score": info.get("score"),
        "measures": info.get("measures"),
        "how_to_rank": info.get("how_to_rank"),
        "status": info.get("status", "not_computed"),
        "reason": info.get("reason"),
        "scorers": [name for name in info.get("scorers", []) if computed.get(name, True)],
        "samples_scored": info.get("samples_scored", len(scores)),
        "codes": [c for c in codes if c["dimension"] == dim],
        "figures": {name: view.flatten_figures(summary) for name, summary in (info.get("figures") or {}).items()},
        "score_fig": figures.histogram(
            scores, f"fig-{dim}-scores", f"{view.TITLES[dim]}: per-sample scores", "score", unit_range=True
        )
        if scores
        else None,
        "score_stats": view.percentiles(scores) if scores else None,
    }
    out.update(_special(dim, report, samples, texts))
    return out


def _special(
    dim: str, report: Mapping[str, Any], samples: Sequence[Mapping[str, Any]], texts: Mapping[int, Mapping[str, str]]
) -> dict[str, Any]:
    """The plots and tables specific to one dimension, from the per-sample fields that are present."""
    if dim == "diversity":
        clusters = view.cluster_table(report, samples)
        has_map = any(rec.get("map_x") is not None and rec.get("map_y") is not None for rec in samples)
        map_fig, map_points = figures.cluster_map(samples, clusters, texts) if has_map else (None, 0)
        if has_map:
            map_note = None
        elif clusters:
            map_note = "No 2-D map: the samples have clusters but no map_x/map_y coordinates (no scorer in this audit projected the embeddings)."
        else:
            map_note = "No 2-D map: no scorer in this audit clustered the instruction embeddings (per-sample cluster, map_x and map_y are absent)."
        task_types = Counter(view.field_values(samples, "task_type"))
        return {
            "clusters": clusters,
            "map_fig": map_fig,
            "map_points": map_points,
            "map_note": map_note,
            "task_types": dict(task_types.most_common()),
            "task_fig": figures.bars(task_types, "fig-task-types", "Task types") if task_types else None,
        }
    if dim == "difficulty":
        mix = view.difficulty_mix(report, samples)
        values = view.field_values(samples, "difficulty")
        return {
            "mix": mix,
            "mix_fig": figures.difficulty_vs_target(mix) if mix else None,
            "difficulty_fig": figures.histogram(
                values, "fig-difficulty", "Per-sample difficulty (0 = easiest)", "difficulty", unit_range=True
            )
            if values
            else None,
        }
    if dim == "noise":
        return {"duplicates": view.duplicate_groups(samples, texts)}
    if dim == "consistency":
        return {"conflicts": view.conflicts(samples, texts)}
    if dim == "answer_quality":
        comps = view.quality_components(samples)
        return {"components": comps, "components_fig": figures.quality_components(comps) if comps else None}
    return {}


def _curation(curation: Mapping[str, Any], samples: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    cur = view.curation_view(curation, samples)
    cur["counts_fig"] = figures.kept_vs_dropped(cur["kept"], cur["dropped_by_reason"])
    cur["subsets_fig"] = figures.subset_distributions(cur) if cur["names"] else None
    cur["levels_fig"] = figures.subset_levels(
        cur, "difficulty_level", "fig-curation-difficulty", "Difficulty mix by subset"
    )
    cur["tasks_fig"] = figures.subset_levels(cur, "task_type", "fig-curation-tasks", "Task types by subset")
    cur.pop("subsets")  # the per-sample records are not needed by the template
    return cur
