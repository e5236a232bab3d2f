"""What a person reading the report noticed (issue #15): the header's languages, the 2-D map of a default
audit, which scorers a score is "from", the curation section's place, and cluster keywords without stop words."""

from __future__ import annotations

import re

import numpy as np

from app.reporting import render_report_html
from scorers import run_audit, sample
from scorers._vectors import words
from scorers.diversity import InstructionClusters
from tests._embed_fakes import blobs, context_with


def _languages_report(counts: dict[str, int]):
    rows, samples = [], []
    for lang, n in counts.items():
        rows += [lang] * n
    samples = [sample(i, f"question {i}", f"answer {i}") for i in range(len(rows))]
    out = run_audit(samples, ["exact_duplicate"])
    # the stored report.json sorts keys by name: "af, ar, az, …, en"
    out.report["dataset"]["languages"] = dict(sorted({k: v for k, v in counts.items()}.items()))
    for rec, lang in zip(out.samples, rows, strict=True):
        rec["language"] = lang
    return samples, out


def _header(html: str) -> str:
    return re.search(r'<div class="meta">(.*?)</div>', html, re.S).group(1)


def test_header_lists_languages_by_count_not_by_name() -> None:
    samples, out = _languages_report({"af": 1, "ar": 1, "az": 6, "de": 2, "en": 40, "zh": 9})
    header = _header(render_report_html(out.report, out.samples, {}))
    assert "languages en 40, zh 9, az 6, de 2 and 2 more" in " ".join(header.split())


def test_score_names_only_the_scorers_that_computed_it() -> None:
    samples = [
        sample(i, f"Explain topic {i % 7}.", f"Topic {i % 7} is explained here in a sentence.") for i in range(20)
    ]
    out = run_audit(samples, ["answer_completeness", "answer_quality", "answer_judge", "answer_perplexity"])
    statuses = {s["name"]: s["status"] for s in out.report["scorers"]}
    assert statuses["answer_judge"] == "not_computed" and statuses["answer_completeness"] == "ok"
    html = render_report_html(out.report, out.samples, {})
    section = html[html.index('<section id="dim-answer_quality"') :]
    headline = re.search(r'<p class="headline">(.*?)</p>', section, re.S).group(1)
    assert "answer_completeness" in headline
    assert "answer_judge" not in headline and "answer_perplexity" not in headline
    assert "answer_judge" in section  # still listed where it belongs: not computed, with its reason


def test_curation_section_comes_first() -> None:
    samples = [sample(i, f"q{i}", f"a{i}") for i in range(10)]
    out = run_audit(samples, ["exact_duplicate", "text_length"])
    curation = {
        "policy": {"budget": {"rows": 5}},
        "kept": 5,
        "dropped_by_reason": {"budget": 5},
        "subsets": {"curated": [0, 1, 2, 3, 4], "random": [1, 3, 5, 7, 9]},
    }
    html = render_report_html(out.report, out.samples, {}, curation)
    assert html.index('<section id="curation"') < html.index('<section id="overview"')
    nav = re.search(r'<nav class="toc".*?</nav>', html, re.S).group(0)
    assert nav.index("#curation") < nav.index("#overview")


def test_clusters_write_map_coordinates_so_the_default_audit_draws_the_map() -> None:
    x = blobs(3, 20, dim=16)
    samples = [sample(i, f"instruction {i}", f"answer {i}") for i in range(60)]
    ctx = context_with(samples, {f"instruction {i}": x[i] for i in range(60)}, 16)
    res = InstructionClusters().score(samples, ctx)
    xy = np.asarray([[f["map_x"], f["map_y"]] for f in res.fields])
    assert xy.shape == (60, 2) and np.isfinite(xy).all()
    labels = np.asarray([f["cluster"] for f in res.fields])
    # the map separates the clusters: every point is nearer its own cluster's centre than any other
    centres = np.stack([xy[labels == c].mean(axis=0) for c in range(3)])
    nearest = np.argmin(((xy[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    assert (nearest == labels).all()
    out_records = [{"index": i, "scores": {}, "flags": [], **f} for i, f in enumerate(res.fields)]
    report = {"dataset": {"rows": 60}, "dimensions": {"diversity": {"figures": {"instruction_clusters": res.summary}}}}
    html = render_report_html(report, out_records, {})
    assert 'id="fig-cluster-map"' in html and "No 2-D map" not in html


def test_keywords_drop_english_and_chinese_stop_words() -> None:
    chat = "I'm just like people, it's time. Don't you think people's lives can't wait? Python's asyncio"
    assert words(chat) == ["lives", "wait", "python", "asyncio"]
    assert words("请给出以下问题的答案：如何学习机器学习算法？") == ["答案", "学习", "机器", "学习", "算法"]
    assert "i'm" in words(chat, keep_stopwords=True)


def test_cluster_keywords_of_chatty_clusters_name_the_topic() -> None:
    topics = {
        0: "I'm just asking, like, how do people bake bread with yeast and flour in the oven?",
        1: "I think it's time you tell me: how do people fix a Python asyncio loop error?",
        2: "我们可以如何学习机器学习算法？请给出以下问题的答案。",
    }
    x = blobs(3, 30, dim=16)
    samples, vecs = [], {}
    for t, text in topics.items():
        for j in range(30):
            s = f"{text} ({j})"
            samples.append(sample(len(samples), s, "ok"))
            vecs[s] = x[t * 30 + j]
    res = InstructionClusters(dict(min_k=3, max_k=3)).score(samples, context_with(samples, vecs, 16))
    keywords = {w for c in res.summary["clusters"] for w in c["keywords"]}
    stop = {
        "i'm",
        "just",
        "like",
        "people",
        "time",
        "it's",
        "think",
        "tell",
        "我们",
        "可以",
        "请",
        "以下",
        "问题",
        "给出",
    }
    assert keywords and not keywords & stop
    assert {"bread", "python", "算法"} <= keywords
