"""Issue #14, items 1 and 2 and the queue lanes: workers ride out database outages, stop gracefully
(handing their job back), report their liveness; short jobs get their own lane; a queued job knows
its place in the queue."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import select

from app.db import queue
from app.db.models import Job, Project
from app.db.session import session_scope
from app.jobs.worker import Worker

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project_id(settings, api_key) -> str:
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


def wait_for(pred, timeout=60.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def with_handlers(settings):
    settings.worker.handler_modules = ["tests.job_handlers"]
    return settings


def start_worker(settings, url: str | None = None, *args: str, **env: str) -> subprocess.Popen:
    full = {
        **os.environ,
        "SFTAUDIT_DATABASE_URL": url or settings.db_url,
        "SFTAUDIT_STORAGE__DATA_DIR": str(settings.storage.data_dir),
        "SFTAUDIT_WORKER__HANDLER_MODULES": '["tests.job_handlers"]',
        "SFTAUDIT_WORKER__LEASE_SECONDS": "10",
        "SFTAUDIT_WORKER__HEARTBEAT_SECONDS": "0.3",
        "SFTAUDIT_WORKER__POLL_SECONDS": "0.1",
        "SFTAUDIT_WORKER__DB_RETRY_MAX_SECONDS": "1",
        "SFTAUDIT_DATABASE__CONNECT_TIMEOUT_SECONDS": "2",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", *args],
        env=full,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


# --- 1. database errors are retried ---------------------------------------------------------------------
def test_run_forever_retries_database_errors_with_backoff(settings, project_id, monkeypatch) -> None:
    jid = enqueue(settings, project_id, "test_quick")
    real, calls = queue.claim, {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= 3:
            raise sa_exc.OperationalError("SELECT …", {}, Exception("server closed the connection unexpectedly"))
        return real(*args, **kwargs)

    monkeypatch.setattr(queue, "claim", flaky)
    settings.worker.db_retry_max_seconds = 0.2
    t0 = time.monotonic()
    assert Worker(with_handlers(settings)).run_forever(max_jobs=1) == 1
    assert calls["n"] == 4 and time.monotonic() - t0 >= 0.5, "three failures, waited with backoff"
    assert job(settings, jid).status == "succeeded"


class Proxy:
    """A TCP proxy in front of PostgreSQL whose connection can be cut (and new ones refused)."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.socks: list[socket.socket] = []
        self.lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        with self.lock:
            self.server: socket.socket | None = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            with self.lock:
                if server is not self.server:  # accepted by a listener that was cut meanwhile: refused
                    client.close()
                    return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                if server is not self.server:
                    client.close()
                    upstream.close()
                    return
                self.socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        # a listener closed under a thread blocked in accept() keeps accepting on Linux: shut it down first (that
        # wakes the accept), and forget it, so a connection it still hands over is refused (the outage is certain)
        with self.lock:
            server, self.server = self.server, None
            socks, self.socks = self.socks, []
        if server is not None:
            try:
                server.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            server.close()
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


@contextmanager
def outage_setup(settings):
    """(worker URL, outage(seconds)): PostgreSQL through a proxy that is cut; SQLite locked by another writer."""
    if settings.db_url.startswith("sqlite"):
        path = settings.db_url.removeprefix("sqlite:///")

        def outage(seconds: float) -> None:
            holder = sqlite3.connect(path, isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")
            time.sleep(seconds)
            holder.execute("ROLLBACK")
            holder.close()

        yield settings.db_url, outage
        return
    from sqlalchemy.engine import make_url

    url = make_url(settings.db_url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)

    def outage(seconds: float) -> None:
        proxy.cut()
        time.sleep(seconds)
        proxy.restore()

    try:
        yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), outage
    finally:
        proxy.cut()


def test_worker_survives_a_database_outage_idle_and_mid_job(settings, project_id) -> None:
    """Kill test: the database connection cut under a worker (PostgreSQL: a proxy is cut for 4 s; SQLite:
    another process holds the write lock) — the worker stays up and the job finishes."""
    with outage_setup(settings) as (url, outage):
        w = start_worker(settings, url, SFTAUDIT_DATABASE__SQLITE_BUSY_TIMEOUT_SECONDS="0.2")
        try:
            wait_for(lambda: _worker_rows(settings) >= 1, what="the worker to register")
            outage(4)  # while it polls for work
            assert w.poll() is None, "the worker survived an outage while idle:\n" + _stderr(w)
            jid = enqueue(settings, project_id, "test_steps", {"n": 30, "seconds": 0.2})
            wait_for(lambda: job(settings, jid).progress > 0.1, what="the job to start")
            outage(4)  # while it runs a job
            wait_for(lambda: job(settings, jid).status in ("succeeded", "failed"), timeout=90, what="the job to end")
            j = job(settings, jid)
            assert j.status == "succeeded" and j.attempts == 1, (j.status, j.error)
            assert w.poll() is None, "the worker is still running"
        finally:
            w.send_signal(signal.SIGTERM)
            code = w.wait(30)
        assert code == 0
        assert "database unavailable" in _stderr(w)


def _worker_rows(settings) -> int:
    from app.db.models import WorkerRow

    with session_scope(settings.db_url) as s:
        return len(s.scalars(select(WorkerRow).where(WorkerRow.stopped_at.is_(None))).all())


def _stderr(p: subprocess.Popen) -> str:
    if p.poll() is None:
        return "(running)"
    return (p.stderr.read() if p.stderr else "")[-3000:]


# --- 2. stopping hands the job back ---------------------------------------------------------------------------
@pytest.mark.parametrize("kind,grace", [("test_steps", "20"), ("test_sleep", "1")])
def test_sigterm_hands_the_running_job_back(settings, project_id, kind, grace) -> None:
    jid = enqueue(settings, project_id, kind, {"n": 400, "seconds": 0.1, "sleep": 60})
    w = start_worker(settings, None, SFTAUDIT_WORKER__STOP_GRACE_SECONDS=grace)
    try:
        wait_for(lambda: job(settings, jid).status == "running", what="the worker to claim")
        time.sleep(0.5)
    finally:
        t0 = time.monotonic()
        w.send_signal(signal.SIGTERM)
        code = w.wait(30)
    assert code == 0 and time.monotonic() - t0 < float(grace) + 10
    j = job(settings, jid)
    assert j.status == "queued" and j.attempts == 0 and j.worker_id is None, (j.status, j.attempts, j.step)
    assert "handed back" in j.step
    assert _worker_rows(settings) == 0, "a stopped worker says so"
    if kind == "test_steps":
        with session_scope(settings.db_url) as s:
            s.get(Job, jid).payload = {"n": 2, "seconds": 0.01}
        assert Worker(with_handlers(settings)).run_once() == jid
        assert job(settings, jid).status == "succeeded" and job(settings, jid).attempts == 1


# --- lanes and queue positions ---------------------------------------------------------------------------------
def test_a_short_job_does_not_wait_behind_a_long_one(client, settings, project_id) -> None:
    settings.worker.lanes = {"default": [], "short": ["test_quick"]}
    long_ids = [enqueue(settings, project_id, "test_steps") for _ in range(2)]
    quick = enqueue(settings, project_id, "test_quick")
    positions = [client.get(f"/v1/jobs/{i}").json()["queue_position"] for i in (*long_ids, quick)]
    assert positions == [1, 2, 1], positions
    short_worker = Worker(with_handlers(settings), kinds=settings.worker.lanes["short"], lane="short")
    assert short_worker.run_once() == quick, "the short lane takes the short job first"
    assert short_worker.run_once() is None, "and never a long one"
    assert client.get(f"/v1/jobs/{quick}").json()["queue_position"] is None
    assert client.get(f"/v1/jobs/{long_ids[1]}").json()["queue_position"] == 2


def test_worker_refuses_unknown_kinds(settings) -> None:
    with pytest.raises(ValueError, match="no handler"):
        Worker(with_handlers(settings), kinds=["nope"])
