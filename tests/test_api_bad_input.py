"""Bad input: a clear 4xx saying what and where; never a 500, never a half-stored dataset."""

from __future__ import annotations

import gzip
import json

import pytest

GOOD = {"instruction": "Say hi", "input": "", "output": "Hi"}


def jsonl(*rows) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows).encode()


def post(client, content: bytes, filename="d.jsonl", **data):
    return client.post("/v1/datasets", files={"file": (filename, content)}, data=data)


def assert_nothing_stored(client) -> None:
    assert client.get("/v1/datasets").json()["total"] == 0


def test_malformed_json_line_is_reported_with_line_number(client) -> None:
    r = post(client, jsonl(GOOD, GOOD, '{"instruction": "x", "output": '))
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_rows"
    assert err["errors"][0]["line"] == 3 and "malformed JSON" in err["errors"][0]["reason"]
    assert_nothing_stored(client)


def test_malformed_json_array_reports_line(client) -> None:
    body = b'[\n {"instruction": "a", "output": "b"},\n {"instruction": "c" "output": "d"}\n]'
    r = post(client, body, filename="d.json")
    assert r.status_code == 422
    assert r.json()["error"]["errors"][0]["line"] == 3
    assert_nothing_stored(client)


def test_missing_answer_names_row_line_and_field(client) -> None:
    r = post(client, jsonl(GOOD, {"instruction": "No answer here"}, GOOD, {"input": "x", "output": "y"}))
    assert r.status_code == 422
    errors = r.json()["error"]["errors"]
    assert {"line": 2, "index": 1, "field": "output", "reason": "missing"} in errors
    assert {"line": 4, "index": 3, "field": "instruction", "reason": "missing"} in errors
    assert_nothing_stored(client)


def test_skip_policy_stores_good_rows_and_reports_skipped(client) -> None:
    r = post(client, jsonl(GOOD, {"instruction": "No answer"}, "not json", GOOD), on_error="skip")
    assert r.status_code == 201, r.text
    ds = r.json()
    assert ds["rows"] == 2 and ds["ingest"]["skipped"] == 2
    assert [e["line"] for e in ds["ingest"]["skipped_rows"]] == [2, 3]
    idx = [s["index"] for s in client.get(f"/v1/datasets/{ds['id']}/samples").json()["items"]]
    assert idx == [0, 3], "rows keep their position in the file"


def test_unknown_format_and_empty_file(client) -> None:
    r = post(client, jsonl({"foo": 1, "bar": 2}))
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_format"
    assert "bar, foo" in r.json()["error"]["message"]
    r = post(client, b"")
    assert r.status_code == 422 and r.json()["error"]["code"] == "empty_file"
    r = post(client, b"   \n\n")
    assert r.status_code == 422 and r.json()["error"]["code"] == "empty_file"
    r = post(client, jsonl(GOOD), format="klingon")
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_format"
    assert_nothing_stored(client)


def test_wrong_encodings(client) -> None:
    r = post(client, json.dumps([GOOD]).encode("utf-16"), filename="d.json")
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_encoding"
    assert "UTF-16" in r.json()["error"]["message"]
    bad = jsonl(GOOD) + b'\n{"instruction": "caf\xe9", "output": "x"}'
    r = post(client, bad)
    assert r.status_code == 422
    e = r.json()["error"]["errors"][0]
    assert e["line"] == 2 and "invalid UTF-8 byte 0xe9" in e["reason"]
    r = post(client, b'[{"instruction": "caf\xe9", "output": "x"}]', filename="d.json")
    assert r.status_code == 422 and r.json()["error"]["errors"][0]["line"] == 1
    assert_nothing_stored(client)


def test_nul_and_lone_surrogates_are_sanitised_and_flagged(client) -> None:
    body = b'{"instruction": "a\\u0000b", "output": "x\\ud800y"}\n' + jsonl(GOOD)
    r = post(client, body)
    assert r.status_code == 201, r.text
    ds = r.json()
    assert ds["ingest"]["sanitised"] == 1
    item = client.get(f"/v1/datasets/{ds['id']}/samples").json()["items"][0]
    assert item["conversation"]["turns"][0]["content"] == "ab"
    assert item["conversation"]["turns"][1]["content"] == "x\ufffdy"
    assert item["warnings"] == ["nul_removed", "surrogate_replaced"]


def test_size_limits(settings, api_key) -> None:
    from fastapi.testclient import TestClient

    from app.api.main import create_app

    settings.upload.max_bytes = 2000
    settings.upload.max_decompressed_bytes = 50_000
    settings.upload.max_line_bytes = 500
    with TestClient(create_app(settings, migrate=False)) as c:
        c.headers["Authorization"] = f"Bearer {api_key}"
        r = post(c, jsonl(*[GOOD] * 100))
        assert r.status_code == 413 and r.json()["error"]["limit_bytes"] == 2000
        bomb = gzip.compress(b"\n".join([json.dumps(GOOD).encode()] * 5000))
        assert len(bomb) < 2000
        r = post(c, bomb, filename="bomb.jsonl.gz")
        assert r.status_code == 413 and "decompressed" in r.json()["error"]["message"]
        r = post(c, jsonl(GOOD, {"instruction": "x" * 600, "output": "y"}))
        assert r.status_code == 422 and r.json()["error"]["code"] == "line_too_long"
        assert r.json()["error"]["errors"][0]["line"] == 2
        assert c.get("/v1/datasets").json()["total"] == 0
    assert list((settings.storage.uploads).glob("*")) == [], "rejected uploads leave no file behind"


@pytest.mark.parametrize(
    "bad",
    [
        '{"conversations": []}',
        '{"conversations": [{"from": "alien", "value": "x"}]}',
        '{"messages": [{"role": "user", "content": "only a question"}]}',
        '{"instruction": ["not", "a", "string"], "output": "x"}',
        "[1, 2]",
    ],
)
def test_structurally_wrong_rows_are_4xx(client, bad) -> None:
    r = post(client, bad.encode())
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["error"]["errors"][0]["line"] == 1
    assert_nothing_stored(client)


def test_wrong_content_type_and_missing_file(client) -> None:
    r = client.post("/v1/datasets", content=b"x", headers={"Content-Type": "image/png"})
    assert r.status_code == 415
    r = client.post("/v1/datasets", data={"name": "x"}, files={"other": ("a", b"1")})
    assert r.status_code == 422 and r.json()["error"]["code"] == "missing_file"
    r = client.post("/v1/datasets", files={"file": ("a.json", json.dumps([GOOD]).encode())}, data={"field_map": "{bad"})
    assert r.status_code == 422 and r.json()["error"]["errors"][0]["field"] == "field_map"
