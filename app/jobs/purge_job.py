"""The dataset purge job: a deleted dataset's rows go in batches, outside any request (short lane)."""

from __future__ import annotations

from typing import Any

from app.jobs.handlers import JobContext, job_handler
from app.services.datasets import purge_dataset


@job_handler("dataset_purge")
def run_purge_job(ctx: JobContext) -> dict[str, Any]:
    dataset_id = ctx.payload["dataset_id"]
    ctx.progress(0.0, "removing samples")
    batch = ctx.settings.upload.insert_batch
    return purge_dataset(
        ctx.settings.db_url, dataset_id, batch, progress=lambda n: ctx.progress(0.5, f"removed {n} samples")
    )
