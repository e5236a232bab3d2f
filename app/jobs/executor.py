"""Where a claimed job's handler runs. The worker talks only to this interface, so a distributed
backend (Ray: ``ray.remote(run_handler).remote(...)``) slots in without touching job logic.

* ``InlineExecutor`` runs the handler in the worker process (audits).
* ``ProcessExecutor`` runs it in a fresh child process (training: an out-of-memory or a crash kills
  the child; the worker survives and records the failure).

Inside an audit, :func:`audit_backend` picks where its parallel stages run (``SFTAUDIT_EXECUTOR``): in the worker
process (per-sample scorers in a pool of ``SFTAUDIT_AUDIT_PROCESSES``), or on a Ray cluster
(``SFTAUDIT_RAY__ADDRESS``); the job, its lease, progress and cancel stay here.
"""

from __future__ import annotations

import multiprocessing as mp
import traceback
from collections.abc import Callable
from typing import Any, Protocol

from app.jobs.handlers import HandlerSpec, JobCancelled, JobContext, PermanentJobError
from app.settings import Settings
from scorers.backends import AuditBackend, LocalBackend


class Outcome:
    def __init__(self, status: str, result: dict[str, Any] | None = None, error: str | None = None):
        # status: succeeded | failed (retried) | failed_permanently | cancelled | interrupted (handed back)
        self.status, self.result, self.error = status, result, error


class Executor(Protocol):
    def run(self, spec: HandlerSpec, ctx: JobContext, alive: Callable[[], bool]) -> Outcome: ...


def _call(spec: HandlerSpec, ctx: JobContext) -> Outcome:
    try:
        return Outcome("succeeded", spec.fn(ctx) or {})
    except JobCancelled:
        if ctx.interrupted():
            return Outcome("interrupted", error="its worker stopped")
        return Outcome("cancelled", error="cancelled by the user")
    except PermanentJobError as e:
        return Outcome("failed_permanently", error=str(e))
    except Exception as e:  # the job fails with the reason; the worker goes on
        tb = traceback.format_exc(limit=8)
        return Outcome("failed", error=f"{type(e).__name__}: {e}\n{tb}")


class InlineExecutor:
    def run(self, spec: HandlerSpec, ctx: JobContext, alive: Callable[[], bool]) -> Outcome:
        return _call(spec, ctx)


def _child(kind: str, ctx_args: dict[str, Any], conn: Any) -> None:
    from app.jobs.handlers import handlers
    from app.jobs.worker import make_context
    from app.settings import Settings

    settings = Settings.model_validate(ctx_args.pop("settings"))
    spec = handlers(settings)[kind]
    ctx = make_context(settings=settings, **ctx_args)
    out = _call(spec, ctx)
    ctx.close()
    conn.send((out.status, out.result, out.error))
    conn.close()


class ProcessExecutor:
    """Runs the handler in a spawned child; the parent keeps renewing the lease meanwhile."""

    def run(self, spec: HandlerSpec, ctx: JobContext, alive: Callable[[], bool]) -> Outcome:
        mpctx = mp.get_context("spawn")
        parent, child = mpctx.Pipe(duplex=False)
        args = {
            "job_id": ctx.job_id,
            "project_id": ctx.project_id,
            "kind": ctx.kind,
            "attempt": ctx.attempt,
            "payload": ctx.payload,
            "worker_id": ctx.worker_id,
            "settings": ctx.settings.model_dump(mode="json"),
        }
        proc = mpctx.Process(target=_child, args=(ctx.kind, args, child), daemon=True)
        proc.start()
        child.close()
        while proc.is_alive() and not parent.poll(0.5):
            if not alive():
                proc.terminate()
                proc.join(10)
                return Outcome("failed", error="lease lost while the job ran")
            if ctx.interrupted():
                proc.terminate()
                proc.join(10)
                return Outcome("interrupted", error="its worker stopped")
        if parent.poll(0):
            try:
                status, result, error = parent.recv()
            except EOFError:  # the child died before sending a result
                pass
            else:
                proc.join(30)
                return Outcome(status, result, error)
        proc.join(5)
        code = proc.exitcode
        reason = "killed (out of memory?)" if code is not None and code < 0 else f"exited with code {code}"
        return Outcome("failed", error=f"the job's child process {reason} without a result")


def audit_backend(settings: Settings) -> AuditBackend:
    """The audit backend the settings choose; Ray is imported only here, in a worker, and only when chosen."""
    if settings.executor == "ray":
        from scorers._ray_backend import RayBackend

        r = settings.ray
        return RayBackend(
            r.address,
            num_cpus=r.num_cpus,
            actors=r.actors,
            gpus_per_actor=r.gpus_per_actor,
            chunk_rows=r.chunk_rows,
            ship_code=r.ship_code,
        )
    return LocalBackend(settings.audit_processes)
