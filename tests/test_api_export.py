"""Exports keep the data: alpaca keeps input apart and extra fields, format=original gives the uploaded rows back,
a curated dataset has its own checksum and size, and its lineage is paged instead of listed inline."""

from __future__ import annotations

import hashlib
import json

from app.jobs.worker import Worker

ALPACA = [
    {"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour", "category": "translation"},
    {"instruction": "Name a colour.", "input": "", "output": "Blue.", "category": "open_qa"},
    {"instruction": "Sum the numbers.", "input": "2, 3", "output": "5", "category": "math", "id": 7},
]


def upload(client, name: str, body: bytes, **data) -> dict:
    r = client.post("/v1/datasets", files={"file": (name, body)}, data=data)
    assert r.status_code == 201, r.text
    return r.json()


def export(client, ds: str, fmt: str) -> str:
    r = client.get(f"/v1/datasets/{ds}/export", params={"format": fmt})
    assert r.status_code == 200, r.text
    return r.text


def test_alpaca_export_keeps_input_apart_and_extra_fields(client) -> None:
    ds = upload(client, "a.json", json.dumps(ALPACA).encode())["id"]
    rows = [json.loads(x) for x in export(client, ds, "alpaca").splitlines()]
    assert rows == ALPACA  # the same records, field for field
    sharegpt = [json.loads(x) for x in export(client, ds, "sharegpt").splitlines()]
    assert sharegpt[0]["category"] == "translation" and sharegpt[2]["id"] == 7
    assert sharegpt[0]["conversations"][0]["value"] == "Translate to French.\n\nGood morning"


def test_alpaca_export_of_renamed_fields_and_other_formats(client) -> None:
    rows = [{"q": "What is 2+2?", "ctx": "Show work.", "a": "4", "source": "gsm"}]
    ds = upload(
        client,
        "r.jsonl",
        json.dumps(rows).encode(),
        field_map=json.dumps({"instruction": "q", "input": "ctx", "output": "a"}),
        format="alpaca",
    )["id"]
    assert json.loads(export(client, ds, "alpaca")) == {
        "instruction": "What is 2+2?",
        "input": "Show work.",
        "output": "4",
        "source": "gsm",
    }
    chat = [{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}], "id": "c1"}]
    ds = upload(client, "c.json", json.dumps(chat).encode())["id"]
    assert json.loads(export(client, ds, "alpaca")) == {"instruction": "hi", "input": "", "output": "hello", "id": "c1"}


def test_original_format_writes_back_the_uploaded_rows_unchanged(client) -> None:
    lines = [
        '{"output": "4", "instruction":  "What is 2+2?", "input": ""}',
        '{"instruction":"Name a colour.","output":"Blue.","extra":{"b":1,"a":[1,2]}}',
    ]
    body = ("\n".join(lines) + "\n").encode()
    ds = upload(client, "d.jsonl", body)["id"]
    assert export(client, ds, "original").encode() == body
    arr = upload(client, "d.json", json.dumps(ALPACA, ensure_ascii=False).encode())["id"]
    assert [json.loads(x) for x in export(client, arr, "original").splitlines()] == ALPACA
    assert client.get(f"/v1/datasets/{ds}/export", params={"format": "nope"}).status_code == 422


def test_curated_dataset_has_its_own_checksum_and_a_paged_lineage(client, settings) -> None:
    rows = [
        {"instruction": f"Question {i % 2000}", "input": "", "output": f"Answer {i % 2000} " + "x" * (i % 50)}
        for i in range(3000)
    ]
    parent = upload(client, "big.jsonl", "\n".join(json.dumps(r) for r in rows).encode())
    audit = client.post(f"/v1/datasets/{parent['id']}/audits", json={"scorers": ["exact_duplicate"]}).json()
    Worker(settings).run_once()
    cur = client.post(
        f"/v1/datasets/{parent['id']}/curations", json={"audit_id": audit["id"], "policy": {"budget": {"rows": 2500}}}
    ).json()
    Worker(settings).run_once()
    r = client.get(f"/v1/curations/{cur['id']}")
    assert len(r.content) < 12_000, len(r.content)  # was 338 KB for 3k rows: every row's lineage inline
    curated = r.json()["curated"]
    assert curated["lineage"]["sources_count"] == 2500 and "sources" not in curated["lineage"]
    body = client.get(f"/v1/datasets/{curated['id']}/export", params={"format": "original"}).content
    assert curated["sha256"] == hashlib.sha256(body).hexdigest() != parent["sha256"]
    assert curated["size_bytes"] == len(body) > 0
    assert client.get(f"/v1/datasets/{curated['id']}").json()["sha256"] == curated["sha256"]
    first = client.get(curated["lineage"]["sources_url"], params={"limit": 1000}).json()
    last = client.get(curated["lineage"]["sources_url"], params={"offset": 2000, "limit": 1000}).json()
    assert first["total"] == 2500 and len(first["items"]) == 1000 and len(last["items"]) == 500
    assert last["items"][-1]["index"] == 2499 and last["items"][-1]["source_dataset_id"] == parent["id"]
    # the lineage names real rows: row k of the curated set is source row source_index of the parent
    k = first["items"][10]
    one = client.get(f"/v1/datasets/{curated['id']}/samples", params={"offset": 10, "limit": 1}).json()["items"][0]
    src = client.get(f"/v1/datasets/{parent['id']}/samples", params={"offset": k["source_index"], "limit": 1}).json()
    assert one["conversation"] == src["items"][0]["conversation"]
