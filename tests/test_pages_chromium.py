"""The pages of issue #15 in headless Chromium, against the real service: /docs and /redoc with the network
cut off, and the signed links of a finished audit and curation opened with no API key — the report (languages
by count, the 2-D map), the sample browser (neutral difficulty chips, the curation report button) and the
curation report (its section first, the subset figure's titles apart).  Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import json
import random
from urllib.parse import urlsplit

import pytest
from test_reporting_chromium import ARTIFACTS, browser, serve, watch  # noqa: F401  (fixtures)

from app.jobs.worker import Worker

TOPICS = {
    "cooking": [
        "How do I bake bread with {x} flour?",
        "Give me a recipe for {x} soup.",
        "How long should I roast {x}?",
    ],
    "python": [
        "Write a Python function that sorts {x}.",
        "Explain a Python error raised by {x}.",
        "How do I read {x} files in Python?",
    ],
    "travel": [
        "What should I pack for a trip to {x}?",
        "Plan three days of sightseeing in {x}.",
        "Which season is best to visit {x}?",
    ],
}
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
FILL = ["rye", "tomato", "carrots", "lists", "dictionaries", "CSV", "Japan", "Peru", "Norway", "spelt", "JSON", "Kenya"]
CHINESE = [
    "如何学习机器学习算法？",
    "请推荐三本关于历史的书。",
    "怎样做一道简单的番茄炒蛋？",
    "解释一下什么是光合作用。",
]


def rows() -> list[dict]:
    rng = random.Random(0)
    out = []
    for i in range(90):
        topic = list(TOPICS)[i % 3]
        q = rng.choice(TOPICS[topic]).format(x=rng.choice(FILL))
        out.append(
            {
                "instruction": q,
                "input": "",
                "output": f"Here is a careful answer about {topic}: " + "step. " * (i % 12 + 1),
            }
        )
    out += [
        {"instruction": CHINESE[i % 4] + f"（{i}）", "input": "", "output": "这是一个详细的回答。" * (i % 5 + 1)}
        for i in range(24)
    ]
    out += [out[3], out[5]]  # two exact duplicates
    return out


@pytest.fixture
def service(settings, api_key, serve):  # noqa: F811
    """The real app on a local port, with a finished audit and curation; returns (base url, client, ids)."""
    from fastapi.testclient import TestClient

    from app.api.main import create_app

    app = create_app(settings, migrate=False)
    base = serve(app)
    client = TestClient(app)
    client.headers["Authorization"] = f"Bearer {api_key}"
    ds = client.post(
        "/v1/datasets", files={"file": ("mixed.json", json.dumps(rows(), ensure_ascii=False).encode())}
    ).json()["id"]
    scorers = ["language", "text_length", "exact_duplicate", "instruction_clusters", "difficulty"]
    audit = client.post(
        f"/v1/datasets/{ds}/audits", json={"scorers": scorers, "params": {"instruction_clusters": {"tier": "full"}}}
    ).json()
    Worker(settings).run_once()
    cur = client.post(
        f"/v1/datasets/{ds}/curations",
        json={"audit_id": audit["id"], "policy": {"dedupe": True, "budget": {"rows": 150}}},
    ).json()
    Worker(settings).run_once()
    return base, client, audit["id"], cur["id"]


def local(url: str, base: str) -> str:
    """A link the API built for the test client's host, pointed at the live server."""
    parts = urlsplit(url)
    return f"{base}{parts.path}?{parts.query}"


def offline(page, base: str) -> list[str]:
    """Abort every request that leaves the server under test; return the list of those requests."""
    outside: list[str] = []
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(base)
            else (outside.append(route.request.url), route.abort())
        ),
    )
    return outside


def test_docs_and_redoc_render_with_no_network(browser, settings, serve) -> None:  # noqa: F811
    from app.api.main import create_app

    base = serve(create_app(settings, migrate=False))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, outside = watch(page), offline(page, base)
    page.goto(f"{base}/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    assert "sftaudit" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock-summary-path[data-path='/v1/audits/{audit_id}/report.html']")
    page.screenshot(path=str(ARTIFACTS / "docs-swagger.png"))
    page.goto(f"{base}/redoc")
    page.wait_for_selector("h1", timeout=20_000)
    assert "sftaudit" in page.inner_text("h1")
    page.get_by_text("/v1/datasets/{dataset_id}/lineage").first.wait_for(timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "docs-redoc.png"))
    # ReDoc's bundle always asks for its footer logo from its CDN and hides the image when that fails (as it
    # did here: every request off this server is aborted); nothing else leaves the server
    assert [u for u in outside if u != REDOC_LOGO] == []
    assert [e for e in errors if "Failed to load resource" not in e] == []
    page.close()


def test_signed_links_open_report_browser_and_curation_report_without_a_key(browser, service) -> None:  # noqa: F811
    base, client, audit_id, cur_id = service
    done = client.get(f"/v1/audits/{audit_id}").json()
    langs = done["report"]["dataset"]["languages"]
    assert langs["en"] > langs["zh"] > 0

    # the report, from its link, in a context that has never seen a key
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    errors, outside = watch(page), offline(page, base)
    page.goto(local(done["links"]["report"], base))
    page.wait_for_selector("section#overview")
    header = " ".join(page.inner_text("header.top .meta").split())
    ranked = sorted(langs.items(), key=lambda kv: (-kv[1], kv[0]))
    assert f"languages {ranked[0][0]} {ranked[0][1]}, {ranked[1][0]} {ranked[1][1]}" in header
    page.wait_for_function("document.querySelector('#fig-cluster-map .main-svg')")
    assert page.locator("#fig-cluster-map .scatterlayer .point").count() == len(rows())
    page.screenshot(path=str(ARTIFACTS / "link-report.png"), full_page=False)
    page.locator("#fig-cluster-map").screenshot(path=str(ARTIFACTS / "link-report-map.png"))
    assert errors == [] and outside == []

    # the sample browser, from its link: rows load with no key prompt; difficulty chips are neutral
    page.goto(local(done["links"]["browser"], base))
    page.wait_for_selector("#rows tr.row")
    assert not page.locator("#auth").is_visible()
    chips = page.locator("#rows .score[title^='difficulty']")
    assert chips.count() > 0
    assert chips.evaluate_all("cs => cs.every(c => c.classList.contains('neutral'))")
    low_noise = page.locator("#rows .score.low, #rows .score.mid, #rows .score.high")
    assert low_noise.count() > 0  # other dimensions keep their good/bad colours
    page.wait_for_selector("#open-curation:not([hidden])")
    page.screenshot(path=str(ARTIFACTS / "link-browser.png"))

    # "Open curation report": the curation section comes first; the subset figure's titles do not overlap
    with ctx.expect_page() as opened:
        page.click("#open-curation")
    report = opened.value
    rep_errors = watch(report)
    report.wait_for_selector("section#curation")
    tops = report.evaluate(
        "['curation', 'overview'].map(id => document.getElementById(id).getBoundingClientRect().top)"
    )
    assert tops[0] < tops[1]
    assert "kept" in report.inner_text("section#curation")
    report.wait_for_function("document.querySelector('#fig-curation-subsets .main-svg')")
    boxes = report.evaluate("""() => {
        const fig = document.getElementById('fig-curation-subsets');
        const r = el => { const b = el.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
        return {title: r(fig.querySelector('.gtitle')), subplots: [...fig.querySelectorAll('.annotation-text')].map(r)};
    }""")
    t = boxes["title"]
    assert len(boxes["subplots"]) == 2
    for s in boxes["subplots"]:
        assert t[3] <= s[1] or s[3] <= t[1] or t[2] <= s[0] or s[2] <= t[0], (t, s)  # no overlap
    report.locator("#fig-curation-subsets").screenshot(path=str(ARTIFACTS / "link-curation-subsets.png"))
    report.evaluate("window.scrollTo(0, 0)")
    report.screenshot(path=str(ARTIFACTS / "link-curation-report.png"))
    assert rep_errors == [] and errors == []
    ctx.close()
