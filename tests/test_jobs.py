"""The job queue and worker: claims, leases, retries, cancel, a worker killed mid-job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.db import queue
from app.db.models import Job
from app.db.session import session_scope
from app.jobs.worker import Worker

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project_id(settings, api_key) -> str:
    from sqlalchemy import select

    from app.db.models import Project

    with session_scope(settings.db_url) as s:
        return s.scalar(select(Project.id))


def enqueue(settings, project_id, kind, payload=None, max_attempts=3) -> str:
    with session_scope(settings.db_url) as s:
        return queue.enqueue(s, project_id, kind, payload or {}, max_attempts).id


def job(settings, job_id) -> Job:
    with session_scope(settings.db_url) as s:
        j = s.get(Job, job_id)
        s.expunge(j)
        return j


def with_handlers(settings):
    settings.worker.handler_modules = ["tests.job_handlers"]
    return settings


def test_claim_is_exclusive_under_concurrency(settings, project_id) -> None:
    ids = {enqueue(settings, project_id, "test_steps") for _ in range(20)}
    claimed: list[str] = []
    lock = threading.Lock()

    def grab(wid: str) -> None:
        while True:
            with session_scope(settings.db_url) as s:
                c = queue.claim(s, wid, 60)
            if c is None:
                return
            with lock:
                claimed.append(c.id)

    threads = [threading.Thread(target=grab, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids), "every job claimed exactly once"


def test_failed_attempts_are_retried_then_failed_with_reason(settings, project_id) -> None:
    jid = enqueue(settings, project_id, "test_fail", max_attempts=2)
    w = Worker(with_handlers(settings))
    assert w.run_once() == jid
    j = job(settings, jid)
    assert j.status == "queued" and j.attempts == 1 and "boom on attempt 1" in j.error
    assert w.run_once() == jid
    j = job(settings, jid)
    assert j.status == "failed" and "failed after 2 attempt(s)" in j.error and "boom on attempt 2" in j.error
    assert w.run_once() is None


def test_cancel_queued_and_running(settings, project_id) -> None:
    jid = enqueue(settings, project_id, "test_steps")
    with session_scope(settings.db_url) as s:
        queue.request_cancel(s, s.get(Job, jid))
    assert job(settings, jid).status == "cancelled"
    w = Worker(with_handlers(settings))
    assert w.run_once() is None

    jid = enqueue(settings, project_id, "test_steps", {"n": 40, "seconds": 0.1})
    t = threading.Thread(target=w.run_once)
    t.start()
    deadline = time.time() + 20
    while job(settings, jid).status != "running" and time.time() < deadline:
        time.sleep(0.05)
    with session_scope(settings.db_url) as s:
        queue.request_cancel(s, s.get(Job, jid))
    t.join(30)
    j = job(settings, jid)
    assert j.status == "cancelled" and j.progress < 1.0


def test_isolated_job_runs_in_child_and_a_crashed_child_fails_the_job_not_the_worker(settings, project_id) -> None:
    w = Worker(with_handlers(settings))
    ok = enqueue(settings, project_id, "test_isolated_ok")
    assert w.run_once() == ok
    j = job(settings, ok)
    assert j.status == "succeeded" and j.result["child_pid"] != os.getpid()
    bad = enqueue(settings, project_id, "test_crash_child", max_attempts=1)
    assert w.run_once() == bad
    j = job(settings, bad)
    assert j.status == "failed" and "child process" in j.error and "without a result" in j.error


def _start_worker(settings, *extra: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "SFTAUDIT_DATABASE_URL": settings.db_url,
        "SFTAUDIT_STORAGE__DATA_DIR": str(settings.storage.data_dir),
        "SFTAUDIT_WORKER__HANDLER_MODULES": '["tests.job_handlers"]',
        "SFTAUDIT_WORKER__LEASE_SECONDS": "2",
        "SFTAUDIT_WORKER__HEARTBEAT_SECONDS": "0.3",
        "SFTAUDIT_WORKER__POLL_SECONDS": "0.1",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", *extra],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait(pred, timeout=60.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_worker_killed_mid_job_is_taken_over_after_the_lease(settings, project_id) -> None:
    jid = enqueue(settings, project_id, "test_steps", {"n": 12, "seconds": 0.25})
    w1 = _start_worker(settings)
    try:
        _wait(lambda: job(settings, jid).progress > 0.1, what="first worker to make progress")
    finally:
        w1.send_signal(signal.SIGKILL)
        w1.wait(10)
    j = job(settings, jid)
    assert j.status == "running" and j.attempts == 1, "a killed worker leaves its job running until the lease expires"
    w2 = _start_worker(settings)
    try:
        _wait(lambda: job(settings, jid).status == "succeeded", timeout=90, what="second worker to finish the job")
    finally:
        w2.send_signal(signal.SIGTERM)
        assert w2.wait(30) == 0, "a worker stops cleanly on SIGTERM"
    j = job(settings, jid)
    assert j.attempts == 2 and j.result["finished_by_attempt"] == 2 and j.error is None


def test_worker_killed_on_last_attempt_fails_the_job_with_reason(settings, project_id) -> None:
    jid = enqueue(settings, project_id, "test_steps", {"n": 40, "seconds": 0.25}, max_attempts=1)
    w1 = _start_worker(settings)
    try:
        _wait(lambda: job(settings, jid).status == "running", what="worker to claim")
    finally:
        w1.send_signal(signal.SIGKILL)
        w1.wait(10)
    time.sleep(2.5)  # the lease (2 s) runs out
    assert Worker(with_handlers(settings)).run_once() is None
    j = job(settings, jid)
    assert j.status == "failed" and "lease expired" in j.error


def test_permanent_errors_are_not_retried(settings, project_id) -> None:
    jid = enqueue(settings, project_id, "test_permanent", max_attempts=3)
    assert Worker(with_handlers(settings)).run_once() == jid
    j = job(settings, jid)
    assert j.status == "failed" and j.attempts == 1 and j.error == "row 3 has no answer"
