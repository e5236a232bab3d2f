"""Issue #14, items 6–11, 14, 15: hostile or odd input gets a 4xx that says what and where — never a
500, never a half-stored dataset, never a file left on disk — on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
import re
import threading

import pytest

from app.jobs.worker import Worker

GOOD = {"instruction": "Say hi", "input": "", "output": "Hi"}
ROUTES_WITH_AN_ID = [
    ("get", "/v1/datasets/{x}"),
    ("get", "/v1/datasets/{x}/samples"),
    ("get", "/v1/datasets/{x}/export"),
    ("delete", "/v1/datasets/{x}"),
    ("get", "/v1/audits/{x}"),
    ("get", "/v1/audits/{x}/report.json"),
    ("get", "/v1/audits/{x}/samples"),
    ("get", "/v1/audits/{x}/report.html"),
    ("get", "/v1/jobs/{x}"),
    ("post", "/v1/jobs/{x}/cancel"),
    ("get", "/v1/curations/{x}"),
    ("get", "/v1/training-jobs/{x}"),
    ("get", "/v1/training-jobs/{x}/metrics"),
    ("get", "/v1/training-jobs/{x}/artifacts"),
    ("get", "/v1/experiments/{x}"),
]


def jsonl(*rows) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows).encode()


def post(client, content: bytes, filename="d.jsonl", headers=None, params=None, **data):
    return client.post("/v1/datasets", files={"file": (filename, content)}, data=data, headers=headers, params=params)


def dataset(client, rows=(GOOD, GOOD)) -> str:
    r = post(client, jsonl(*rows))
    assert r.status_code == 201, r.text
    return r.json()["id"]


def uploads_left(settings) -> list:
    d = settings.storage.uploads
    return sorted(p.name for p in d.glob("*")) if d.exists() else []


# --- 6. NUL characters and over-long strings --------------------------------------------------------------
@pytest.mark.parametrize("method,route", ROUTES_WITH_AN_ID)
def test_nul_or_garbage_in_an_id_is_not_found(client, method, route) -> None:
    for bad in ("ab%00cd", "x" * 300, "%20"):
        r = getattr(client, method)(route.format(x=bad))
        assert r.status_code == 404, (route, bad, r.status_code, r.text)
        assert r.json()["error"]["code"] == "not_found"


def test_nul_in_names_and_options_is_a_422(client, settings) -> None:
    r = client.post("/v1/datasets?name=a%00b", content=jsonl(GOOD), headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 422, r.text
    r = post(client, jsonl(GOOD), name="a\x00b")
    assert r.status_code == 422 and r.json()["error"]["errors"][0]["field"] == "name", r.text
    assert client.get("/v1/datasets?offset=0&x=%00").status_code == 422
    assert client.get("/v1/datasets").json()["total"] == 0
    assert uploads_left(settings) == []


def test_over_long_name_key_and_format_are_422_not_500(client, settings) -> None:
    r = post(client, jsonl(GOOD), name="n" * 301)
    assert r.status_code == 422 and r.json()["error"]["errors"][0]["field"] == "name", r.text
    r = post(client, jsonl(GOOD), headers={"Idempotency-Key": "k" * 201})
    assert r.status_code == 422 and r.json()["error"]["errors"][0]["field"] == "Idempotency-Key", r.text
    r = post(client, jsonl(GOOD), format="f" * 33)
    assert r.status_code == 422 and r.json()["error"]["errors"][0]["field"] == "format", r.text
    assert post(client, jsonl(GOOD), name="n" * 300).status_code == 201, "the longest allowed name is stored"
    ds = dataset(client)
    audit = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": ["exact_duplicate"]}).json()
    Worker(settings).run_once()
    r = client.post(f"/v1/datasets/{ds}/curations", json={"audit_id": audit["id"], "name": "c" * 301})
    assert r.status_code == 422, r.text
    r = client.post(f"/v1/datasets/{ds}/curations", json={"audit_id": audit["id"], "name": "a\x00b"})
    assert r.status_code == 422, r.text
    assert len(uploads_left(settings)) == 2


# --- 7. the same Idempotency-Key at once ------------------------------------------------------------------
def test_concurrent_uploads_with_one_idempotency_key_get_one_dataset(client, settings, monkeypatch) -> None:
    import app.services.datasets as datasets

    body = jsonl(*[GOOD] * 200)
    results: list = []
    barrier, first = threading.Barrier(6, timeout=20), threading.local()
    real = datasets.find_idempotent

    def all_at_once(*args, **kwargs):  # every request passes the key check before any of them stores a row
        if not getattr(first, "done", False):
            first.done = True
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass
        return real(*args, **kwargs)

    monkeypatch.setattr(datasets, "find_idempotent", all_at_once)

    def send() -> None:
        r = post(client, body, headers={"Idempotency-Key": "same-key"})
        results.append((r.status_code, r.json()))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    codes = sorted(c for c, _ in results)
    assert len(codes) == 6 and all(c in (200, 201, 409) for c in codes), codes
    assert codes.count(201) == 1, codes
    ids = {b["id"] for c, b in results if c in (200, 201)}
    assert len(ids) == 1
    assert {b["error"]["code"] for c, b in results if c == 409} <= {"idempotency_in_progress"}
    assert client.get("/v1/datasets").json()["total"] == 1
    again = post(client, body, headers={"Idempotency-Key": "same-key"})
    assert again.status_code == 200 and again.json()["id"] in ids
    assert len(uploads_left(settings)) == 1, "the losers' files are removed"


# --- 8. one bad row is that row's error -------------------------------------------------------------------
def test_pathological_rows_are_row_errors_even_with_skip(client) -> None:
    deep = '{"instruction": "x", "output": "y", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}"
    huge_int = '{"instruction": "x", "output": "y", "n": 1' + "0" * 5000 + "}"
    nan = '{"instruction": "x", "output": "y", "score": NaN}'
    body = jsonl(GOOD, deep, huge_int, nan, GOOD)
    r = post(client, body, on_error="skip")
    assert r.status_code == 201, r.text
    ds = r.json()
    assert ds["rows"] == 2
    skipped = {e["line"]: e["reason"] for e in ds["ingest"]["skipped_rows"]}
    assert set(skipped) == {2, 3, 4}
    assert "nested" in skipped[2] and "4300 digits" in skipped[3] and "NaN" in skipped[4]
    r = post(client, body)
    assert r.status_code == 422 and [e["line"] for e in r.json()["error"]["errors"]] == [2, 3, 4]
    items = client.get(f"/v1/datasets/{ds['id']}/samples").json()["items"]
    assert [i["index"] for i in items] == [0, 4]


def test_a_row_nested_too_deep_for_storage_is_refused_in_json_arrays_too(client) -> None:
    nested = {"instruction": "x", "output": "y", "extra": json.loads("[" * 300 + "]" * 300)}
    r = post(client, json.dumps([GOOD, nested, GOOD]).encode(), filename="d.json", on_error="skip")
    assert r.status_code == 201, r.text
    assert r.json()["rows"] == 2 and r.json()["ingest"]["skipped_rows"][0]["index"] == 1
    deep = b'[{"instruction": "x", "output": "y", "e": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]"
    r = post(client, deep, filename="d.json", on_error="skip")
    assert r.status_code == 422 and r.json()["error"]["code"] == "malformed_json", r.text


def test_garbage_and_truncated_gzip(client, settings) -> None:
    r = post(client, b"\x1f\x8bgarbage", filename="d.jsonl.gz")
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_gzip", r.text
    varied = [
        {"instruction": f"Question {i}: what is {i * 7919 % 1000} squared?", "output": str((i * 7919 % 1000) ** 2)}
        for i in range(400)
    ]  # varied rows: half the compressed bytes inflate to many whole rows
    whole = gzip.compress(jsonl(*varied))
    r = post(client, whole[: len(whole) // 2], filename="d.jsonl.gz", on_error="skip")
    assert r.status_code == 201, r.text
    ds = r.json()
    assert 0 < ds["rows"] < 400 and ds["ingest"]["skipped"] >= 1
    assert "gzip" in ds["ingest"]["skipped_rows"][-1]["reason"]
    r = post(client, whole[: len(whole) // 2], filename="d.jsonl.gz")
    assert r.status_code == 422 and "gzip" in r.json()["error"]["message"]
    r = post(client, gzip.compress(json.dumps([GOOD] * 50).encode())[:-30], filename="d.json.gz")
    assert r.status_code == 422, r.text
    assert client.get("/v1/datasets").json()["total"] == 1


# --- 9. out-of-range numbers ------------------------------------------------------------------------------
def test_out_of_range_numbers_are_422(client, settings) -> None:
    ds = dataset(client)
    assert client.get("/v1/datasets", params={"offset": 10**20}).status_code == 422
    assert client.get(f"/v1/datasets/{ds}/samples", params={"offset": 10**20}).status_code == 422
    assert client.get(f"/v1/datasets/{ds}/samples", params={"limit": 10**20}).status_code == 422
    r = client.post(
        f"/v1/datasets/{ds}/audits", content=b'{"seed": 1e30}', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422, r.text
    r = client.post(f"/v1/datasets/{ds}/audits", json={"seed": -1})
    assert r.status_code == 422, r.text
    r = client.post(
        "/v1/training-jobs",
        content=b'{"dataset_id": "%s", "spec": {"base_model": "m", "max_steps": 1e20}}' % ds.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    r = client.post("/v1/training-jobs", json={"dataset_id": ds, "spec": {"base_model": "m", "seed": 2**40}})
    assert r.status_code == 422, r.text
    audit = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": ["exact_duplicate"]}).json()
    Worker(settings).run_once()
    assert client.get(f"/v1/audits/{audit['id']}/samples/{10**20}").status_code == 422
    assert client.get(f"/v1/audits/{audit['id']}/samples", params={"cluster": 10**20}).status_code == 422
    r = client.post(
        f"/v1/datasets/{ds}/curations", json={"audit_id": audit["id"], "policy": {"budget": {"rows": 10**20}}}
    )
    assert r.status_code == 422, r.text


def test_empty_reference_id_is_not_found(client) -> None:
    ds = dataset(client)
    r = client.post(f"/v1/datasets/{ds}/audits", json={"reference_dataset_id": ""})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text


def test_nul_in_an_artifact_path_is_not_found(client, settings) -> None:
    from sqlalchemy import select

    from app.db import queue
    from app.db.models import Project
    from app.db.session import session_scope

    with session_scope(settings.db_url) as s:  # a finished training job with one artifact
        job = queue.enqueue(s, s.scalar(select(Project.id)), "training", {"spec": {}, "datasets": {}}, 1)
        job.status, job_id = "succeeded", job.id
    final = settings.storage.artifacts / job_id / "final"
    final.mkdir(parents=True)
    (final / "config.json").write_text("{}")
    assert client.get(f"/v1/training-jobs/{job_id}/artifacts/final/config.json").status_code == 200
    for path in ("final/%00", "final/a%00b", "%00", "final/config.json%00"):
        assert client.get(f"/v1/training-jobs/{job_id}/artifacts/{path}").status_code == 404, path


# --- 10. an empty scorer list ------------------------------------------------------------------------------
def test_empty_scorer_list_is_refused_not_a_full_audit(client) -> None:
    ds = dataset(client)
    r = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": []})
    assert r.status_code == 422 and r.json()["error"]["code"] == "no_scorers", r.text
    assert r.json()["error"]["errors"][0]["field"] == "scorers"


# --- 11. a rejected upload leaves no file --------------------------------------------------------------------
@pytest.mark.parametrize(
    "fields,query",
    [
        ({"on_error": "bogus"}, None),
        ({"field_map": "not json"}, None),
        ({"format": "klingon"}, None),
        ({}, {"on_error": "bogus"}),
        ({"name": "x" * 400}, None),
    ],
)
def test_uploads_refused_for_an_option_leave_no_file(client, settings, fields, query) -> None:
    r = post(client, jsonl(*[GOOD] * 50), params=query, **fields)
    assert r.status_code == 422, r.text
    assert uploads_left(settings) == []


# --- 14. where an error is -----------------------------------------------------------------------------------
def test_csv_bad_utf8_names_the_physical_line_and_column(client) -> None:
    lines = ["instruction,output"] + [f'"question {i} ' + "pad " * 20 + f'",answer {i}' for i in range(1, 3000)]
    lines[2000] = "caf\xe9 question,answer"  # line 2001 of the file
    body = "\n".join(lines).encode("latin-1")
    r = post(client, body, filename="d.csv")
    assert r.status_code == 422, r.text
    err = r.json()["error"]["errors"][0]
    assert err["line"] == 2001 and "column 4" in err["reason"], err


def test_csv_with_quoted_newlines_keeps_record_lines(client) -> None:
    body = b'instruction,output\n"multi\nline question",answer\nq2,"a\r\nb"\n,a3\n'
    r = post(client, body, filename="d.csv")
    assert r.status_code == 422, r.text
    assert r.json()["error"]["errors"][0]["line"] == 6


def test_malformed_jsonl_reports_the_real_column(client) -> None:
    r = post(client, jsonl(GOOD, '{"instruction": "x", "output": "y"', '{"instruction" "x"}'))
    assert r.status_code == 422
    reasons = {e["line"]: e["reason"] for e in r.json()["error"]["errors"]}
    assert reasons[2].endswith("column 35"), reasons
    assert reasons[3].endswith("column 16"), reasons


# --- 15. the API contract -------------------------------------------------------------------------------------
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)$")


def test_timestamps_carry_their_timezone(client, settings) -> None:
    ds = client.get(f"/v1/datasets/{dataset(client)}").json()
    assert ISO_UTC.match(ds["created_at"]), ds["created_at"]
    audit = client.post(f"/v1/datasets/{ds['id']}/audits", json={"scorers": ["exact_duplicate"]}).json()
    Worker(settings).run_once()
    job = client.get(f"/v1/jobs/{audit['job']['id']}").json()
    for key in ("created_at", "started_at", "finished_at"):
        assert ISO_UTC.match(job[key]), (key, job[key])


def test_error_bodies_are_declared_in_openapi(client) -> None:
    spec = client.get("/openapi.json").json()
    assert "ErrorBody" in spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if path == "/health" or path.endswith("/browser"):
                continue
            for code in ("401", "404", "422", "503"):
                ref = op["responses"].get(code, {}).get("content", {}).get("application/json", {}).get("schema", {})
                assert ref.get("$ref", "").endswith("/ErrorBody"), (method, path, code)


def test_empty_dimension_filter_means_no_filter(client, settings) -> None:
    ds = dataset(client)
    audit = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": ["exact_duplicate"]}).json()
    Worker(settings).run_once()
    r = client.get(f"/v1/audits/{audit['id']}/samples?dimension=&flag=&difficulty_level=&cursor=")
    assert r.status_code == 200, r.text
    assert r.json()["total"] == 2
