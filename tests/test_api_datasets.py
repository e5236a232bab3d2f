"""Upload → normalise → store → read back, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq

ALPACA = [
    {"instruction": "Give three tips for staying healthy.", "input": "", "output": "Eat well, sleep, move."},
    {"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour"},
    {
        "instruction": "保持健康的三个提示。",
        "input": "",
        "output": "多运动。",
        "system": "你是助手。",
        "history": [["你好", "你好！"]],
    },
]


def upload(client, content: bytes, filename: str = "data.json", **fields):
    return client.post("/v1/datasets", files={"file": (filename, content)}, data=fields)


def test_upload_alpaca_json_and_read_back(client) -> None:
    r = upload(client, json.dumps(ALPACA).encode(), name="tiny")
    assert r.status_code == 201, r.text
    ds = r.json()
    assert ds["rows"] == 3 and ds["format"] == "alpaca" and ds["name"] == "tiny"
    assert ds["ingest"]["container"] == "json"
    page = client.get(f"/v1/datasets/{ds['id']}/samples", params={"offset": 1, "limit": 2}).json()
    assert page["total"] == 3 and [s["index"] for s in page["items"]] == [1, 2]
    second = page["items"][0]["conversation"]
    assert second["turns"] == [
        {"role": "user", "content": "Translate to French.\n\nGood morning"},
        {"role": "assistant", "content": "Bonjour"},
    ]
    third = page["items"][1]
    assert third["conversation"]["system"] == "你是助手。"
    assert [t["role"] for t in third["conversation"]["turns"]] == ["user", "assistant", "user", "assistant"]
    assert third["original"] == ALPACA[2]
    listing = client.get("/v1/datasets").json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == ds["id"]


def test_formats_are_detected(client) -> None:
    sharegpt = [
        {
            "conversations": [
                {"from": "system", "value": "Be brief."},
                {"from": "human", "value": "Hi"},
                {"from": "gpt", "value": "Hello"},
                {"from": "function_call", "value": "{}"},
                {"from": "observation", "value": "42"},
                {"from": "gpt", "value": "It is 42."},
            ]
        }
    ]
    messages = [
        {
            "messages": [
                {"role": "system", "content": "S"},
                {"role": "user", "content": [{"type": "text", "text": "Q"}]},
                {"role": "assistant", "content": "A"},
            ]
        }
    ]
    pairs = [{"question": "What is 2+2?", "answer": "4"}]
    text = [{"text": "Plain pre-training text."}]
    cases = {"sharegpt": sharegpt, "messages": messages, "pairs": pairs, "text": text}
    for fmt, rows in cases.items():
        r = upload(client, "\n".join(json.dumps(x) for x in rows).encode(), filename=f"{fmt}.jsonl")
        assert r.status_code == 201, r.text
        assert r.json()["format"] == fmt
    ds = client.get("/v1/datasets").json()["items"]
    sg = next(d for d in ds if d["format"] == "sharegpt")
    conv = client.get(f"/v1/datasets/{sg['id']}/samples").json()["items"][0]["conversation"]
    assert conv["system"] == "Be brief."
    assert [t["role"] for t in conv["turns"]] == ["user", "assistant", "function_call", "tool", "assistant"]


def test_field_map_and_format_override(client) -> None:
    rows = [{"q": "Why is the sky blue?", "a": "Rayleigh scattering."}]
    r = upload(
        client, json.dumps(rows).encode(), format="pairs", field_map=json.dumps({"instruction": "q", "output": "a"})
    )
    assert r.status_code == 201, r.text
    conv = client.get(f"/v1/datasets/{r.json()['id']}/samples").json()["items"][0]["conversation"]
    assert conv["turns"][0]["content"] == "Why is the sky blue?"


def test_containers_csv_parquet_gzip_and_raw_bodies(client) -> None:
    csv_bytes = b'instruction,input,output\nSay hi,,Hi\n"Multi\nline",x,y\n'
    r = upload(client, csv_bytes, filename="d.csv")
    assert r.status_code == 201, r.text
    assert r.json()["rows"] == 2
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(ALPACA[:2]), buf)
    r = upload(client, buf.getvalue(), filename="d.parquet")
    assert r.status_code == 201 and r.json()["rows"] == 2
    r = upload(client, gzip.compress(json.dumps(ALPACA).encode()), filename="d.json.gz")
    assert r.status_code == 201 and r.json()["ingest"]["gzip"] is True and r.json()["rows"] == 3
    r = client.post(
        "/v1/datasets?name=raw", content=json.dumps(ALPACA).encode(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 201 and r.json()["rows"] == 3 and r.json()["name"] == "raw"
    body = "\n".join(json.dumps(x) for x in ALPACA).encode()
    r = client.post("/v1/datasets", content=body, headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 201 and r.json()["ingest"]["container"] == "jsonl"


def test_utf8_bom_is_accepted(client) -> None:
    r = upload(client, b"\xef\xbb\xbf" + json.dumps(ALPACA).encode(), filename="bom.json")
    assert r.status_code == 201, r.text
    r = upload(client, b"\xef\xbb\xbf" + "\n".join(json.dumps(x) for x in ALPACA).encode(), filename="bom.jsonl")
    assert r.status_code == 201, r.text


def test_idempotency_key(client) -> None:
    body = json.dumps(ALPACA).encode()
    a = client.post("/v1/datasets", files={"file": ("a.json", body)}, headers={"Idempotency-Key": "k1"})
    b = client.post("/v1/datasets", files={"file": ("a.json", body)}, headers={"Idempotency-Key": "k1"})
    assert a.status_code == 201 and b.status_code == 200 and a.json()["id"] == b.json()["id"]
    c = client.post("/v1/datasets", files={"file": ("a.json", body[:-1] + b" ]")}, headers={"Idempotency-Key": "k1"})
    assert c.status_code == 409
    assert client.get("/v1/datasets").json()["total"] == 1


def test_export_formats_roundtrip(client) -> None:
    ds = upload(client, json.dumps(ALPACA).encode()).json()
    lines = client.get(f"/v1/datasets/{ds['id']}/export", params={"format": "alpaca"}).text.splitlines()
    assert json.loads(lines[0]) == {"instruction": ALPACA[0]["instruction"], "input": "", "output": ALPACA[0]["output"]}
    third = json.loads(lines[2])
    assert third["history"] == [["你好", "你好！"]] and third["system"] == "你是助手。"
    sg = [json.loads(x) for x in client.get(f"/v1/datasets/{ds['id']}/export?format=sharegpt").text.splitlines()]
    assert sg[2]["conversations"][0] == {"from": "system", "value": "你是助手。"}
    msgs = [json.loads(x) for x in client.get(f"/v1/datasets/{ds['id']}/export?format=messages").text.splitlines()]
    assert [m["role"] for m in msgs[2]["messages"]] == ["system", "user", "assistant", "user", "assistant"]
    # an export re-uploads to the same conversations
    again = upload(client, "\n".join(json.dumps(m) for m in msgs).encode(), filename="m.jsonl").json()
    a = client.get(f"/v1/datasets/{ds['id']}/samples").json()["items"]
    b = client.get(f"/v1/datasets/{again['id']}/samples").json()["items"]
    assert [x["conversation"] for x in a] == [x["conversation"] for x in b]
    assert client.get(f"/v1/datasets/{ds['id']}/export?format=yaml").status_code == 422


def test_delete_dataset(client) -> None:
    ds = upload(client, json.dumps(ALPACA).encode()).json()
    r = client.delete(f"/v1/datasets/{ds['id']}")
    assert r.status_code == 202 and r.json()["kind"] == "dataset_purge", "hidden at once, purged by a job"
    assert client.get(f"/v1/datasets/{ds['id']}").status_code == 404


def test_auth_required_and_projects_isolated(client, settings) -> None:
    from app.db.session import session_scope
    from app.services.auth import create_key

    ds = upload(client, json.dumps(ALPACA).encode()).json()
    assert client.get("/health", headers={"Authorization": ""}).status_code == 200
    assert client.get("/v1/datasets", headers={"Authorization": ""}).status_code == 401
    assert client.get("/v1/datasets", headers={"Authorization": "Bearer nope"}).status_code == 401
    with session_scope(settings.db_url) as s:
        other, _ = create_key(s, "other-project")
    h = {"Authorization": f"Bearer {other}"}
    assert client.get(f"/v1/datasets/{ds['id']}", headers=h).status_code == 404
    assert client.get("/v1/datasets", headers=h).json()["total"] == 0


def test_keys_are_stored_only_as_hashes(settings, api_key) -> None:
    from sqlalchemy import select

    from app.db.models import ApiKey
    from app.db.session import session_scope

    with session_scope(settings.db_url) as s:
        rows = s.scalars(select(ApiKey)).all()
    assert rows and all(api_key not in (r.key_hash, r.prefix) and len(r.key_hash) == 64 for r in rows)
