"""Closed-loop experiments: the same training recipe on the curated subset and on its random and
longest-answers baselines, each evaluated on the same held-out rows, side by side."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.models import Dataset, Experiment, Job, SampleRow, is_id
from app.errors import AppError, not_found
from app.services.curation import get_curation
from app.services.datasets import create_derived, get_dataset
from app.services.training import create_training_job
from app.settings import Settings
from app.training_spec.spec import TrainingSpec

ARMS = ("curated", "random", "longest")


def _held_out(session: Session, curation: Job, size: int, seed: int) -> Dataset:
    """Rows of the parent dataset that no arm trains on."""
    parent = session.get(Dataset, curation.payload["dataset_id"])
    assert parent is not None
    used: set[int] = set()
    for ds_id in [curation.result["curated_dataset_id"], *curation.result["baselines"].values()]:
        ds = session.get(Dataset, ds_id)
        used |= {i for d, i in (ds.lineage or {}).get("sources", []) if d == parent.id}  # type: ignore[union-attr]
    free = [i for i in session.scalars(select(SampleRow.idx).where(SampleRow.dataset_id == parent.id)) if i not in used]
    if not free:
        raise AppError(422, "no_held_out_rows", "every row of the dataset is in a training arm; give eval_dataset_id")
    chosen = sorted(random.Random(seed).sample(free, min(size, len(free))))
    rows = {
        r.idx: (r.idx, r.conversation, r.original)
        for r in session.scalars(select(SampleRow).where(SampleRow.dataset_id == parent.id, SampleRow.idx.in_(chosen)))
    }
    return create_derived(
        session,
        parent,
        f"{parent.name} (held out {len(chosen)})",
        [rows[i] for i in chosen],
        {
            "kind": "held_out",
            "parent_id": parent.id,
            "curation_id": curation.id,
            "sources": [[parent.id, i] for i in chosen],
        },
    )


def create_experiment(
    session: Session,
    settings: Settings,
    project_id: str,
    curation_id: str,
    spec: TrainingSpec,
    eval_dataset_id: str | None,
    held_out_rows: int,
    baselines: Sequence[str] = ARMS[1:],
    extra_arms: Mapping[str, str] | None = None,
) -> Experiment:
    """Queue one training job per arm: the curated subset, the chosen baselines and any extra datasets
    (``extra_arms``: name -> dataset id, e.g. the uncurated dataset), all evaluated on the same rows."""
    extra_arms = dict(extra_arms or {})
    curation = get_curation(session, project_id, curation_id)
    if curation.status != "succeeded":
        raise AppError(409, "curation_not_finished", f"curation {curation_id} is {curation.status}")
    if spec.stages:
        raise AppError(422, "invalid_spec", "experiments compare single-stage recipes")
    if clash := sorted(set(extra_arms) & set(ARMS)):
        raise AppError(422, "invalid_arms", f"extra_arms: {clash[0]!r} is the name of a curation arm; choose another")
    if extra_arms and not eval_dataset_id:
        raise AppError(
            422,
            "eval_dataset_required",
            "extra_arms need eval_dataset_id: the default held-out rows come "
            "from the curated dataset's parent and could be in an extra arm",
        )
    evalset = (
        get_dataset(session, project_id, eval_dataset_id)
        if eval_dataset_id
        else _held_out(session, curation, held_out_rows, spec.seed)
    )
    result = curation.result or {}  # a succeeded curation always has one (checked above)
    arm_data = {
        "curated": result["curated_dataset_id"],
        **{b: result["baselines"][b] for b in dict.fromkeys(baselines)},
        **extra_arms,
    }
    arms: dict[str, Any] = {}
    for arm, dataset_id in arm_data.items():
        job, _ = create_training_job(
            session,
            settings,
            project_id,
            spec,
            dataset_id,
            None,
            extra={"eval_dataset_id": evalset.id, "experiment_arm": arm},
        )
        arms[arm] = {"dataset_id": dataset_id, "job_id": job.id}
    exp = Experiment(
        project_id=project_id,
        curation_id=curation.id,
        eval_dataset_id=evalset.id,
        arms=arms,
        spec=spec.model_dump(mode="json"),
    )
    session.add(exp)
    session.flush()
    return exp


def get_experiment(session: Session, project_id: str, experiment_id: str) -> tuple[Experiment, dict[str, Any]]:
    exp = session.get(Experiment, experiment_id) if is_id(experiment_id) else None
    if exp is None or exp.project_id != project_id:
        raise not_found("experiment", experiment_id)
    table = {}
    for arm, info in exp.arms.items():
        job = session.get(Job, info["job_id"])
        ds = session.get(Dataset, info["dataset_id"])
        held = (job.result or {}).get("held_out", {}) if job else {}
        table[arm] = {
            "dataset_id": info["dataset_id"],
            "rows": ds.rows if ds else None,
            "job_id": info["job_id"],
            "status": job.status if job else "missing",
            "held_out_loss": held.get("held_out_loss"),
            "held_out_accuracy": held.get("held_out_accuracy"),
        }
    return exp, table
