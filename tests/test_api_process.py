"""Process-level guarantees: the API never imports torch (nor ray); the CLI audits a file without a server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

API_SCRIPT = r"""
import json, os, re, subprocess, sys
from pathlib import Path
from fastapi.testclient import TestClient
from app.api.main import create_app
from app.db.models import Job
from app.db.session import session_scope
from app.services.auth import create_key
from app.settings import Settings

db_url, data_dir, model = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
s = Settings(database_url=db_url, storage={"data_dir": str(data_dir)}, models={"roots": [str(model.parent)]})
app = create_app(s)
seen = set()

@app.middleware("http")
async def record(request, call_next):
    response = await call_next(request)
    route = request.scope.get("route")
    if route is not None:
        seen.add((request.method, re.sub(r":[a-z]+}", "}", route.path)))  # {path:path} is {path} in the schema
    return response

def work():  # audits and curations run in a worker process, as in production
    env = {**os.environ, "SFTAUDIT_DATABASE_URL": db_url, "SFTAUDIT_STORAGE__DATA_DIR": str(data_dir)}
    subprocess.run([sys.executable, "-m", "app.cli", "worker", "--once", "--kinds", "audit,curation"], env=env,
                   check=True, capture_output=True, timeout=600)

def ok(r, code=200):
    assert r.status_code == code, (r.request.method, r.request.url, r.status_code, r.text[:500])
    return r

with TestClient(app) as c:
    with session_scope(s.db_url) as db:
        key, _ = create_key(db, "default", "", "admin")
    c.headers["Authorization"] = "Bearer " + key
    rows = [{"instruction": f"what is number {i}?", "input": "", "output": ["red cat.", "blue dog."][i % 2]} for i in range(12)]
    ds = ok(c.post("/v1/datasets", files={"file": ("d.json", json.dumps(rows).encode())}), 201).json()["id"]
    pairs = [{"chosen": f"\n\nHuman: q{i}?\n\nAssistant: red cat.", "rejected": f"\n\nHuman: q{i}?\n\nAssistant: no."}
             for i in range(6)]
    pref = ok(c.post("/v1/datasets", files={"file": ("hh.jsonl", "\n".join(map(json.dumps, pairs)).encode())}), 201).json()["id"]
    ok(c.get("/v1/datasets")); ok(c.get(f"/v1/datasets/{ds}")); ok(c.get(f"/v1/datasets/{ds}/samples"))
    ok(c.get(f"/v1/datasets/{ds}/export?format=messages"))
    labels = "\n".join(json.dumps({"index": i, "label": "good" if i % 2 else "bad"}) for i in range(4)).encode()
    ok(c.post(f"/v1/datasets/{ds}/labels", files={"file": ("labels.jsonl", labels)}))
    ok(c.get(f"/v1/datasets/{ds}/labels")); ok(c.get(f"/v1/datasets/{ds}/labels/export"))
    ok(c.put(f"/v1/datasets/{ds}/labels/5", json={"label": "good"})); ok(c.delete(f"/v1/datasets/{ds}/labels/5"), 204)
    audit = ok(c.post(f"/v1/datasets/{ds}/audits", json={"scorers": ["exact_duplicate", "text_length"]}), 202).json()
    work()
    ok(c.get(f"/v1/audits/{audit['id']}")); ok(c.get(f"/v1/audits/{audit['id']}/report.json"))
    ok(c.get(f"/v1/audits/{audit['id']}/samples")); ok(c.get(f"/v1/audits/{audit['id']}/samples/0"))
    ok(c.get(f"/v1/audits/{audit['id']}/report.html")); ok(c.get(f"/v1/audits/{audit['id']}/browser"))
    cur = ok(c.post(f"/v1/datasets/{ds}/curations", json={"audit_id": audit["id"], "policy": {"budget": {"rows": 4}}}),
             202).json()
    work()
    ok(c.get(f"/v1/curations/{cur['id']}")); ok(c.get(f"/v1/curations/{cur['id']}/report.html"))
    assert ok(c.get(f"/v1/audits/{audit['id']}/curations")).json()[0]["id"] == cur["id"]
    curated = ok(c.get(f"/v1/curations/{cur['id']}")).json()["curated"]["id"]
    ok(c.get(f"/v1/datasets/{curated}/lineage"))
    spec = {"base_model": model.name, "method": "lora", "max_steps": 1}
    ok(c.post("/v1/training-jobs/preview", json={"dataset_id": ds, "spec": spec}))
    reward = {"base_model": str(model), "task": "reward", "method": "lora", "max_steps": 1}
    ok(c.post("/v1/training-jobs/preview", json={"dataset_id": pref, "spec": reward}))
    ok(c.post("/v1/training-jobs", json={"dataset_id": pref, "spec": reward}), 202)
    tj = ok(c.post("/v1/training-jobs", json={"dataset_id": ds, "spec": spec}), 202).json()["id"]
    ok(c.post(f"/v1/jobs/{tj}/cancel")); ok(c.get(f"/v1/jobs/{tj}"))
    ok(c.get(f"/v1/training-jobs/{tj}")); ok(c.get(f"/v1/training-jobs/{tj}/metrics"))
    assert "event: end" in ok(c.get(f"/v1/training-jobs/{tj}/events")).text
    with session_scope(s.db_url) as db:  # a finished job's artifacts (written here: no training in this test)
        db.get(Job, tj).status = "succeeded"
    (data_dir / "artifacts" / tj / "final").mkdir(parents=True)
    (data_dir / "artifacts" / tj / "final" / "config.json").write_text("{}")
    assert ok(c.get(f"/v1/training-jobs/{tj}/artifacts")).json()["items"]
    ok(c.get(f"/v1/training-jobs/{tj}/artifacts/final/config.json"))
    ok(c.post("/v1/training-plans/recommend", json={"domain_sft_rows": 10, "domain_dataset_id": ds}))
    exp = ok(c.post("/v1/experiments", json={"curation_id": cur["id"], "spec": spec, "held_out_rows": 2}), 202).json()
    ok(c.get(f"/v1/experiments/{exp['id']}"))
    assert len(ok(c.get("/v1/scorers")).json()) >= 3
    made = ok(c.post("/v1/admin/keys", json={"project": "p2"}), 201).json()
    ok(c.get("/v1/admin/keys")); ok(c.post(f"/v1/admin/keys/{made['id']}/revoke"))
    ok(c.delete(f"/v1/datasets/{pref}"), 202)
    ok(c.get("/health")); ok(c.get("/docs")); ok(c.get("/redoc")); ok(c.get("/docs/oauth2-redirect"))
    ok(c.get("/openapi.json"))
# every operation, from the OpenAPI schema: app.routes holds included routers unflattened (FastAPI >= 0.16x), and
# no route of ours is hidden from the schema
routes = {(m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops
          if m in ("get", "post", "put", "patch", "delete")}
assert len(routes) >= 40 and ("GET", "/v1/audits/{audit_id}/samples") in routes, sorted(routes)
missing = sorted(routes - seen)
assert not missing, f"routes this test does not exercise: {missing}"
heavy = sorted(m for m in ("torch", "sentence_transformers", "peft", "accelerate", "ray") if m in sys.modules)
# the training engine and the worker stay out of the API process too (the torch-free contracts are app.training_spec)
heavy += sorted(m for m in sys.modules if m.split(".")[:2] in (["app", "training"], ["app", "jobs"]))
print(json.dumps(heavy))
"""


def test_api_process_never_imports_torch(db_url, tmp_path) -> None:
    """Every route — uploads, audits, reports, curations, training (reward too), experiments, admin — runs
    in a process that never loads torch, model code, the training engine or the worker (the test fails if a
    route is added and not exercised)."""
    from app.training.toy import build_toy_model

    model = build_toy_model(tmp_path / "models" / "toy")
    out = subprocess.run(
        [sys.executable, "-c", API_SCRIPT, db_url, str(tmp_path / "data"), str(model)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_cli_audit_writes_report_and_samples(tmp_path) -> None:
    rows = [
        {"instruction": "What is 2+2?", "input": "", "output": "4"},
        {"instruction": "What is 2+2?", "input": "", "output": "4"},
        {"instruction": "Name a colour.", "input": "", "output": "Blue."},
    ]
    src = tmp_path / "d.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows))
    out_dir = tmp_path / "out"
    env_cmd = [
        sys.executable,
        "-m",
        "app.cli",
        "audit",
        str(src),
        "--out",
        str(out_dir),
        "--scorers",
        "exact_duplicate,text_length,language",
    ]
    res = subprocess.run(
        env_cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "SFTAUDIT_STORAGE__DATA_DIR": str(tmp_path / "data")},
    )
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads((out_dir / "report.json").read_text())
    assert report["dataset"]["rows"] == 3 and report["flags"] == {"exact_duplicate": 1}
    samples = [json.loads(x) for x in (out_dir / "samples.jsonl").read_text().splitlines()]
    assert [s["index"] for s in samples] == [0, 1, 2]
    assert samples[1]["flags"][0]["related"] == [0]
    assert "rows audited" in res.stderr and "exact_duplicate" in res.stderr  # the summary table
    html = (out_dir / "report.html").read_text()
    assert "<html" in html and "exact_duplicate" in html
    first = (out_dir / "report.json").read_bytes()
    res2 = subprocess.run(
        env_cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "SFTAUDIT_STORAGE__DATA_DIR": str(tmp_path / "data")},
    )
    assert res2.returncode == 0 and (out_dir / "report.json").read_bytes() == first


def test_cli_audit_bad_file_exits_2_with_line(tmp_path) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text('{"instruction": "a", "output": "b"}\n{"instruction": "c"}\n')
    res = subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", str(src), "--out", str(tmp_path / "o")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 2
    assert "'line': 2" in res.stderr and "'field': 'output'" in res.stderr
