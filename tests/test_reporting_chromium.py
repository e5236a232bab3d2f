"""The report page and the sample browser in headless Chromium, as a person would use them.

Debian's ``chromium`` package, driven by Playwright's client (no browser download: ``executable_path``).
Screenshots go to ``test-artifacts/``.  Skipped with the reason where Chromium or Playwright is absent.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from paths import ROOT
from reporting_helpers import (
    ALPACA,
    CHINESE,
    REPEATED,
    add_family_fields,
    audit,
    curation_of,
    record_with_conversation,
    texts_of,
)

from app.reporting import render_browser_html, render_report_html

CHROMIUM = os.environ.get("SFTAUDIT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "test-artifacts"
N = 500
KEY = "test-key-5d1c"
SECTIONS = (
    "overview",
    "dim-diversity",
    "dim-answer_quality",
    "dim-consistency",
    "dim-difficulty",
    "dim-noise",
    "scorers",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM:
        pytest.skip("chromium not installed (apt-get install -y chromium); CI installs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the test extra) is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
            ],
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def data() -> Path:
    from paths import shared_data_dir

    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared datasets not found at {path} (set SFTAUDIT_SHARED_DATA); CI has them")
    return path


def watch(page) -> list[str]:
    """Console errors and uncaught exceptions of a page, as they happen."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    return errors


@pytest.mark.shared_data
@pytest.mark.parametrize("name, path, family", [("alpaca", ALPACA, False), ("chinese", CHINESE, True)])
def test_report_page_renders_offline_with_every_section(browser, data, tmp_path, name, path, family) -> None:
    samples, out = audit(data / path, N)
    curation = None
    if family:  # the sections of the scorer families still in progress, from stand-in fields
        add_family_fields(out, samples)
        curation = curation_of(out, 100)
    report = tmp_path / "report.html"
    report.write_text(render_report_html(out.report, out.samples, texts_of(samples), curation), encoding="utf-8")

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    outside: list[str] = []
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith("file:")
            else (outside.append(route.request.url), route.abort())
        ),
    )
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    for section in SECTIONS + (("curation",) if curation else ()):
        assert page.locator(f"section#{section}").is_visible(), section
    figures = page.locator(".plotly-graph-div")
    assert figures.count() >= (9 if family else 3)
    page.wait_for_function(
        "[...document.querySelectorAll('.plotly-graph-div')].every(d => d.querySelector('.main-svg'))"
    )
    assert page.locator("#flag-exact_duplicate table.examples tbody tr").count() == len(REPEATED)
    if family:
        assert page.locator("#fig-cluster-map .scatterlayer .point").count() == len(samples)
        boxes = page.locator("#fig-quality-components .boxlayer .trace").evaluate_all(
            "ts => ts.map(t => Math.round(t.getBoundingClientRect().left))"
        )
        assert len(boxes) == 2 and len(set(boxes)) == 2  # one box per component, side by side
    page.screenshot(path=str(ARTIFACTS / f"report-{name}.png"), full_page=True)
    assert errors == [] and outside == []

    # without JavaScript the headline figures are still there
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    plain.goto(report.as_uri())
    headline = plain.locator("#headline-scores").inner_text()
    assert f"{out.report['dimensions']['noise']['score']:.2f}" in headline
    assert "exact_duplicate" in plain.locator("#flag-counts").inner_text()
    context.close()
    page.close()


# --- the sample browser against a small API serving a real audit ---------------------------------------


def samples_api(audit_id: str, samples, out) -> Any:
    """A FastAPI app with the browser page and a samples endpoint of the shape the service provides."""
    from fastapi import Depends, FastAPI, Header, HTTPException
    from fastapi.responses import HTMLResponse

    records = [record_with_conversation(rec, s) for rec, s in zip(out.samples, samples, strict=True)]
    by_index = {r["index"]: r for r in records}

    def authorised(authorization: str | None = Header(None)) -> None:
        if authorization != f"Bearer {KEY}":
            raise HTTPException(401, "invalid API key")

    def known(aid: str) -> None:
        if aid != audit_id:
            raise HTTPException(404, f"no audit {aid}")

    app = FastAPI()

    @app.get("/v1/audits/{aid}/browser", response_class=HTMLResponse)
    def browser_page(aid: str) -> str:
        known(aid)
        return render_browser_html(aid)

    @app.get("/v1/audits/{aid}", dependencies=[Depends(authorised)])
    def get_audit(aid: str) -> dict:
        known(aid)
        return {"id": aid, "status": "succeeded", "report": out.report}

    @app.get("/v1/audits/{aid}/report.html", response_class=HTMLResponse, dependencies=[Depends(authorised)])
    def report_page(aid: str) -> str:
        known(aid)
        return render_report_html(out.report, out.samples, texts_of(samples), browser_url=f"/v1/audits/{aid}/browser")

    @app.get("/v1/audits/{aid}/samples", dependencies=[Depends(authorised)])
    def list_samples(
        aid: str,
        dimension: str | None = None,
        flag: str | None = None,
        min_score: float | None = None,
        max_score: float | None = None,
        sort: str = "index",
        limit: int = 50,
        cursor: str | None = None,
    ) -> dict:
        known(aid)

        def score(r: dict) -> float | None:
            s = r["scores"]
            return s.get(dimension) if dimension else (min(s.values()) if s else None)

        items = [
            r
            for r in records
            if (not dimension or dimension in r["scores"])
            and (not flag or any(f["code"] == flag for f in r["flags"]))
            and (min_score is None or (score(r) is not None and score(r) >= min_score))
            and (max_score is None or (score(r) is not None and score(r) <= max_score))
        ]
        if sort in ("score", "-score"):
            sign = 1 if sort == "score" else -1
            items.sort(key=lambda r: (score(r) is None, sign * (score(r) or 0.0), r["index"]))
        start = int(cursor or 0)
        return {
            "items": items[start : start + limit],
            "total": len(items),
            "next_cursor": str(start + limit) if start + limit < len(items) else None,
        }

    @app.get("/v1/audits/{aid}/curations", dependencies=[Depends(authorised)])
    def curations(aid: str) -> list:
        known(aid)
        return []  # no curation of this audit: the browser shows no curation button

    @app.get("/v1/audits/{aid}/samples/{index}", dependencies=[Depends(authorised)])
    def one_sample(aid: str, index: int) -> dict:
        known(aid)
        if index not in by_index:
            raise HTTPException(404, f"no sample {index}")
        return by_index[index]

    return app


@pytest.fixture
def serve() -> Iterator[Any]:
    import uvicorn

    servers: list[tuple[Any, threading.Thread]] = []

    def start(app) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "test server did not start"
            time.sleep(0.05)
        servers.append((server, thread))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def rows(page) -> list[int]:
    return [int(i) for i in page.locator("#rows tr.row").evaluate_all("rs => rs.map(r => r.dataset.index)")]


@pytest.mark.shared_data
@pytest.mark.parametrize("name, path", [("alpaca", ALPACA), ("chinese", CHINESE)])
def test_sample_browser_filters_pages_and_links(browser, data, serve, name, path) -> None:
    samples, out = audit(data / path, N)
    add_family_fields(out, samples)
    url = serve(samples_api("a1", samples, out)) + "/v1/audits/a1/browser"

    # a wrong key is refused and asked for again
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.fill("#api-key", "wrong")
    page.press("#api-key", "Enter")
    page.wait_for_function("document.getElementById('auth-error').textContent.includes('not accepted')")
    assert page.locator("#auth").is_visible() and not page.locator("#app").is_visible()
    page.close()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    page.goto(url)
    page.fill("#api-key", KEY)
    page.click("#auth button[type=submit]")
    page.wait_for_selector("#rows tr.row")
    assert rows(page) == list(range(25))
    assert f"of {len(samples)} matching" in page.inner_text("#status")

    # paging appends the next page through the cursor
    page.click("#more")
    page.wait_for_function("document.querySelectorAll('#rows tr.row').length === 50")
    assert rows(page) == list(range(50))

    # a flag filter (server side) shows exactly the flagged rows
    page.fill("#f-flag", "exact_duplicate")
    page.press("#f-flag", "Enter")
    page.wait_for_function("document.querySelectorAll('#rows tr.row').length === 3")
    flagged = [r["index"] for r in out.samples if any(f["code"] == "exact_duplicate" for f in r["flags"])]
    assert rows(page) == flagged

    # a row opens to its whole conversation, flags and reasons; a related link loads the other sample
    first = page.locator(f"#sample-{flagged[0]} button.toggle")
    first.click()
    detail = page.locator(f"#detail-{flagged[0]}")
    assert samples[flagged[0]].answer[:30] in detail.inner_text()
    assert f"repeats sample {REPEATED[0]} exactly" in detail.inner_text()
    detail.locator(f"button.related[data-index='{REPEATED[0]}']").click()
    page.wait_for_selector("#linked:not([hidden])")
    assert f"Sample #{REPEATED[0]}" in page.inner_text("#linked")
    assert samples[REPEATED[0]].instruction[:20] in page.inner_text("#linked")

    # score range on a dimension, sorted by score (server side)
    page.click("#f-reset")
    page.wait_for_function("document.querySelectorAll('#rows tr.row').length === 25")
    page.select_option("#f-dimension", "answer_quality")
    page.fill("#f-max", "0.3")
    page.select_option("#f-sort", "score")
    page.press("#f-max", "Enter")
    page.wait_for_function(
        "document.getElementById('status').textContent.includes('matching') && !document.getElementById('status').textContent.startsWith('Loading')"
    )
    low = sorted(
        (r for r in out.samples if r["scores"]["answer_quality"] <= 0.3),
        key=lambda r: (r["scores"]["answer_quality"], r["index"]),
    )
    assert rows(page) == [r["index"] for r in low[:25]]

    # cluster and difficulty (applied to the loaded rows)
    page.click("#f-reset")
    page.wait_for_function("document.querySelectorAll('#rows tr.row').length === 25")
    cluster = str(out.samples[0]["cluster"])
    page.select_option("#f-cluster", cluster)
    page.wait_for_function("!document.getElementById('status').textContent.startsWith('Loading')")
    page.wait_for_timeout(200)
    shown = rows(page)
    assert shown and all(str(out.samples[i]["cluster"]) == cluster for i in shown)
    assert page.locator("#client-note").is_visible()
    page.select_option("#f-difficulty", "hard")
    page.wait_for_timeout(300)
    assert all(
        out.samples[i]["difficulty_level"] == "hard" and str(out.samples[i]["cluster"]) == cluster for i in rows(page)
    )

    # keyboard: "/" jumps to the filters; j moves between rows; Enter opens; Escape closes
    page.click("#f-reset")
    page.wait_for_function("document.querySelectorAll('#rows tr.row').length === 25")
    page.locator("#sample-0 button.toggle").focus()
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.closest('tr').dataset.index") == "1"
    page.keyboard.press("Enter")
    assert page.locator("#detail-1").is_visible()
    page.screenshot(path=str(ARTIFACTS / f"browser-{name}.png"), full_page=False)
    page.keyboard.press("Escape")
    assert not page.locator("#detail-1").is_visible()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "f-dimension"

    # a report link (…/browser#sample-N) opens that sample, loaded or not
    page.goto(f"{url}#sample-{N - 1}")
    page.wait_for_function(f"document.getElementById('linked').textContent.includes('Sample #{N - 1}')")
    assert samples[N - 1].answer[:20] in page.inner_text("#linked")

    # "Open report" shows the report (fetched with the key) in a new tab; its row links come back here
    with page.context.expect_page() as opened:
        page.click("#open-report")
    report = opened.value
    report_errors = watch(report)
    report.wait_for_selector("section#dim-noise")
    assert report.locator("#flag-counts").inner_text().count("exact_duplicate") == 1
    with report.expect_navigation():
        report.locator(f"#flag-exact_duplicate a.sample-link >> text='#{flagged[0]}'").first.click()
    report.wait_for_function(
        f"document.getElementById('linked') && document.getElementById('linked').textContent.includes('Sample #{flagged[0]}')"
    )
    assert report_errors == [] and errors == []
    report.close()
    page.close()


def test_sample_browser_shows_markup_in_samples_as_text(browser, serve) -> None:
    from scorers import run_audit, sample

    evil = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"
    rows = [sample(0, evil, evil), sample(1, evil, evil)]
    url = serve(samples_api("x1", rows, run_audit(rows, scorers=["exact_duplicate"]))) + "/v1/audits/x1/browser"
    page = browser.new_page()
    errors = watch(page)
    page.goto(url)
    page.fill("#api-key", KEY)
    page.press("#api-key", "Enter")
    page.wait_for_selector("#sample-1")
    page.click("#sample-1 button.toggle")
    assert evil in page.inner_text("#detail-1") and evil[:40] in page.inner_text("#sample-0")
    assert page.locator("#rows img, #rows script").count() == 0 and page.title() != "pwned"
    assert errors == []
    page.close()


def test_overview_says_near_the_top_what_the_english_encoder_could_not_judge(browser, tmp_path) -> None:
    """Chinese rows with the default English encoder: the Overview names the signals that left them out, with
    the share of rows and how to configure a multilingual model — above the flag table, in the rendered page."""
    from scorers import run_audit, sample

    rows = [
        sample(
            i,
            f"请解释第{i}个现象：为什么天空是蓝色的？",
            "太阳光由多种颜色组成，空气分子对蓝光的散射最强，所以天空看起来是蓝色的。",
        )
        for i in range(30)
    ]
    rows += [
        sample(
            30 + i,
            f"Explain phenomenon {i}: why is the sky blue?",
            "Sunlight holds many colours and air scatters blue light the most, so the sky looks blue.",
        )
        for i in range(10)
    ]
    out = run_audit(
        rows,
        scorers=["mismatched_answer", "semantic_duplicate", "language", "text_length"],
        cache_dir=str(tmp_path / "cache"),
    )
    html = render_report_html(out.report, out.samples, texts_of(rows))
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    page.goto(path.as_uri())
    box = page.locator("#not-judged")
    assert box.is_visible()
    text = box.inner_text()
    assert "mismatched_answer: 30 rows (75.0%) not judged (zh 30)" in text
    assert "semantic_duplicate" in text and "SFTAUDIT_MODELS__EMBEDDING_MODEL" in text
    overview_top = page.locator("#overview").bounding_box()["y"]
    assert box.bounding_box()["y"] < page.locator("#headline-scores").bounding_box()["y"]  # before the scores
    assert box.bounding_box()["y"] - overview_top < 200
    page.screenshot(path=str(ARTIFACTS / "overview-not-judged.png"))
    assert not errors, errors
    page.close()
