"""The worker loop: claim a job, keep its lease alive, run it through an executor, record the outcome.

Start one with ``sftaudit worker`` (GPU machines join a deployment this way, against the shared
PostgreSQL); ``sftaudit serve`` starts the API plus ``worker.concurrency`` of these as subprocesses.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from typing import Any

from app.db.session import session_scope
from app.jobs import queue
from app.jobs.capabilities import preferred_kinds
from app.jobs.executor import Executor, InlineExecutor, Outcome, ProcessExecutor
from app.jobs.handlers import JobCancelled, JobContext, handlers
from app.settings import Settings

log = logging.getLogger("sftaudit.worker")


def make_context(*, settings: Settings, job_id: str, project_id: str, kind: str, attempt: int,
                 payload: dict[str, Any], worker_id: str) -> JobContext:
    """A context whose progress/cancel calls go straight to the job row (works in a child process too)."""
    claim = queue.Claim(job_id, kind, attempt, worker_id)
    url = settings.db_url
    state = {"last": 0.0, "cancel": False}

    def cancelled() -> bool:
        now = time.monotonic()
        if now - state["last"] >= 1.0:
            state["last"] = now
            with session_scope(url) as s:
                ok, cancel = queue.heartbeat(s, claim, settings.worker.lease_seconds)
            state["cancel"] = cancel or not ok
        return state["cancel"]

    def progress(fraction: float, step: str) -> None:
        with session_scope(url) as s:
            queue.report_progress(s, claim, fraction, step)
        if cancelled():
            raise JobCancelled()

    return JobContext(job_id=job_id, project_id=project_id, kind=kind, attempt=attempt, payload=payload,
                      settings=settings, progress=progress, cancelled=cancelled, worker_id=worker_id)


class Heartbeat(threading.Thread):
    """Renews the lease of the job in hand until stopped; notes if the lease was lost or cancel asked."""

    def __init__(self, settings: Settings, claim: queue.Claim):
        super().__init__(daemon=True, name=f"heartbeat-{claim.id[:8]}")
        self.settings, self.claim = settings, claim
        self.stop_event = threading.Event()
        self.lost = False

    def run(self) -> None:
        while not self.stop_event.wait(self.settings.worker.heartbeat_seconds):
            try:
                with session_scope(self.settings.db_url) as s:
                    ok, _ = queue.heartbeat(s, self.claim, self.settings.worker.lease_seconds)
                if not ok:
                    self.lost = True
                    return
            except Exception:  # a DB hiccup: try again next beat; the lease covers several beats
                log.exception("heartbeat failed")


class Worker:
    def __init__(self, settings: Settings, worker_id: str | None = None, executors: dict[str, Executor] | None = None):
        self.settings = settings
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.handlers = handlers(settings)
        self.prefer_kinds = preferred_kinds(settings)  # e.g. model-signal audits first on a GPU machine
        self.executors = executors or {"inline": InlineExecutor(), "process": ProcessExecutor()}
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def run_once(self) -> str | None:
        """Claim and run one job; returns its id, or None when the queue was empty."""
        url = self.settings.db_url
        with session_scope(url) as s:
            queue.reap_exhausted(s)
            claim = queue.claim(s, self.worker_id, self.settings.worker.lease_seconds, tuple(self.handlers),
                                prefer=self.prefer_kinds)
            if claim is None:
                return None
            job = s.get(queue.Job, claim.id)
            assert job is not None
            project_id, payload = job.project_id, dict(job.payload or {})
        log.info("claimed job %s (%s), attempt %d", claim.id, claim.kind, claim.attempt)
        spec = self.handlers[claim.kind]
        ctx = make_context(settings=self.settings, job_id=claim.id, project_id=project_id, kind=claim.kind,
                           attempt=claim.attempt, payload=payload, worker_id=self.worker_id)
        beat = Heartbeat(self.settings, claim)
        beat.start()
        try:
            executor = self.executors["process" if spec.isolated else "inline"]
            outcome = executor.run(spec, ctx, alive=lambda: not beat.lost)
        finally:
            beat.stop_event.set()
            beat.join()
        self._record(claim, outcome)
        return claim.id

    def _record(self, claim: queue.Claim, outcome: Outcome) -> None:
        with session_scope(self.settings.db_url) as s:
            if outcome.status == "failed":
                status = queue.release_for_retry(s, claim, outcome.error or "unknown error")
                log.warning("job %s attempt %d failed -> %s: %s", claim.id, claim.attempt, status,
                            (outcome.error or "").splitlines()[0][:200])
            elif outcome.status == "failed_permanently":
                queue.finish(s, claim, "failed", error=outcome.error)
            elif not queue.finish(s, claim, outcome.status, error=outcome.error, result=outcome.result):
                log.warning("job %s: lease lost before its result was recorded", claim.id)

    def run_forever(self, max_jobs: int | None = None, idle_exit: float | None = None) -> int:
        done, idle_since = 0, time.monotonic()
        while not self._stop.is_set():
            job_id = self.run_once()
            if job_id is None:
                if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                    break
                self._stop.wait(self.settings.worker.poll_seconds)
                continue
            idle_since = time.monotonic()
            done += 1
            if max_jobs is not None and done >= max_jobs:
                break
        return done
