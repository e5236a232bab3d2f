"""Job handlers used by the worker fault tests (loaded through settings.worker.handler_modules)."""

from __future__ import annotations

import os
import time

from app.jobs.handlers import JobContext, job_handler


@job_handler("test_steps")
def steps(ctx: JobContext) -> dict:
    """Walks through ``n`` steps of ``seconds`` each, reporting progress; records which attempt finished."""
    n, seconds = int(ctx.payload.get("n", 5)), float(ctx.payload.get("seconds", 0.2))
    for i in range(n):
        ctx.progress(i / n, f"step {i + 1}/{n}")
        time.sleep(seconds)
    return {"finished_by_attempt": ctx.attempt, "pid": os.getpid()}


@job_handler("test_fail")
def fail(ctx: JobContext) -> dict:
    raise RuntimeError(f"boom on attempt {ctx.attempt}")


@job_handler("test_crash_child", isolated=True)
def crash_child(ctx: JobContext) -> dict:
    os._exit(137)  # what an out-of-memory kill looks like from the parent


@job_handler("test_isolated_ok", isolated=True)
def isolated_ok(ctx: JobContext) -> dict:
    ctx.progress(0.5, "half way")
    return {"child_pid": os.getpid()}


@job_handler("test_permanent")
def permanent(ctx: JobContext) -> dict:
    from app.jobs.handlers import PermanentJobError

    raise PermanentJobError("row 3 has no answer")


@job_handler("test_sleep")
def sleep_quietly(ctx: JobContext) -> dict:
    """Works for ``sleep`` seconds without ever reporting progress (a stop must still hand it back)."""
    time.sleep(float(ctx.payload.get("sleep", 60)))
    return {"slept": True}


@job_handler("test_quick")
def quick(ctx: JobContext) -> dict:
    """A short job (the kind a short lane takes)."""
    return {"quick": True, "attempt": ctx.attempt}


def _register_slow_scorer() -> None:
    """A scorer that takes a few seconds (registered only in worker processes that load this module), so
    a test can kill a worker while it is certainly in the middle of an audit."""
    from scorers.base import Scorer, ScorerResult, register

    @register
    class TestSlowProfile(Scorer):
        name = "test_slow_profile"
        version = "1"
        dimension = "profile"

        def score(self, samples, ctx):  # noqa: ANN001
            time.sleep(float(os.environ.get("SFTAUDIT_TEST_SLOW_SECONDS", "3")))
            return ScorerResult(
                scores=None, flags=[[] for _ in samples], fields=[{} for _ in samples], summary={"rows": len(samples)}
            )


_register_slow_scorer()
