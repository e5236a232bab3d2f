"""The worker loop: claim a job, keep its lease alive, run it through an executor, record the outcome.

Start one with ``sftaudit worker`` (GPU machines join a deployment this way, against the shared
PostgreSQL); ``sftaudit serve`` starts ``worker.concurrency`` of these per lane and supervises them.

Faults it rides out:

* The database unreachable or locked: every database call of the loop is retried with exponential
  backoff (up to ``worker.db_retry_max_seconds``); a running job's progress reports are skipped while
  the database is away, and its outcome is recorded once it is back.
* Asked to stop (SIGTERM/SIGINT, or its parent ``serve`` gone): the running job is interrupted at its
  next progress step and handed back to the queue (a training job checkpoints first); after
  ``worker.stop_grace_seconds`` the worker hands it back itself and exits. A job is never left
  'running' by a worker that stopped cleanly.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc

from app.db import queue, workers
from app.db.session import configure, session_scope
from app.jobs.capabilities import preferred_kinds
from app.jobs.executor import Executor, InlineExecutor, Outcome, ProcessExecutor
from app.jobs.handlers import JobCancelled, JobContext, handlers
from app.jobs.progress import Eta, Throttle
from app.services.datasets import reap_stale_staging
from app.settings import Settings

log = logging.getLogger("sftaudit.worker")
T = TypeVar("T")

#: what "the database is unavailable" looks like (down, cut, timed out, locked)
DB_ERRORS = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, sa_exc.DBAPIError)


def make_context(
    *,
    settings: Settings,
    job_id: str,
    project_id: str,
    kind: str,
    attempt: int,
    payload: dict[str, Any],
    worker_id: str,
    stopping: Callable[[], bool] = lambda: False,
) -> JobContext:
    """A context whose progress/cancel calls go straight to the job row (works in a child process too).

    Progress reports are best effort: while the database is unreachable they are skipped, so a short
    outage does not fail a long job. ``stopping`` tells the handler the worker is shutting down (the job
    is then interrupted and handed back, not cancelled).
    """
    claim = queue.Claim(job_id, kind, attempt, worker_id)
    url = settings.db_url
    state = {"last": 0.0, "cancel": False}

    def cancelled() -> bool:
        if stopping():
            return True
        now = time.monotonic()
        if now - state["last"] >= 1.0:
            state["last"] = now
            try:
                with session_scope(url) as s:
                    ok, cancel = queue.heartbeat(s, claim, settings.worker.lease_seconds)
            except DB_ERRORS as e:
                log.warning(
                    "job %s: database unavailable for a progress check (%s); carrying on", job_id, type(e).__name__
                )
            else:
                state["cancel"] = cancel or not ok
        return state["cancel"]

    def write(fraction: float, step: str, eta_seconds: float | None) -> None:
        try:
            with session_scope(url) as s:
                queue.report_progress(s, claim, fraction, step, eta_seconds=eta_seconds)
        except DB_ERRORS as e:
            log.warning("job %s: progress not recorded, database unavailable (%s)", job_id, type(e).__name__)

    # the handler may report per item; the row hears at most one report per interval, with the ETA
    eta, throttled = Eta(), Throttle(write, settings.worker.progress_interval_seconds)

    def progress(fraction: float, step: str) -> None:
        throttled(fraction, step, eta.update(fraction))
        if cancelled():
            raise JobCancelled()

    return JobContext(
        job_id=job_id,
        project_id=project_id,
        kind=kind,
        attempt=attempt,
        payload=payload,
        settings=settings,
        progress=progress,
        cancelled=cancelled,
        worker_id=worker_id,
        interrupted=stopping,
        close=throttled.close,
    )


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
            except Exception as e:  # a DB hiccup: try again next beat; the lease covers several beats
                log.warning("lease renewal failed (%s); retrying", type(e).__name__)


class Worker:
    def __init__(
        self,
        settings: Settings,
        worker_id: str | None = None,
        executors: dict[str, Executor] | None = None,
        kinds: list[str] | None = None,
        lane: str | None = None,
        parent_pid: int | None = None,
    ):
        self.settings = settings
        configure(settings.db_url, settings.database)
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        all_handlers = handlers(settings)
        unknown = sorted(set(kinds or []) - set(all_handlers))
        if unknown:
            raise ValueError(
                f"no handler for job kind(s) {', '.join(unknown)}; known: {', '.join(sorted(all_handlers))}"
            )
        self.handlers = {k: v for k, v in all_handlers.items() if not kinds or k in kinds}
        self.kinds, self.lane, self.parent_pid = list(kinds or []), lane, parent_pid
        self.prefer_kinds = preferred_kinds(settings)  # e.g. model-signal audits first on a GPU machine
        self.executors = executors or {"inline": InlineExecutor(), "process": ProcessExecutor()}
        self._stop = threading.Event()
        self._hurry = threading.Event()
        self._current: queue.Claim | None = None
        self._beat: threading.Thread | None = None

    # -- stopping -----------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop after the running job is interrupted and handed back (at its next progress step)."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._current is not None:
            log.info("stopping: interrupting job %s to hand it back", self._current.id)
            threading.Thread(target=self._grace_expired, daemon=True, name="stop-grace").start()

    def hurry(self) -> None:
        """A second stop request: hand the running job back now."""
        self._hurry.set()
        self.stop()

    def stopping(self) -> bool:
        return self._stop.is_set()

    def _grace_expired(self) -> None:
        """The job did not reach a progress step in time: hand it back from here and leave."""
        deadline = time.monotonic() + self.settings.worker.stop_grace_seconds
        while time.monotonic() < deadline and not self._hurry.is_set():
            if self._current is None:
                return
            time.sleep(0.1)
        claim = self._current
        if claim is None:
            return
        try:
            with session_scope(self.settings.db_url) as s:
                status = queue.hand_back(s, claim, "its worker stopped")
                workers.stopped(s, self.worker_id)
            log.warning(
                "job %s did not stop within %.0f s; handed back (%s); exiting",
                claim.id,
                self.settings.worker.stop_grace_seconds,
                status,
            )
        except DB_ERRORS:
            log.exception("could not hand back job %s; its lease will expire and another worker takes it", claim.id)
        logging.shutdown()
        os._exit(0)

    def _parent_gone(self) -> bool:
        return self.parent_pid is not None and os.getppid() != self.parent_pid

    # -- database calls that must eventually happen ------------------------------------------------
    def _retry(self, what: str, fn: Callable[[], T], *, give_up_on_stop: bool = True) -> T | None:
        """Run ``fn`` until the database answers (exponential backoff); None if the worker stops meanwhile."""
        delay = min(1.0, self.settings.worker.db_retry_max_seconds)
        while True:
            try:
                return fn()
            except DB_ERRORS as e:
                log.warning(
                    "%s: database unavailable (%s: %s); retrying in %.1f s",
                    what,
                    type(e).__name__,
                    str(e).splitlines()[0][:200] if str(e) else "",
                    delay,
                )
            if give_up_on_stop and self._stop.wait(delay):
                return None
            if not give_up_on_stop:
                time.sleep(delay)
            delay = min(delay * 2, self.settings.worker.db_retry_max_seconds)

    # -- the loop ---------------------------------------------------------------------------------
    def _claim(self) -> tuple[queue.Claim, str, dict[str, Any]] | None:
        with session_scope(self.settings.db_url) as s:
            queue.reap_exhausted(s)
            if "dataset_purge" in self.handlers:
                reap_stale_staging(s, self.settings)
            claim = queue.claim(
                s, self.worker_id, self.settings.worker.lease_seconds, tuple(self.handlers), prefer=self.prefer_kinds
            )
            if claim is None:
                return None
            job = s.get(queue.Job, claim.id)
            assert job is not None
            return claim, job.project_id, dict(job.payload or {})

    def run_once(self) -> str | None:
        """Claim and run one job; returns its id, or None when the queue was empty.

        Raises the database error if the claim itself failed (``run_forever`` retries with backoff).
        """
        claimed = self._claim()
        if claimed is None:
            return None
        claim, project_id, payload = claimed
        self._current = claim
        try:
            log.info("claimed job %s (%s), attempt %d", claim.id, claim.kind, claim.attempt)
            spec = self.handlers[claim.kind]
            ctx = make_context(
                settings=self.settings,
                job_id=claim.id,
                project_id=project_id,
                kind=claim.kind,
                attempt=claim.attempt,
                payload=payload,
                worker_id=self.worker_id,
                stopping=self.stopping,
            )
            beat = Heartbeat(self.settings, claim)
            beat.start()
            try:
                executor = self.executors["process" if spec.isolated else "inline"]
                outcome = executor.run(spec, ctx, alive=lambda: not beat.lost)
            finally:
                ctx.close()  # the last progress report held back, before the outcome is recorded
                beat.stop_event.set()
                beat.join()
            self._retry(
                f"recording job {claim.id}",
                lambda: self._record(claim, outcome),
                give_up_on_stop=outcome.status == "interrupted",
            )
        finally:
            self._current = None
        return claim.id

    def _record(self, claim: queue.Claim, outcome: Outcome) -> None:
        with session_scope(self.settings.db_url) as s:
            if outcome.status == "interrupted":
                status = queue.hand_back(s, claim, outcome.error or "its worker stopped")
                log.info("job %s handed back to the queue (%s)", claim.id, status)
            elif outcome.status == "failed":
                status = queue.release_for_retry(s, claim, outcome.error or "unknown error")
                log.warning(
                    "job %s attempt %d failed -> %s: %s",
                    claim.id,
                    claim.attempt,
                    status,
                    (outcome.error or "").splitlines()[0][:200],
                )
            elif outcome.status == "failed_permanently":
                queue.finish(s, claim, "failed", error=outcome.error)
            elif not queue.finish(s, claim, outcome.status, error=outcome.error, result=outcome.result):
                log.warning("job %s: lease lost before its result was recorded", claim.id)

    def _liveness_loop(self) -> None:
        while not self._stop.wait(self.settings.worker.heartbeat_seconds):
            if self._parent_gone():
                log.warning("parent process %s is gone; stopping", self.parent_pid)
                self.stop()
                return
            current = self._current
            try:
                with session_scope(self.settings.db_url) as s:
                    workers.beat(s, self.worker_id, current.id if current else None)
            except DB_ERRORS as e:
                log.warning("worker heartbeat not recorded (%s)", type(e).__name__)

    def run_forever(self, max_jobs: int | None = None, idle_exit: float | None = None) -> int:
        """Claim and run jobs until stopped; database outages are waited out, never fatal."""
        kinds = sorted(self.handlers)
        if self._retry("registering the worker", lambda: self._register(kinds)) is None and self._stop.is_set():
            return 0
        self._beat = threading.Thread(target=self._liveness_loop, daemon=True, name="worker-liveness")
        self._beat.start()
        done, idle_since, delay = 0, time.monotonic(), 0.0
        try:
            while not self._stop.is_set():
                if self._parent_gone():
                    log.warning("parent process %s is gone; stopping", self.parent_pid)
                    break
                try:
                    job_id = self.run_once()
                except DB_ERRORS as e:
                    delay = min(max(delay * 2, 0.5), self.settings.worker.db_retry_max_seconds)
                    log.warning(
                        "database unavailable (%s: %s); retrying in %.1f s",
                        type(e).__name__,
                        str(e).splitlines()[0][:200] if str(e) else "",
                        delay,
                    )
                    self._stop.wait(delay)
                    continue
                delay = 0.0
                if job_id is None:
                    if idle_exit is not None and time.monotonic() - idle_since > idle_exit:
                        break
                    self._stop.wait(self.settings.worker.poll_seconds)
                    continue
                idle_since = time.monotonic()
                done += 1
                if max_jobs is not None and done >= max_jobs:
                    break
        finally:
            self._stop.set()
            try:
                with session_scope(self.settings.db_url) as s:
                    workers.stopped(s, self.worker_id)
            except DB_ERRORS:
                log.warning("could not mark worker %s stopped; its heartbeat simply ages out", self.worker_id)
        return done

    def _register(self, kinds: list[str]) -> bool:
        with session_scope(self.settings.db_url) as s:
            workers.register(s, self.worker_id, self.lane, list(self.kinds) or [])
        log.info("worker %s registered (lane %s, kinds %s)", self.worker_id, self.lane or "any", ", ".join(kinds))
        return True
