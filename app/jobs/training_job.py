"""The training job: the worker launches the training child (one process, or torchrun per GPU),
follows its progress file into the database, and turns a cancel into the child's stop file.

The worker process itself never imports torch for this; an out-of-memory or a crash kills the
child, not the worker. A re-run (after the worker died) resumes from the newest complete checkpoint
in the same output directory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from app.db.models import TrainingMetric
from app.db.session import session_scope
from app.errors import AppError
from app.jobs.handlers import JobCancelled, JobContext, PermanentJobError, job_handler
from app.services.training import artifacts_dir, load_training_samples, resolved_spec
from app.training.cli import (
    ERROR_FILE,
    EXIT_COMPLETED,
    EXIT_REFUSED,
    EXIT_STOPPED,
    PROGRESS_FILE,
    STOP_FILE,
    write_samples,
)
from app.training.launch import launch_command
from app.training_spec.spec import TrainingSpec

PHASE_SHARE = {"validating": 0.0, "loading": 0.02, "training": 0.05, "evaluating": 0.05, "exporting": 0.97}


class Follower:
    """Reads new progress events from the child's progress file and stores them."""

    def __init__(self, path: Path, ctx: JobContext, url: str):
        self.path, self.ctx, self.url, self.offset = path, ctx, url, 0
        with session_scope(url) as s:
            self.seq = int(
                s.scalar(select(func.max(TrainingMetric.seq)).where(TrainingMetric.job_id == ctx.job_id)) or 0
            )
        self.last: dict[str, Any] = {}
        self.last_progress = 0.0

    def poll(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as f:
            f.seek(self.offset)
            chunk = f.read()
        end = chunk.rfind(b"\n") + 1
        self.offset += end
        events = [json.loads(line) for line in chunk[:end].splitlines() if line.strip()]
        if not events:
            return
        rows = []
        for ev in events:
            self.seq += 1
            rows.append(
                {
                    "job_id": self.ctx.job_id,
                    "seq": self.seq,
                    "stage": ev.get("stage"),
                    "phase": ev.get("phase", ""),
                    "step": ev.get("step"),
                    "data": ev,
                }
            )
            self.last = ev
        with session_scope(self.url) as s:
            s.execute(insert(TrainingMetric), rows)
        ev = self.last
        now = time.monotonic()
        if now - self.last_progress >= 0.5:
            self.last_progress = now
            frac = (
                ev.get("step", 0) / ev["total_steps"]
                if ev.get("total_steps")
                else PHASE_SHARE.get(ev.get("phase", ""), 0)
            )
            step = ev.get("phase", "")
            if ev.get("total_steps"):
                step += f" {ev.get('stage', '')} step {ev.get('step')}/{ev['total_steps']}"
            if "loss" in ev:
                step += f" loss {ev['loss']:.4f}"
            self.ctx.progress(min(frac, 0.99), step.strip())


@job_handler("training")
def run_training_job(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.settings
    spec = TrainingSpec.model_validate(ctx.payload["spec"])
    with session_scope(settings.db_url) as s:  # base_model is a name, a path under a model root, or job:<id>
        try:
            spec = resolved_spec(s, settings, ctx.project_id, spec)
        except AppError as e:
            raise PermanentJobError(f"base model unavailable on this worker: {e.message}") from None
    out = artifacts_dir(settings, ctx.job_id)
    out.mkdir(parents=True, exist_ok=True)
    (out / STOP_FILE).unlink(missing_ok=True)
    samples_path = out / "samples.jsonl"
    if not samples_path.exists():
        with session_scope(settings.db_url) as s:
            samples = load_training_samples(s, spec, ctx.payload["datasets"])
        tmp = out / "samples.jsonl.tmp"
        write_samples(tmp, samples)
        tmp.rename(samples_path)
    spec_path = out / "spec.json"
    spec_path.write_text(spec.model_dump_json(indent=2))
    from app.training.export import SOURCES  # here, not at import: export pulls in torch, the worker need not

    (out / SOURCES).write_text(json.dumps(ctx.payload.get("sources") or {}, indent=2))  # read into provenance.json
    cmd = launch_command(spec_path, samples_path, out, num_gpus=settings.worker.gpus)
    follower = Follower(out / PROGRESS_FILE, ctx, settings.db_url)
    with (out / "train.log").open("ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        cancelled = False
        try:
            while proc.poll() is None:
                time.sleep(0.5)
                try:
                    follower.poll()
                except JobCancelled:
                    cancelled = True
                if (cancelled or ctx.cancelled()) and not (out / STOP_FILE).exists():
                    cancelled = True
                    (out / STOP_FILE).touch()  # cooperative: the child saves a checkpoint and exits
        except BaseException:
            proc.kill()
            raise
    try:
        follower.poll()
    except JobCancelled:
        cancelled = True
    code = proc.returncode
    if code == EXIT_COMPLETED:
        from app.training.export import RESULT  # here, not at import: export pulls in torch, the worker need not

        result = json.loads((out / "final" / RESULT).read_text())
        if ctx.payload.get("eval_dataset_id"):
            result["held_out"] = _held_out(ctx, out, spec_path)
        return result
    if code == EXIT_STOPPED and cancelled:
        raise JobCancelled()
    if code == EXIT_REFUSED:
        err = json.loads((out / ERROR_FILE).read_text()) if (out / ERROR_FILE).exists() else {}
        raise PermanentJobError(f"training data refused: {err.get('error', 'see train.log')}")
    tail = (out / "train.log").read_text(errors="replace")[-1500:]
    raise RuntimeError(f"training process exited with code {code}: {tail}")


def _held_out(ctx: JobContext, out: Path, spec_path: Path) -> dict[str, Any]:
    """Loss of the exported model on the experiment's held-out rows (a child process, like training)."""
    from app.services.datasets import load_samples

    result_path = out / "held_out.json"
    if not result_path.exists():
        ctx.progress(0.99, "evaluating on the held-out set")
        path = out / "held_out.jsonl"
        with session_scope(ctx.settings.db_url) as s:
            write_samples(path, load_samples(s, ctx.payload["eval_dataset_id"]))
        cmd = [
            sys.executable,
            "-m",
            "app.training.evaluate",
            "--final",
            str(out / "final"),
            "--spec",
            str(spec_path),
            "--samples",
            str(path),
            "--out",
            str(result_path),
        ]
        with (out / "train.log").open("ab") as log:
            code = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
        if code != 0:
            raise RuntimeError(f"held-out evaluation exited with code {code}; see train.log")
    return {**json.loads(result_path.read_text()), "dataset_id": ctx.payload["eval_dataset_id"]}
