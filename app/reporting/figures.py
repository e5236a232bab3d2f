"""Plotly figures for the report page, each rendered to an HTML ``<div>`` (plotly.js is inlined once by the page).

Distributions are binned here, in Python, so a 50k-row audit makes a page of a few MB, not tens: a
histogram is a bar chart of counts and a distribution summary is a box drawn from precomputed
quartiles.  Div ids are fixed names, so the same audit renders byte-identical HTML.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from markupsafe import Markup
from plotly.subplots import make_subplots

from app.reporting.view import LEVELS, TITLES, excerpt, map_points, percentiles

CONFIG = {"displaylogo": False, "responsive": True}
PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac")
SUBSET_COLOURS = {"curated": "#54a24b", "random": "#4c78a8", "longest": "#f58518"}


def plotly_js() -> str:
    """The plotly.js bundle shipped with the plotly package (inlined: the page works offline)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def to_div(fig: go.Figure, div_id: str, height: int = 340) -> Markup:
    top = fig.layout.margin.t if fig.layout.margin.t is not None else 40  # a figure may need room above its subplots
    fig.update_layout(
        template="plotly_white",
        height=fig.layout.height or height,
        margin=dict(l=55, r=20, t=top, b=50),
        font=dict(size=12),
    )
    return Markup(
        pio.to_html(
            fig,
            include_plotlyjs=False,
            full_html=False,
            div_id=div_id,
            config=CONFIG,
            default_width="100%",
            default_height=f"{fig.layout.height}px",
        )
    )


def _bins(
    values: Sequence[float], bins: int = 40, clip: float = 99.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int]:
    """Counts over [min, p99]; the values above the 99th percentile are counted in the last bar."""
    arr = np.asarray(values, dtype=np.float64)
    lo, hi = float(arr.min()), float(np.percentile(arr, clip))
    if hi <= lo:
        hi = lo + 1.0
    counts, edges = np.histogram(np.minimum(arr, hi), bins=bins, range=(lo, hi))
    return (edges[:-1] + edges[1:]) / 2, counts, np.diff(edges), hi, int((arr > hi).sum())


def histogram(values: Sequence[float], div_id: str, title: str, x_title: str, *, unit_range: bool = False) -> Markup:
    if unit_range:
        counts, edges = np.histogram(np.asarray(values, dtype=np.float64), bins=20, range=(0.0, 1.0))
        centers, widths = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
    else:
        centers, counts, widths, _, _ = _bins(values)
    fig = go.Figure(
        go.Bar(
            x=centers,
            y=counts,
            width=widths,
            marker_color=PALETTE[0],
            hovertemplate="%{x:.3g}: %{y} samples<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title="samples", bargap=0.02)
    return to_div(fig, div_id)


def length_histograms(samples: Sequence[Mapping[str, Any]], div_id: str = "fig-lengths") -> Markup | None:
    panels = [
        (k, t)
        for k, t in (
            ("instruction_chars", "Instruction, characters"),
            ("answer_chars", "Answer, characters"),
            ("instruction_tokens", "Instruction, tokens"),
            ("answer_tokens", "Answer, tokens"),
        )
        if any(rec.get(k) is not None for rec in samples)
    ]
    if not panels:
        return None
    rows = (len(panels) + 1) // 2
    fig = make_subplots(rows=rows, cols=2, subplot_titles=[t for _, t in panels], vertical_spacing=0.18)
    for i, (key, _) in enumerate(panels):
        values = [rec[key] for rec in samples if rec.get(key) is not None]
        centers, counts, widths, hi, over = _bins(values)
        colour = PALETTE[0] if key.startswith("instruction") else PALETTE[1]
        fig.add_trace(
            go.Bar(
                x=centers,
                y=counts,
                width=widths,
                marker_color=colour,
                showlegend=False,
                hovertemplate="%{x:.0f}: %{y} samples<extra></extra>",
            ),
            row=i // 2 + 1,
            col=i % 2 + 1,
        )
    fig.update_layout(height=300 * rows, bargap=0.02)
    return to_div(fig, div_id)


def bars(counts: Mapping[str, int], div_id: str, title: str, *, top: int = 20) -> Markup:
    items = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:top][::-1]
    fig = go.Figure(
        go.Bar(
            x=[v for _, v in items],
            y=[str(k) for k, _ in items],
            orientation="h",
            text=[v for _, v in items],
            textposition="auto",
            cliponaxis=False,
            marker_color=PALETTE[0],
            hovertemplate="%{y}: %{x} samples<extra></extra>",
        )
    )
    fig.update_layout(title=title, xaxis_title="samples", height=max(220, 40 + 26 * len(items)))
    return to_div(fig, div_id)


def cluster_map(
    samples: Sequence[Mapping[str, Any]],
    clusters: Sequence[Mapping[str, Any]],
    texts: Mapping[int, Mapping[str, str]],
    div_id: str = "fig-cluster-map",
) -> tuple[Markup, int]:
    """Instruction embeddings in 2-D, one colour per cluster; returns the div and how many points it draws."""
    recs = map_points(samples)
    keywords = {str(c["cluster"]): c["keywords"] for c in clusters}
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for rec in recs:
        groups.setdefault(str(rec.get("cluster", "none")), []).append(rec)
    order = [str(c["cluster"]) for c in clusters if str(c["cluster"]) in groups] + sorted(set(groups) - set(keywords))
    fig = go.Figure()
    for i, cid in enumerate(order):
        members = groups[cid]
        label = f"{cid}: {keywords[cid]}" if keywords.get(cid) else str(cid)
        fig.add_trace(
            go.Scatter(
                x=[r["map_x"] for r in members],
                y=[r["map_y"] for r in members],
                mode="markers",
                name=html.escape(excerpt(label, 48)),
                marker=dict(size=5, opacity=0.7, color=PALETTE[i % len(PALETTE)]),
                text=[
                    f"#{r['index']} · cluster {html.escape(cid)}<br>{html.escape(excerpt((texts.get(r['index']) or {}).get('instruction'), 90))}"
                    for r in members
                ],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    fig.update_layout(
        title="Instructions in 2-D, coloured by cluster",
        height=520,
        xaxis=dict(showticklabels=False),
        yaxis=dict(showticklabels=False),
        legend=dict(font=dict(size=11)),
    )
    return to_div(fig, div_id), len(recs)


def difficulty_vs_target(mix: Mapping[str, Any], div_id: str = "fig-difficulty-mix") -> Markup:
    levels = list(mix["levels"])
    fig = go.Figure(
        go.Bar(
            name="this dataset",
            x=levels,
            y=[mix["shares"][lv] for lv in levels],
            marker_color=PALETTE[0],
            text=[mix["counts"][lv] for lv in levels],
            hovertemplate="%{x}: %{y:.1%} (%{text} samples)<extra></extra>",
        )
    )
    if mix.get("target"):
        fig.add_trace(
            go.Bar(
                name="target",
                x=levels,
                y=[mix["target"].get(lv, 0.0) for lv in levels],
                marker_color=PALETTE[9],
                hovertemplate="target %{x}: %{y:.1%}<extra></extra>",
            )
        )
    fig.update_layout(
        title="Easy / medium / hard mix" + (" against the target" if mix.get("target") else ""),
        yaxis=dict(title="share of samples", tickformat=".0%"),
        barmode="group",
    )
    return to_div(fig, div_id)


def _box(name: str, stats: Mapping[str, float], colour: str, x: str | None = None) -> go.Box:
    """A box drawn from precomputed quartiles (whiskers at p25/p75 ± 1.5 IQR, clipped to min/max)."""
    iqr = stats["p75"] - stats["p25"]
    box = dict(
        name=name,
        q1=[stats["p25"]],
        median=[stats["median"]],
        q3=[stats["p75"]],
        mean=[stats["mean"]],
        lowerfence=[max(stats["min"], stats["p25"] - 1.5 * iqr)],
        upperfence=[min(stats["max"], stats["p75"] + 1.5 * iqr)],
        marker_color=colour,
        boxpoints=False,
    )
    if x is not None:
        box["x"] = [x]
        box["offsetgroup"] = name
        box["legendgroup"] = name
    return go.Box(**box)


def quality_components(components: Mapping[str, Mapping[str, float]], div_id: str = "fig-quality-components") -> Markup:
    boxes = []
    for i, (comp, stats) in enumerate(components.items()):
        box = _box(comp, stats, PALETTE[i % len(PALETTE)])
        box.x = [comp]  # precomputed boxes need an explicit position, or they all stack at 0
        boxes.append(box)
    fig = go.Figure(boxes)
    fig.update_layout(
        title="Answer-quality components (per-sample scores)",
        yaxis=dict(title="score", range=[0, 1.02]),
        showlegend=False,
    )
    return to_div(fig, div_id)


def kept_vs_dropped(kept: int, dropped_by_reason: Mapping[str, int], div_id: str = "fig-curation-counts") -> Markup:
    names = ["kept"] + list(dropped_by_reason)
    values = [kept] + list(dropped_by_reason.values())
    colours = [SUBSET_COLOURS["curated"]] + [PALETTE[3]] * len(dropped_by_reason)
    fig = go.Figure(
        go.Bar(
            x=values[::-1],
            y=[n if i == 0 else f"dropped: {n}" for i, n in enumerate(names)][::-1],
            orientation="h",
            marker_color=colours[::-1],
            hovertemplate="%{y}: %{x} rows<extra></extra>",
        )
    )
    fig.update_layout(title="Kept vs dropped, by reason", xaxis_title="rows", height=max(220, 60 + 28 * len(names)))
    return to_div(fig, div_id)


def subset_distributions(cur: Mapping[str, Any], div_id: str = "fig-curation-subsets") -> Markup:
    """Each subset's per-dimension scores and answer length side by side (one box per subset)."""
    metrics: list[tuple[str, str]] = [(d, TITLES[d]) for d in cur["dims"]]
    length_key = cur["length_key"]
    fig = make_subplots(
        rows=1, cols=2, column_widths=[0.7, 0.3], subplot_titles=("Scores by dimension", length_key.replace("_", " "))
    )
    for j, name in enumerate(cur["names"]):
        colour = SUBSET_COLOURS.get(name, PALETTE[(j + 4) % len(PALETTE)])
        recs = cur["subsets"][name]
        for k, (dim, title) in enumerate(metrics):
            stats = percentiles([r["scores"][dim] for r in recs if r.get("scores", {}).get(dim) is not None])
            if stats:
                trace = _box(name, stats, colour, x=title)
                trace.showlegend = k == 0
                fig.add_trace(trace, row=1, col=1)
        stats = percentiles([r[length_key] for r in recs if r.get(length_key) is not None])
        if stats:
            trace = _box(name, stats, colour, x=name)
            trace.showlegend = not metrics
            fig.add_trace(trace, row=1, col=2)
    # the figure title sits in its own band above the subplot titles (at the default 40 px margin they overlapped)
    fig.update_layout(
        boxmode="group", height=460, margin=dict(t=95), title=dict(text="Subsets side by side", y=0.985, yanchor="top")
    )
    fig.update_yaxes(range=[0, 1.02], row=1, col=1)
    return to_div(fig, div_id)


def subset_levels(cur: Mapping[str, Any], key: str, div_id: str, title: str, top: int = 12) -> Markup | None:
    """Share of each category (difficulty level, task type) in each subset, grouped bars."""
    shares: dict[str, dict[str, float]] = {}
    totals: dict[str, int] = {}
    for name in cur["names"]:
        vals = [str(r[key]) for r in cur["subsets"][name] if r.get(key) is not None]
        totals[name] = len(vals)
        counts: dict[str, int] = {}
        for v in vals:
            counts[v] = counts.get(v, 0) + 1
        shares[name] = {k: c / len(vals) for k, c in counts.items()} if vals else {}
    if not any(totals.values()):
        return None
    cats = sorted(
        {c for s in shares.values() for c in s},
        key=lambda c: (LEVELS.index(c) if c in LEVELS else 9, -sum(s.get(c, 0) for s in shares.values()), c),
    )[:top]
    fig = go.Figure(
        [
            go.Bar(
                name=name,
                x=cats,
                y=[shares[name].get(c, 0.0) for c in cats],
                marker_color=SUBSET_COLOURS.get(name, PALETTE[(j + 4) % len(PALETTE)]),
                hovertemplate=name + " %{x}: %{y:.1%}<extra></extra>",
            )
            for j, name in enumerate(cur["names"])
        ]
    )
    fig.update_layout(title=title, barmode="group", yaxis=dict(title="share of subset", tickformat=".0%"))
    return to_div(fig, div_id)
