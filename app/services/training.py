"""Training jobs: validate the spec and the data's label masks before queueing, read progress and artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import queue
from app.db.models import Job, TrainingMetric, is_id
from app.errors import AppError, RowError, not_found
from app.services.base_models import resolve_base_model
from app.services.datasets import get_dataset, load_samples
from app.settings import Settings
from app.training_spec.spec import TrainingSpec


def _stage_datasets(
    spec: TrainingSpec, dataset_id: str | None, stage_datasets: dict[str, str] | None
) -> dict[str, str]:
    """Which dataset feeds each stage (one dataset for a single-stage job)."""
    if spec.stages:
        names = [s.name for s in spec.stages]
        mapping = dict(stage_datasets or {})
        if dataset_id and not mapping:
            mapping = {n: dataset_id for n in names}
        missing = [n for n in names if n not in mapping]
        if missing:
            raise AppError(
                422,
                "missing_stage_data",
                f"no dataset for stage(s) {missing}; give stage_datasets",
                [RowError("missing", field=f"stage_datasets.{n}") for n in missing],
            )
        return {n: mapping[n] for n in names}
    if not dataset_id:
        raise AppError(422, "missing_dataset", "dataset_id is required", [RowError("missing", field="dataset_id")])
    return {"main": dataset_id}


def load_training_samples(session: Session, spec: TrainingSpec, mapping: dict[str, str]):
    if spec.stages:
        return {name: load_samples(session, ds) for name, ds in mapping.items()}
    samples = load_samples(session, mapping["main"])
    if spec.task == "reward":
        samples = [_preference_pair(s) for s in samples]
    return samples


def _preference_pair(sample):
    """A reward-model row: the conversation ending in the chosen reply, the rejected reply in meta.

    Rows uploaded in the ``preference`` format (HH-RLHF ``chosen``/``rejected``) carry both sides in
    their original record; any other row must already have ``meta["rejected"]``.
    """
    from app.ingest.formats import rejected_reply
    from app.training_spec.pairs import pair_from_hh_rlhf

    original = sample.meta.get("original") or {}
    if isinstance(original.get("chosen"), str) and isinstance(original.get("rejected"), str):
        return pair_from_hh_rlhf(sample.index, original["chosen"], original["rejected"])
    if "rejected" in sample.meta:
        return sample
    rejected = rejected_reply(original)  # LLaMA-Factory's chosen/rejected message objects, or message lists
    if rejected is not None and sample.turns and sample.turns[-1].role == "assistant":
        return type(sample)(
            index=sample.index, turns=sample.turns, system=sample.system, meta={**sample.meta, "rejected": rejected}
        )
    raise AppError(
        422,
        "not_preference_data",
        f"row {sample.index} has no rejected reply; reward training needs chosen/rejected pairs "
        "(upload them in the preference format)",
        [RowError("no rejected reply", index=sample.index)],
    )


def resolved_spec(session: Session, settings: Settings, project_id: str, spec: TrainingSpec) -> TrainingSpec:
    """The spec with ``base_model`` turned into the model directory it names (see services/base_models)."""
    path = resolve_base_model(session, settings, project_id, spec.base_model)
    return spec.model_copy(update={"base_model": str(path)})


def _check_datasets(session: Session, project_id: str, mapping: dict[str, str]) -> None:
    for ds in sorted(set(mapping.values())):
        get_dataset(session, project_id, ds)


def validate_masks(session: Session, spec: TrainingSpec, mapping: dict[str, str]) -> dict[str, Any]:
    """Tokenise every row with the model's tokenizer (torch-free) and refuse unusable data, naming the row."""
    from app.training_spec.checks import validate_data
    from app.training_spec.formatting import DataValidationError

    samples = load_training_samples(session, spec, mapping)
    try:
        return validate_data(spec, samples)
    except DataValidationError as e:
        raise AppError(
            422, "unusable_training_data", str(e), [RowError(str(e), index=getattr(e, "row", None))]
        ) from None


def preview(
    session: Session,
    settings: Settings,
    project_id: str,
    spec: TrainingSpec,
    dataset_id: str | None,
    stage_datasets: dict[str, str] | None,
    n: int,
) -> list[dict[str, Any]]:
    from app.training_spec.checks import preview_masking
    from app.training_spec.formatting import DataValidationError

    mapping = _stage_datasets(spec, dataset_id, stage_datasets)
    _check_datasets(session, project_id, mapping)  # ownership first: nothing else is looked at for others' ids
    spec = resolved_spec(session, settings, project_id, spec)
    samples = load_training_samples(session, spec, mapping)
    try:
        return preview_masking(spec, samples, n=n)
    except DataValidationError as e:
        raise AppError(422, "unusable_training_data", str(e)) from None


def create_training_job(
    session: Session,
    settings: Settings,
    project_id: str,
    spec: TrainingSpec,
    dataset_id: str | None,
    stage_datasets: dict[str, str] | None,
    extra: dict[str, Any] | None = None,
) -> tuple[Job, dict[str, Any]]:
    mapping = _stage_datasets(spec, dataset_id, stage_datasets)
    _check_datasets(session, project_id, mapping)  # ownership first: nothing else is looked at for others' ids
    data_report = validate_masks(session, resolved_spec(session, settings, project_id, spec), mapping)
    payload = {
        "spec": spec.model_dump(mode="json"),
        "datasets": mapping,
        "validation": data_report,
        "sources": training_sources(session, mapping),
        **(extra or {}),
    }
    job = queue.enqueue(session, project_id, "training", payload, settings.worker.max_attempts)
    return job, data_report


def training_sources(session: Session, mapping: dict[str, str]) -> dict[str, Any]:
    """Where each stage's rows came from, for the artifacts' provenance: the dataset, and for a curated one the
    curation and audit that made it (for an upload, its newest finished audit, if any)."""
    from app.db.models import Audit, Dataset

    out: dict[str, Any] = {}
    for stage, ds_id in mapping.items():
        ds = session.get(Dataset, ds_id)
        if ds is None:
            continue
        lineage = ds.lineage or {}
        audit_id = lineage.get("audit_id")
        if audit_id is None:
            audit_id = session.scalar(
                select(Audit.id)
                .join(Job, Job.id == Audit.job_id)
                .where(Audit.dataset_id == ds.id, Job.status == "succeeded")
                .order_by(Audit.created_at.desc())
                .limit(1)
            )
        out[stage] = {
            "dataset_id": ds.id,
            "name": ds.name,
            "rows": ds.rows,
            "sha256": ds.sha256,
            "kind": lineage.get("kind", "upload"),
            "parent_id": ds.parent_id,
            "curation_id": lineage.get("curation_id"),
            "audit_id": audit_id,
        }
    return {"datasets": out}


def get_training_job(session: Session, project_id: str, job_id: str) -> Job:
    job = session.get(Job, job_id) if is_id(job_id) else None
    if job is None or job.project_id != project_id or job.kind != "training":
        raise not_found("training job", job_id)
    return job


def metrics(session: Session, job_id: str, after: int = 0, limit: int = 1000) -> list[TrainingMetric]:
    q = (
        select(TrainingMetric)
        .where(TrainingMetric.job_id == job_id, TrainingMetric.seq > after)
        .order_by(TrainingMetric.seq)
        .limit(limit)
    )
    return list(session.scalars(q))


def latest_metric(session: Session, job_id: str) -> TrainingMetric | None:
    return session.scalar(
        select(TrainingMetric).where(TrainingMetric.job_id == job_id).order_by(TrainingMetric.seq.desc()).limit(1)
    )


def artifacts_dir(settings: Settings, job_id: str) -> Path:
    return settings.storage.artifacts / job_id


def _artifact_roots(settings: Settings, job: Job) -> list[Path]:
    """What a finished job publishes: ``final/``, plus ``phases/*/result/`` (the base of a full_then_lora
    or multi-stage adapter lives there)."""
    out = artifacts_dir(settings, job.id).resolve()
    return [out / "final", *sorted((out / "phases").glob("*/result"))]


def list_artifacts(settings: Settings, job: Job) -> list[dict[str, Any]]:
    if job.status != "succeeded":
        return []
    base = artifacts_dir(settings, job.id).resolve()
    return [
        {"path": str(p.relative_to(base)), "bytes": p.stat().st_size}
        for root in _artifact_roots(settings, job)
        if root.is_dir()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    ]


def artifact_path(settings: Settings, job: Job, rel: str) -> Path:
    try:
        path = (artifacts_dir(settings, job.id) / rel).resolve()
    except (OSError, RuntimeError, ValueError):  # NUL bytes, symlink loops
        raise not_found("artifact", rel) from None
    allowed = any(root in path.parents for root in _artifact_roots(settings, job))
    if job.status != "succeeded" or not allowed or not path.is_file():
        raise not_found("artifact", rel)
    return path
