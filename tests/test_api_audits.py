"""Audits through the API: queued as a job, run by a worker, report and per-sample results."""

from __future__ import annotations

import json

from app.jobs.worker import Worker

ROWS = [
    {"instruction": "What is 2+2?", "input": "", "output": "4"},
    {"instruction": "what is 2+2? ", "input": "", "output": "4"},
    {"instruction": "Name a colour.", "input": "", "output": "Blue."},
    {"instruction": "保持健康的三个提示。", "input": "", "output": "多运动，多睡觉，均衡饮食。"},
    {"instruction": "Name a colour.", "input": "", "output": "Blue."},
]


def make_dataset(client, rows=ROWS) -> str:
    r = client.post("/v1/datasets", files={"file": ("d.json", json.dumps(rows).encode())})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def run_audit(client, settings, dataset_id, **body) -> dict:
    r = client.post(f"/v1/datasets/{dataset_id}/audits", json=body)
    assert r.status_code == 202, r.text
    audit = r.json()
    assert audit["status"] == "queued" and audit["report"] is None
    assert Worker(settings).run_once() == audit["job"]["id"]
    done = client.get(f"/v1/audits/{audit['id']}").json()
    assert done["status"] == "succeeded", done
    return done


def test_audit_end_to_end(client, settings) -> None:
    ds = make_dataset(client)
    audit = run_audit(client, settings, ds, scorers=["exact_duplicate", "text_length", "language"])
    rep = audit["report"]
    assert audit["progress"] == 1.0
    assert rep["dataset"]["rows"] == 5 and rep["dataset"]["format"] == "alpaca"
    assert rep["dataset"]["languages"] == {"en": 4, "zh": 1}
    assert rep["flags"] == {"exact_duplicate": 2}
    assert {s["name"]: s["status"] for s in rep["scorers"]} == {
        "exact_duplicate": "ok",
        "text_length": "ok",
        "language": "ok",
    }
    assert set(rep["dimensions"]) == {"diversity", "answer_quality", "consistency", "difficulty", "noise"}

    page = client.get(f"/v1/audits/{audit['id']}/samples", params={"flag": "exact_duplicate"}).json()
    assert page["total"] == 2 and sorted(i["index"] for i in page["items"]) == [1, 4]
    dup = next(i for i in page["items"] if i["index"] == 4)
    assert dup["flags"][0]["related"] == [2] and dup["conversation"]["turns"][1]["content"] == "Blue."
    low = client.get(f"/v1/audits/{audit['id']}/samples", params={"dimension": "noise", "max_score": 0.5}).json()
    assert sorted(i["index"] for i in low["items"]) == [1, 4]
    one = client.get(f"/v1/audits/{audit['id']}/samples/3").json()
    assert one["language"] == "zh" and one["scores"]["noise"] == 1.0


def test_samples_pagination_and_sort(client, settings) -> None:
    rows = [{"instruction": f"Question {i % 7}", "input": "", "output": f"Answer {i % 7}"} for i in range(30)]
    audit = run_audit(client, settings, make_dataset(client, rows), scorers=["exact_duplicate"])
    for sort in ("index", "-index", "noise", "-noise"):
        seen, cursor = [], None
        while True:
            params = {"limit": 4, "sort": sort, **({"cursor": cursor} if cursor else {})}
            page = client.get(f"/v1/audits/{audit['id']}/samples", params=params).json()
            seen += [(i["scores"]["noise"], i["index"]) for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == 30 and len({i for _, i in seen}) == 30, sort
        key = sort.lstrip("-")
        values = [i if key == "index" else (s, i) for s, i in seen]
        expected = (
            sorted(values, reverse=sort.startswith("-"))
            if key == "index"
            else sorted(values, key=lambda v: (-v[0] if sort.startswith("-") else v[0], v[1]))
        )
        assert values == expected, sort
    bad = client.get(f"/v1/audits/{audit['id']}/samples", params={"sort": "colour"})
    assert bad.status_code == 422
    assert client.get(f"/v1/audits/{audit['id']}/samples", params={"cursor": "garbage"}).status_code == 400


def test_same_audit_twice_gives_byte_identical_reports(client, settings) -> None:
    ds = make_dataset(client)
    a = run_audit(client, settings, ds, scorers=["exact_duplicate", "text_length", "language"], seed=3)
    b = run_audit(client, settings, ds, scorers=["exact_duplicate", "text_length", "language"], seed=3)
    ra = client.get(f"/v1/audits/{a['id']}/report.json")
    rb = client.get(f"/v1/audits/{b['id']}/report.json")
    assert ra.status_code == 200 and ra.content == rb.content


def test_audit_validation_errors(client, settings) -> None:
    ds = make_dataset(client)
    r = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": ["nope"]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_scorer"
    r = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": ["language"], "params": {"language": {"bogus": 1}}})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_params"
    r = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": ["language"], "colour": "red"})
    assert r.status_code == 422
    assert client.post("/v1/datasets/nope/audits", json={}).status_code == 404
    assert client.get("/v1/audits/nope").status_code == 404


def test_cancel_audit_job(client, settings) -> None:
    ds = make_dataset(client)
    audit = client.post(f"/v1/datasets/{ds}/audits", json={}).json()
    r = client.post(f"/v1/jobs/{audit['job']['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert client.get(f"/v1/audits/{audit['id']}").json()["status"] == "cancelled"
    assert client.post(f"/v1/jobs/{audit['job']['id']}/cancel").status_code == 409
    assert Worker(settings).run_once() is None


def test_scorer_registry_endpoint(client) -> None:
    scorers = {s["name"]: s for s in client.get("/v1/scorers").json()}
    assert {"exact_duplicate", "text_length", "language"} <= set(scorers)
    lang = scorers["language"]
    assert lang["dimension"] == "profile" and lang["available"] is True
    assert lang["parameters"]["properties"]["view"]["default"] == "prompt"


def test_report_html_and_browser_pages(client, settings) -> None:
    audit = run_audit(client, settings, make_dataset(client), scorers=["exact_duplicate", "text_length", "language"])
    page = client.get(f"/v1/audits/{audit['id']}/report.html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "exact_duplicate" in page.text and "Name a colour." in page.text
    assert client.get(f"/v1/audits/{audit['id']}/report.html", headers={"Authorization": ""}).status_code == 401
    browser = client.get(f"/v1/audits/{audit['id']}/browser", headers={"Authorization": ""})
    assert browser.status_code == 200 and audit["id"] in browser.text


def test_sort_by_selected_dimension_score(client, settings) -> None:
    audit = run_audit(client, settings, make_dataset(client), scorers=["exact_duplicate"])
    page = client.get(f"/v1/audits/{audit['id']}/samples", params={"dimension": "noise", "sort": "score"}).json()
    assert [i["scores"]["noise"] for i in page["items"]] == sorted(i["scores"]["noise"] for i in page["items"])
    assert page["items"][0]["scores"]["noise"] == 0.0
    r = client.get(f"/v1/audits/{audit['id']}/samples", params={"sort": "-score"})
    assert r.status_code == 422 and "dimension" in r.json()["error"]["message"]


def test_model_settings_reach_the_scorer_registry(settings, api_key, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from app.api.main import create_app

    def perplexity(s):
        with TestClient(create_app(s, migrate=False)) as c:
            c.headers["Authorization"] = f"Bearer {api_key}"
            return next(x for x in c.get("/v1/scorers").json() if x["name"] == "answer_perplexity")

    missing = perplexity(settings)
    assert missing["available"] is False and "language model" in missing["unavailable_reason"]
    (tmp_path / "lm").mkdir()
    settings.models.language_model = str(tmp_path / "lm")
    assert perplexity(settings)["available"] is True
