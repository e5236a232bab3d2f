"""Curation through the API: a finished audit + a policy → curated dataset with lineage and baselines."""

from __future__ import annotations

import json

from app.jobs.worker import Worker


def dataset(client, rows) -> str:
    r = client.post("/v1/datasets", files={"file": ("d.json", json.dumps(rows).encode())})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def audited(client, settings, ds) -> str:
    audit = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": ["exact_duplicate", "text_length"]}).json()
    Worker(settings).run_once()
    assert client.get(f"/v1/audits/{audit['id']}").json()["status"] == "succeeded"
    return audit["id"]


ROWS = [{"instruction": f"Question {i % 6}", "input": "", "output": "Answer " + "x" * (i * 3)} for i in range(12)]


def test_curation_with_dedupe_budget_and_baselines(client, settings) -> None:
    ds = dataset(client, ROWS)
    audit = audited(client, settings, ds)
    r = client.post(
        f"/v1/datasets/{ds}/curations",
        json={"audit_id": audit, "policy": {"dedupe": True, "budget": {"rows": 4}}, "name": "best4"},
    )
    assert r.status_code == 202, r.text
    cur = r.json()
    assert cur["status"] == "queued"
    Worker(settings).run_once()
    cur = client.get(f"/v1/curations/{cur['id']}").json()
    assert cur["status"] == "succeeded", cur
    assert cur["counts"]["input_rows"] == 12 and cur["counts"]["kept"] == 4
    assert sum(cur["counts"]["dropped_by_reason"].values()) == 8
    curated = cur["curated"]
    assert curated["rows"] == 4 and curated["name"] == "best4" and curated["parent_id"] == ds
    assert curated["lineage"]["audit_id"] == audit and curated["lineage"]["sources_count"] == 4
    assert set(cur["baselines"]) == {"random", "longest"}
    assert all(b["rows"] == 4 for b in cur["baselines"].values())
    longest = client.get(f"/v1/datasets/{cur['baselines']['longest']['id']}/samples").json()["items"]
    lens = sorted(len(s["conversation"]["turns"][-1]["content"]) for s in longest)
    assert lens == sorted(len(r["output"]) for r in ROWS)[-4:]
    export = client.get(f"/v1/datasets/{curated['id']}/export?format=alpaca").text.splitlines()
    assert len(export) == 4 and all("instruction" in json.loads(x) for x in export)


def test_mixing_datasets_with_ratios(client, settings) -> None:
    general = dataset(client, ROWS)
    domain = dataset(
        client, [{"instruction": f"Domain q {i}", "input": "", "output": f"Domain a {i}"} for i in range(10)]
    )
    audit = audited(client, settings, general)
    policy = {"budget": {"rows": 10}, "mix": [{"dataset_id": domain, "ratio": 0.3}]}
    cur = client.post(f"/v1/datasets/{general}/curations", json={"audit_id": audit, "policy": policy}).json()
    Worker(settings).run_once()
    cur = client.get(f"/v1/curations/{cur['id']}").json()
    assert cur["status"] == "succeeded", cur
    assert cur["curated"]["rows"] == 10 and cur["counts"]["mixed_in"] == {domain: 3}
    page = client.get(cur["curated"]["lineage"]["sources_url"]).json()
    sources = [(x["source_dataset_id"], x["source_index"]) for x in page["items"]]
    assert page["total"] == 10 and [x["index"] for x in page["items"]] == list(range(10))
    assert sum(1 for d, _ in sources if d == domain) == 3 and sum(1 for d, _ in sources if d == general) == 7


def test_curation_errors(client, settings) -> None:
    ds = dataset(client, ROWS)
    pending = client.post(f"/v1/datasets/{ds}/audits", json={}).json()["id"]
    r = client.post(f"/v1/datasets/{ds}/curations", json={"audit_id": pending})
    assert r.status_code == 409
    r = client.post(f"/v1/datasets/{ds}/curations", json={"audit_id": pending, "policy": {"min_scores": {"x": 1}}})
    assert r.status_code == 422
    assert client.get("/v1/curations/nope").status_code == 404


def test_curation_report_page(client, settings) -> None:
    ds = dataset(client, ROWS)
    audit = audited(client, settings, ds)
    cur = client.post(
        f"/v1/datasets/{ds}/curations", json={"audit_id": audit, "policy": {"budget": {"rows": 5}}}
    ).json()
    assert client.get(f"/v1/curations/{cur['id']}/report.html").status_code == 409
    Worker(settings).run_once()
    page = client.get(f"/v1/curations/{cur['id']}/report.html")
    assert page.status_code == 200
    assert "budget" in page.text and "longest" in page.text and "random" in page.text
