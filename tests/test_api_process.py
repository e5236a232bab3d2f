"""Process-level guarantees: the API never imports torch; the CLI audits a file without a server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

API_SCRIPT = r"""
import json, sys
from fastapi.testclient import TestClient
from app.api.main import create_app
from app.db.session import session_scope
from app.services.auth import create_key
from app.settings import Settings

s = Settings(database_url=sys.argv[1], storage={"data_dir": sys.argv[2]})
with TestClient(create_app(s)) as c:
    with session_scope(s.db_url) as db:
        key, _ = create_key(db)
    c.headers["Authorization"] = "Bearer " + key
    rows = [{"instruction": "Hi", "output": "Hello"}]
    ds = c.post("/v1/datasets", files={"file": ("d.json", json.dumps(rows).encode())}).json()
    assert c.post(f"/v1/datasets/{ds['id']}/audits", json={}).status_code == 202
    assert len(c.get("/v1/scorers").json()) >= 3
    c.get("/docs"); c.get("/openapi.json")
    spec = {"base_model": sys.argv[3], "method": "lora", "max_steps": 1}
    r = c.post("/v1/training-jobs/preview", json={"dataset_id": ds["id"], "spec": spec})
    assert r.status_code == 200, r.text
    assert c.post("/v1/training-jobs", json={"dataset_id": ds["id"], "spec": spec}).status_code == 202
    assert c.post("/v1/training-plans/recommend", json={"domain_sft_rows": 10}).status_code == 200
heavy = sorted(m for m in ("torch", "sentence_transformers", "peft", "accelerate") if m in sys.modules)
print(json.dumps(heavy))
"""


def test_api_process_never_imports_torch(db_url, tmp_path) -> None:
    """Uploads, audits, scorer listing, training previews and validation: none of it loads torch."""
    from app.training.toy import build_toy_model

    model = build_toy_model(tmp_path / "toy")
    out = subprocess.run([sys.executable, "-c", API_SCRIPT, db_url, str(tmp_path / "data"), str(model)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_cli_audit_writes_report_and_samples(tmp_path) -> None:
    rows = [{"instruction": "What is 2+2?", "input": "", "output": "4"}, {"instruction": "What is 2+2?", "input": "", "output": "4"},
            {"instruction": "Name a colour.", "input": "", "output": "Blue."}]
    src = tmp_path / "d.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows))
    out_dir = tmp_path / "out"
    env_cmd = [sys.executable, "-m", "app.cli", "audit", str(src), "--out", str(out_dir),
               "--scorers", "exact_duplicate,text_length,language"]
    res = subprocess.run(env_cmd, cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "SFTAUDIT_STORAGE__DATA_DIR": str(tmp_path / "data")})
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
    res2 = subprocess.run(env_cmd, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "SFTAUDIT_STORAGE__DATA_DIR": str(tmp_path / "data")})
    assert res2.returncode == 0 and (out_dir / "report.json").read_bytes() == first


def test_cli_audit_bad_file_exits_2_with_line(tmp_path) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text('{"instruction": "a", "output": "b"}\n{"instruction": "c"}\n')
    res = subprocess.run([sys.executable, "-m", "app.cli", "audit", str(src), "--out", str(tmp_path / "o")], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 2
    assert "'line': 2" in res.stderr and "'field': 'output'" in res.stderr
