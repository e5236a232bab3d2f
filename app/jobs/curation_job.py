"""The curation job: selection may need embeddings (DEITA's diversity rule), so it runs in a worker."""

from __future__ import annotations

from typing import Any

from app.db.session import session_scope
from app.jobs.handlers import JobContext, job_handler
from app.services.curation import run_curation
from app.services.datasets import load_samples
from scorers.context import ScoringContext


@job_handler("curation")
def run_curation_job(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.settings

    tier = ctx.payload["policy"].get("embedding_tier", "fast")

    def embed(dataset_id: str):
        with session_scope(settings.db_url) as s:
            samples = load_samples(s, dataset_id)
        sctx = ScoringContext(
            samples=samples, models=settings.model_config_for_scorers(), cache_dir=str(settings.storage.cache)
        )
        ctx.progress(0.2, f"embedding {len(samples)} instructions")
        return sctx.embeddings("instruction", tier=tier)

    with session_scope(settings.db_url) as s:
        return run_curation(s, {**ctx.payload, "curation_id": ctx.job_id}, embed, ctx.progress)
