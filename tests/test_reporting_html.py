"""The report page's content, checked in the HTML itself (the Chromium tests check it in a browser)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser

import numpy as np
import pytest
from paths import shared_data_dir
from reporting_helpers import ALPACA, BASIC_SCORERS, CHINESE, REPEATED, add_family_fields, audit, curation_of, texts_of

from app.reporting import render_report_html
from app.reporting.html import texts_from_samples
from app.reporting.view import CurationSummary, curation_view, duplicate_groups, needed_text_indices
from scorers import run_audit, sample

N = 200


class Page(HTMLParser):
    """Text inside each element that has an id, and the attributes of every element."""

    VOID = {"meta", "link", "br", "hr", "img", "input", "col", "source", "wbr"}

    def __init__(self, html: str):
        super().__init__()
        self.text: dict[str, str] = {}
        self.attrs: list[tuple[str, dict[str, str | None]]] = []
        self._open: list[str | None] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        d = dict(attrs)
        self.attrs.append((tag, d))
        if tag in self.VOID:
            return
        self._open.append(d.get("id"))
        if d.get("id"):
            self.text.setdefault(d["id"], "")

    def handle_endtag(self, tag):
        if tag not in self.VOID and self._open:
            self._open.pop()

    def handle_data(self, data):
        for i in self._open:
            if i:
                self.text[i] += data


@pytest.fixture(scope="module")
def alpaca():
    shared = shared_data_dir()
    if not shared.is_dir():
        pytest.skip(f"shared datasets not found at {shared} (set SFTAUDIT_SHARED_DATA); CI has them")
    return audit(shared / ALPACA, N)


@pytest.mark.shared_data
def test_alpaca_report_has_every_section_and_the_headline_figures_in_plain_html(alpaca) -> None:
    samples, out = alpaca
    html = render_report_html(out.report, out.samples, texts_of(samples))
    page = Page(html)
    for section in (
        "overview",
        "dim-diversity",
        "dim-answer_quality",
        "dim-consistency",
        "dim-difficulty",
        "dim-noise",
        "scorers",
    ):
        assert section in page.text, section
    # the flag table counts the samples the records carry
    flagged = Counter(f["code"] for rec in out.samples for f in {f["code"]: f for f in rec["flags"]}.values())
    assert flagged["exact_duplicate"] == len(REPEATED)
    row = re.search(r'<tr data-flag-code="exact_duplicate">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'<td class="num">([\d,]+)</td>', row)[0] == str(flagged["exact_duplicate"])
    # examples carry the real instruction and the reason, and link the sample they repeat
    example = page.text["flag-exact_duplicate"]
    assert samples[N].instruction[:40] in example
    assert f"repeats sample {REPEATED[0]} exactly" in example
    # every scorer that ran is listed with its version; uncomputed dimensions say why
    for s in out.report["scorers"]:
        assert s["name"] in page.text["scorer-table"]
    for info in out.report["dimensions"].values():
        if info["status"] == "not_computed":
            assert info["reason"] in page.text["not-computed"]
    assert f"{out.report['dimensions']['noise']['score']:.2f}" in page.text["headline-scores"]
    # served by the API, row numbers open the sample in the browser; offline they are plain text
    assert "sample-link" not in html
    linked = Page(render_report_html(out.report, out.samples, texts_of(samples), browser_url="/v1/audits/a1/browser"))
    hrefs = {a["href"] for t, a in linked.attrs if t == "a" and a.get("class") == "sample-link"}
    assert {f"/v1/audits/a1/browser#sample-{i}" for i in (N, REPEATED[0])} <= hrefs
    # without a diversity scorer there is no map, and the page says why
    assert "no scorer in this audit clustered" in page.text["map-note"]


@pytest.mark.shared_data
def test_report_is_self_contained_and_deterministic(alpaca) -> None:
    samples, out = alpaca
    html = render_report_html(out.report, out.samples, texts_of(samples))
    assert html == render_report_html(out.report, out.samples, texts_of(samples))
    page = Page(html)
    external = [(t, a) for t, a in page.attrs for k in ("src", "href") if (a.get(k) or "").startswith(("http", "//"))]
    assert external == []
    assert html.count("<script") == 1 + html.count("Plotly.newPlot(")  # plotly.js inlined once, then one per figure
    assert html.count("Plotly.newPlot(") >= 3  # lengths, languages, noise scores


def test_sample_text_is_escaped() -> None:
    evil = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    rows = [sample(0, evil, "fine"), sample(1, evil, "fine")]
    out = run_audit(rows, scorers=["exact_duplicate", "text_length"])
    html = render_report_html(out.report, out.samples, texts_of(rows))
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.shared_data
def test_family_sections_render_what_the_records_hold(shared_data) -> None:
    samples, out = audit(shared_data / CHINESE, N)
    add_family_fields(out, samples)
    html = render_report_html(out.report, out.samples, texts_of(samples))
    page = Page(html)
    # cluster table: sizes from the records, keywords from the diversity figure
    sizes = Counter(rec["cluster"] for rec in out.samples)
    biggest, size = sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    first_row = re.search(
        r'<table id="cluster-table">.*?<tbody><tr><td>(\d+)</td><td class="num">(\d+)</td>', html, re.S
    )
    assert first_row.groups() == (str(biggest), str(size))
    keywords = next(
        c["keywords"]
        for c in out.report["dimensions"]["diversity"]["figures"]["clusters_tfidf"]["clusters"]
        if c["id"] == biggest
    )
    assert ", ".join(keywords) in page.text["cluster-table"]
    assert 'id="fig-cluster-map"' in html and "map-note" not in page.text
    # difficulty: counts and the target from the figure
    levels = Counter(rec["difficulty_level"] for rec in out.samples)
    mix = page.text["difficulty-mix"]
    for lv in ("easy", "medium", "hard"):
        assert re.search(rf"{lv}{levels[lv]}{100 * levels[lv] / len(out.samples):.1f}%", mix.replace(",", "")), (
            lv,
            mix,
        )
    assert "50.0%" in mix  # medium target
    # answer-quality components: the mean of each component
    comps = page.text["quality-components"]
    mean = np.mean([rec["answer_quality_breakdown"]["completeness"] for rec in out.samples])
    assert f"completeness{mean:.2f}" in comps
    # the conflict shows both samples' real text side by side
    conflict = re.search(r'<div class="pair conflict">(.*?)</div>\s*</div>\s*</div>', html, re.S).group(1)
    assert samples[0].instruction[:10] in conflict and samples[1].instruction[:10] in conflict
    assert 'id="fig-task-types"' in html and 'id="fig-difficulty-mix"' in html and 'id="fig-quality-components"' in html


@pytest.mark.shared_data
def test_curation_section_compares_subsets(shared_data) -> None:
    samples, out = audit(shared_data / ALPACA, N)
    add_family_fields(out, samples)
    cur = curation_of(out, 50)
    html = render_report_html(out.report, out.samples, texts_of(samples), curation=cur)
    page = Page(html)
    assert "curation" in page.text
    counts = page.text["curation-counts"]
    assert f"kept{len(cur['subsets']['curated'])}" in counts.replace(" ", "").replace("\n", "")
    by_index = {r["index"]: r for r in out.samples}
    for name, indices in cur["subsets"].items():
        row = re.search(rf'<tr data-subset="{name}">(.*?)</tr>', html, re.S).group(1)
        cells = re.findall(r'<td class="num">([^<]*)</td>', row)
        assert cells[0] == str(len(indices))
        median = np.median([by_index[i]["answer_tokens"] for i in indices])
        assert f"{median:,.1f}" in cells
    # the longest subset's answers are longer than the random subset's, and the page says so
    view = curation_view(cur, out.samples)
    longest, random = (next(r for r in view["table"] if r["name"] == n) for n in ("longest", "random"))
    assert longest["answer_tokens"] > random["answer_tokens"]
    assert 'id="fig-curation-subsets"' in html and 'id="fig-curation-difficulty"' in html


def test_curation_rejects_unknown_samples_and_keys() -> None:
    recs = [{"index": 0, "scores": {}, "flags": []}]
    with pytest.raises(ValueError, match="not in this audit"):
        curation_view({"subsets": {"curated": [0, 5]}}, recs)
    with pytest.raises(ValueError):
        CurationSummary.model_validate({"kept": 1, "surprise": True})


def test_duplicate_groups_join_related_indices_across_flags() -> None:
    rows = [sample(0, "a", "1"), sample(1, "b", "2"), sample(2, "a", "1"), sample(3, "A ", "1"), sample(4, "b", "2")]
    out = run_audit(rows, scorers=["exact_duplicate"])
    groups = duplicate_groups(out.samples, texts_of(rows))
    assert groups["total"] == 2 and groups["redundant"] == 3
    assert [[m["index"] for m in g["members"]] for g in groups["shown"]] == [[0, 2, 3], [1, 4]]


def test_reporting_does_not_import_torch() -> None:
    code = (
        "import sys; from app.reporting import render_report_html, render_browser_html; "
        "from scorers import run_audit, sample; rows=[sample(0,'hi','there'), sample(1,'hi','there')]; "
        "out=run_audit(rows, ['exact_duplicate', 'text_length', 'language']); render_report_html(out.report, out.samples, {}); render_browser_html('x'); "
        "sys.exit(1 if 'torch' in sys.modules or 'sentence_transformers' in sys.modules else 0)"
    )
    assert (
        subprocess.run(
            [sys.executable, "-c", code], cwd=str(__import__("pathlib").Path(__file__).parents[1])
        ).returncode
        == 0
    )


@pytest.mark.shared_data
@pytest.mark.parametrize("family", [False, True])
def test_needed_text_indices_are_exactly_the_rows_the_page_reads(shared_data, family) -> None:
    samples, out = audit(shared_data / CHINESE, 120)
    if family:  # the 2-D map reads every drawn point's instruction for its hover text
        add_family_fields(out, samples)
    full = texts_of(samples)
    read: set[int] = set()

    class Watching(dict):
        def get(self, key, default=None):
            read.add(key)
            return super().get(key, default)

    html = render_report_html(out.report, out.samples, Watching(full))
    needed = needed_text_indices(out.samples)
    assert set(needed) == read
    assert len(needed) == (len(samples) if family else len({*REPEATED, *range(120, len(samples))}))
    assert render_report_html(out.report, out.samples, {i: full[i] for i in needed}) == html


def test_empty_and_one_row_audits_render() -> None:
    for rows in ([], [sample(0, "只有一行 🙂", "")]):
        out = run_audit(rows, BASIC_SCORERS)
        page = Page(render_report_html(out.report, out.samples, texts_of(rows)))
        assert "overview" in page.text and "scorers" in page.text
        assert "No sample was flagged" in page.text["overview"]


def test_answer_quality_headline_says_what_it_measures() -> None:
    rows = [sample(i, f"Name capital number {i}.", f"City {i}.") for i in range(9)] + [sample(9, "Name a colour.", "")]
    out = run_audit(rows, scorers=["answer_quality"])
    html = render_report_html(out.report, out.samples, texts_from_samples(rows))
    assert "Share of answers with no defect found <b>0.90</b>" in html
    assert "it does not rank ordinary answers" in html and "learned_quality" in html
