"""Start the service the way docker-compose (and the README) does — API and worker as separate
processes — and run an audit through real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_api_and_worker_processes_serve_an_audit(db_url, tmp_path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "SFTAUDIT_DATABASE_URL": db_url,
        "SFTAUDIT_STORAGE__DATA_DIR": str(tmp_path / "data"),
        "SFTAUDIT_WORKER__POLL_SECONDS": "0.2",
        "PYTHONPATH": str(ROOT),
    }
    api = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        key = None
        deadline = time.time() + 60
        while key is None and time.time() < deadline:
            line = api.stdout.readline()
            if "Bearer " in line:
                key = line.split("Bearer ", 1)[1].strip()
        assert key and key.startswith("sfta_"), "a first serve with no keys prints one"
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:
            while time.time() < deadline:
                try:
                    if c.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            assert c.get("/docs").status_code == 200
            rows = [{"instruction": "Hi", "input": "", "output": "Hello"}] * 3
            ds = c.post("/v1/datasets", files={"file": ("d.json", json.dumps(rows).encode())}).json()
            audit = c.post(f"/v1/datasets/{ds['id']}/audits", json={"scorers": ["exact_duplicate"]}).json()
            while time.time() < deadline + 60:
                state = c.get(f"/v1/audits/{audit['id']}").json()
                if state["status"] in ("succeeded", "failed"):
                    break
                time.sleep(0.2)
            assert state["status"] == "succeeded", state
            assert state["report"]["flags"] == {"exact_duplicate": 2}
    finally:
        for p in (api, worker):
            p.send_signal(signal.SIGTERM)
        for p in (api, worker):
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
