"""Issue #14 kill tests: ``serve`` supervises its workers (a killed one is restarted, and logged) and
/health shows them; SIGTERM to ``serve`` leaves no process of it behind; a worker SIGKILLed mid-audit
leaves a job another worker re-claims and finishes with a byte-identical report."""

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

from app.db import queue
from app.db.models import Audit, Job, Project, new_id
from app.db.session import session_scope

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> set[int]:
    """Direct children of ``pid`` (from /proc)."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.add(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(pred, timeout=60.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def serve(db_url: str, tmp_path: Path, *args: str) -> tuple[subprocess.Popen, int, Path]:
    port = _free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "SFTAUDIT_DATABASE_URL": db_url,
        "SFTAUDIT_STORAGE__DATA_DIR": str(tmp_path / "data"),
        "SFTAUDIT_WORKER__POLL_SECONDS": "0.2",
        "SFTAUDIT_WORKER__HEARTBEAT_SECONDS": "0.5",
        "SFTAUDIT_WORKER__ALIVE_SECONDS": "5",
        "SFTAUDIT_WORKER__RESTART_BACKOFF_SECONDS": "0.5",
        "SFTAUDIT_WORKER__STOP_GRACE_SECONDS": "5",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    return proc, port, log


def test_serve_supervises_workers_reports_them_and_leaves_nothing_on_sigterm(db_url, tmp_path) -> None:
    proc, port, log = serve(db_url, tmp_path)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:

            def health() -> dict:
                try:
                    return c.get("/health").json()
                except (httpx.TransportError, ValueError):
                    return {}

            wait_for(lambda: health().get("workers_alive") == 2, timeout=120, what="both lanes' workers")
            h = health()
            assert (
                h["status"] == "ok"
                and h["database"]["ok"]
                and {w["lane"] for w in h["workers"]} == {"default", "short"}
            )
            workers = children(proc.pid)
            assert len(workers) == 2, workers
            victim = min(workers)
            os.kill(victim, signal.SIGKILL)
            wait_for(lambda: len(children(proc.pid) - {victim}) == 2, timeout=60, what="the dead worker's replacement")
            assert "exited with code -9" in log.read_text() and "restart #1" in log.read_text()
            wait_for(lambda: health().get("workers_alive") == 2, timeout=60, what="the replacement's heartbeat")
        workers = children(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
    assert code == 0, log.read_text()[-2000:]
    wait_for(lambda: not any(alive(p) for p in workers), timeout=30, what="serve's workers to exit")


def test_workers_leave_when_serve_is_killed_outright(tmp_path) -> None:
    proc, port, log = serve(f"sqlite:///{tmp_path / 'k.db'}", tmp_path, "--lanes", "short")
    try:
        wait_for(lambda: len(children(proc.pid)) == 1, timeout=60, what="the worker")
        time.sleep(1)
        workers = children(proc.pid)
    finally:
        proc.kill()
        proc.wait(30)
    wait_for(lambda: not any(alive(p) for p in workers), timeout=30, what="the orphaned worker to notice")


def test_worker_sigkilled_mid_audit_is_reclaimed_with_a_byte_identical_report(settings, api_key, tmp_path) -> None:
    """The audit runs a scorer that takes seconds; the worker is killed in it; a second worker re-claims the job
    after the lease and finishes it; its report is byte-identical to a clean run of the same audit."""
    from app.services.datasets import IngestOptions, StoredUpload, ingest_upload

    rows = [{"instruction": f"Name thing {i % 7}.", "input": "", "output": f"Thing {i % 5}."} for i in range(40)]
    path = tmp_path / "d.json"
    path.write_text(json.dumps(rows))
    with session_scope(settings.db_url) as s:
        project_id = s.query(Project.id).scalar()
    ds, _ = ingest_upload(
        settings, project_id, StoredUpload(path, "0" * 64, path.stat().st_size, "d.json", None), IngestOptions()
    )

    def new_audit() -> tuple[str, str]:  # straight to the tables: the slow scorer exists only in the workers
        with session_scope(settings.db_url) as s:
            audit = Audit(
                id=new_id(),
                project_id=project_id,
                dataset_id=ds.id,
                job_id="",
                seed=7,
                params={},
                scorers=["exact_duplicate", "text_length", "test_slow_profile"],
            )
            job = queue.enqueue(s, project_id, "audit", {"audit_id": audit.id}, 3)
            audit.job_id = job.id
            s.add(audit)
            return audit.id, job.id

    def job_state(job_id: str) -> tuple[str, str, int]:
        with session_scope(settings.db_url) as s:
            j = s.get(Job, job_id)
            return j.status, j.step, j.attempts

    env = {
        **os.environ,
        "SFTAUDIT_DATABASE_URL": settings.db_url,
        "SFTAUDIT_STORAGE__DATA_DIR": str(tmp_path / "w"),
        "SFTAUDIT_WORKER__HANDLER_MODULES": '["tests.job_handlers"]',
        "SFTAUDIT_WORKER__LEASE_SECONDS": "2",
        "SFTAUDIT_WORKER__HEARTBEAT_SECONDS": "0.3",
        "SFTAUDIT_WORKER__POLL_SECONDS": "0.1",
        "PYTHONPATH": str(ROOT),
    }
    cmd = [sys.executable, "-m", "app.cli", "worker"]
    first_audit, first_job = new_audit()
    w1 = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**env, "SFTAUDIT_TEST_SLOW_SECONDS": "30"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: "test_slow_profile" in job_state(first_job)[1],
            timeout=120,
            what="the worker to reach the slow scorer",
        )
    finally:
        w1.send_signal(signal.SIGKILL)
        w1.wait(10)
    assert job_state(first_job)[0] == "running", "killed mid-audit"
    clean_audit, clean_job = new_audit()
    w2 = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**env, "SFTAUDIT_TEST_SLOW_SECONDS": "0.5"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: job_state(clean_job)[0] == "succeeded", timeout=120, what="the clean run")
        wait_for(lambda: job_state(first_job)[0] in ("succeeded", "failed"), timeout=120, what="the re-claimed run")
    finally:
        w2.send_signal(signal.SIGTERM)
        w2.wait(30)
    status, _, attempts = job_state(first_job)
    assert status == "succeeded" and attempts == 2
    with session_scope(settings.db_url) as s:
        first = s.get(Audit, first_audit).report_json
        clean = s.get(Audit, clean_audit).report_json
    assert first and first == clean, "byte-identical reports"
