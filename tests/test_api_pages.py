"""Pages a person opens in a browser: /docs and /redoc without a CDN, and signed links that open a report,
the sample browser's data and a curation report without an API key."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, urlsplit

from app.jobs.worker import Worker
from app.services import links

ROWS = [{"instruction": f"Question {i % 6}", "input": "", "output": f"Answer {i % 6}"} for i in range(12)]


def _audit(client, settings) -> tuple[str, str]:
    ds = client.post("/v1/datasets", files={"file": ("d.json", json.dumps(ROWS).encode())}).json()["id"]
    audit = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": ["exact_duplicate", "text_length"]}).json()
    assert audit["links"] is None  # queued: nothing to open yet
    Worker(settings).run_once()
    return ds, audit["id"]


def _path_and_query(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_docs_and_redoc_load_their_assets_from_this_server(client) -> None:
    for page, assets in (("/docs", ("swagger-ui-bundle.js", "swagger-ui.css")), ("/redoc", ("redoc.standalone.js",))):
        html = client.get(page).text
        urls = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert urls and all(u.startswith("/") for u in urls), urls  # nothing from another host
        assert "fonts.googleapis" not in html and "cdn" not in html.lower()
        for asset in assets:
            url = next(u for u in urls if u.endswith(asset))
            r = client.get(url)
            assert r.status_code == 200 and len(r.content) > 10_000, url
    spec = client.get("/openapi.json").json()
    assert "/v1/audits/{audit_id}/report.html" in spec["paths"]


def test_a_finished_audit_returns_signed_links_that_open_without_a_key(client, settings) -> None:
    _, audit_id = _audit(client, settings)
    done = client.get(f"/v1/audits/{audit_id}").json()
    report_url, browser_url = done["links"]["report"], done["links"]["browser"]
    assert report_url.startswith("http://testserver/v1/audits/") and "sig=" in report_url and "exp=" in report_url
    from datetime import UTC, datetime

    exp = int(_path_and_query(report_url)[1]["exp"])
    assert done["links"]["expires_at"] == datetime.fromtimestamp(exp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    anonymous = client.__class__(client.app)  # same app, no Authorization header
    path, q = _path_and_query(report_url)
    assert anonymous.get(path).status_code == 401
    page = anonymous.get(path, params=q)
    assert page.status_code == 200 and "<html" in page.text
    # the report's row links open the browser with a signature of their own
    browser_link = re.search(r'href="(/v1/audits/[^"#]+/browser\?[^"#]+)#sample-\d+"', page.text).group(1)
    b_path, b_q = _path_and_query(browser_link.replace("&amp;", "&"))
    # the browser page's data calls carry that signature: the audit, its samples, one sample
    assert anonymous.get(f"/v1/audits/{audit_id}", params=b_q).json()["report"]["flags"] == {"exact_duplicate": 6}
    items = anonymous.get(f"/v1/audits/{audit_id}/samples", params={**b_q, "flag": "exact_duplicate"}).json()
    assert items["total"] == 6
    assert anonymous.get(f"/v1/audits/{audit_id}/samples/3", params=b_q).json()["index"] == 3
    assert anonymous.get(_path_and_query(browser_url)[0]).status_code == 200  # the page itself needs nothing

    # read-only: a signed link never creates anything
    ds_id = done["dataset_id"]
    assert anonymous.post(f"/v1/datasets/{ds_id}/audits", params=q, json={}).status_code == 401


def test_links_are_refused_when_tampered_for_another_resource_or_expired(client, settings) -> None:
    _, audit_id = _audit(client, settings)
    _, other_id = _audit(client, settings)
    anonymous = client.__class__(client.app)
    path = f"/v1/audits/{audit_id}/report.html"
    good = links.sign(settings, path)
    assert anonymous.get(path, params=good).status_code == 200
    bad_sig = {**good, "sig": good["sig"][:-1] + ("0" if good["sig"][-1] != "0" else "1")}
    assert anonymous.get(path, params=bad_sig).json()["error"]["code"] == "invalid_link"
    later = {**good, "exp": str(int(good["exp"]) + 3600)}  # a longer life is not the signer's
    assert anonymous.get(path, params=later).status_code == 401
    assert anonymous.get(f"/v1/audits/{other_id}/report.html", params=good).status_code == 401
    expired = links.sign(settings, path, now=time.time() - 2 * settings.links.ttl_seconds)
    r = anonymous.get(path, params=expired)
    assert r.status_code == 401 and r.json()["error"]["code"] == "link_expired"


def test_curation_report_link_and_the_audits_curation_list(client, settings) -> None:
    ds, audit_id = _audit(client, settings)
    cur = client.post(f"/v1/datasets/{ds}/curations", json={"audit_id": audit_id, "policy": {"dedupe": True}}).json()
    assert client.get(f"/v1/audits/{audit_id}/curations").json()[0]["report_url"] is None  # queued
    Worker(settings).run_once()
    done = client.get(f"/v1/curations/{cur['id']}").json()
    listed = client.get(f"/v1/audits/{audit_id}/curations").json()
    assert [c["id"] for c in listed] == [cur["id"]] and listed[0]["kept"] == 6
    anonymous = client.__class__(client.app)
    for url in (done["links"]["report"], listed[0]["report_url"]):
        path, q = _path_and_query(url)
        html = anonymous.get(path, params=q)
        assert html.status_code == 200 and 'id="curation"' in html.text
    # the browser (opened from an audit link) finds the curation through the audit's scope
    b_q = links.sign(settings, f"/v1/audits/{audit_id}/browser")
    assert anonymous.get(f"/v1/audits/{audit_id}/curations", params=b_q).json()[0]["id"] == cur["id"]


def test_cli_link_prints_signed_urls(client, settings, monkeypatch) -> None:
    from typer.testing import CliRunner

    from app import cli

    _, audit_id = _audit(client, settings)
    monkeypatch.setattr(cli, "_settings", lambda: settings)
    res = CliRunner().invoke(cli.app, ["link", "audit", audit_id, "--base-url", "http://testserver"])
    assert res.exit_code == 0, res.output
    urls = dict(line.split(": ", 1) for line in res.output.strip().splitlines())
    anonymous = client.__class__(client.app)
    path, q = _path_and_query(urls["report"])
    assert anonymous.get(path, params=q).status_code == 200
    assert CliRunner().invoke(cli.app, ["link", "audit", "nope"]).exit_code == 1
