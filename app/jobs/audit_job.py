"""The audit job: load the dataset's samples and labels, run the scorers, store the report and per-sample results,
and keep the labels the LLM judge produced."""

from __future__ import annotations

from typing import Any

from app.db.models import Audit, Dataset
from app.db.session import session_scope
from app.jobs.executor import audit_backend
from app.jobs.handlers import JobContext, job_handler
from app.services.audits import store_results
from app.services.datasets import load_samples
from app.services.labels import dataset_labels, judge_labels_of, store_judge_labels
from scorers.pipeline import run_audit


@job_handler("audit")
@job_handler("model_audit")  # an audit that runs local models (GPU workers claim these first)
def run_audit_job(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.settings
    audit_id = ctx.payload["audit_id"]
    ctx.progress(0.0, "loading samples")
    with session_scope(settings.db_url) as s:
        audit = s.get(Audit, audit_id)
        if audit is None:
            raise LookupError(f"audit {audit_id} no longer exists")
        dataset = s.get(Dataset, audit.dataset_id)
        assert dataset is not None
        scorers, params, seed, ref_id = list(audit.scorers), dict(audit.params), audit.seed, audit.reference_dataset_id
        dataset_id = dataset.id
        samples = load_samples(s, dataset.id)
        reference = load_samples(s, ref_id) if ref_id else None
        labels = dataset_labels(s, dataset.id)
        info = {"format": dataset.format, "name": dataset.name, "sha256": dataset.sha256}

    def progress(fraction: float, step: str) -> None:
        ctx.progress(0.05 + 0.9 * fraction, step)

    out = run_audit(
        samples,
        scorers,
        params,
        models=settings.model_config_for_scorers(),
        seed=seed,
        cache_dir=str(settings.storage.cache),
        reference=reference,
        dataset_info=info,
        progress=progress,
        labels=labels or None,
        backend=audit_backend(settings),
    )
    ctx.check_cancel()
    ctx.progress(0.96, "storing results")
    with session_scope(settings.db_url) as s:
        store_results(s, audit_id, out)
        bought = judge_labels_of(out.report)
        if bought:  # kept so that the next audit of this dataset does not buy them again
            store_judge_labels(s, dataset_id, bought)
    return {
        "audit_id": audit_id,
        "rows": len(samples),
        "flags": sum(out.report["flags"].values()),
        "labels_given": len(labels),
        "judge_labels_stored": len(bought),
    }
