"""Curations: validate a policy, queue the job, and (in the worker) build the curated dataset and its baselines."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session

from app.curation.policy import RANK_FIELDS, Budget, CurationPolicy
from app.curation.select import Selection, longest_subset, random_subset, select
from app.db import queue
from app.db.models import Audit, Dataset, Job, SampleRow, is_id
from app.errors import AppError, not_found
from app.services.audits import all_records, get_audit
from app.services.datasets import create_derived, get_dataset
from app.settings import Settings


def create_curation(
    session: Session,
    settings: Settings,
    project_id: str,
    dataset_id: str,
    audit_id: str,
    policy: CurationPolicy,
    name: str | None,
) -> Job:
    ds = get_dataset(session, project_id, dataset_id)
    audit, job = get_audit(session, project_id, audit_id)
    if audit.dataset_id != ds.id:
        raise AppError(422, "audit_mismatch", f"audit {audit_id} is of dataset {audit.dataset_id}, not {dataset_id}")
    if job.status != "succeeded":
        raise AppError(409, "audit_not_finished", f"audit {audit_id} is {job.status}; curate a finished audit")
    if policy.rank_by in RANK_FIELDS:
        _check_ranker_ran(audit, policy.rank_by)
    for part in policy.mix:
        get_dataset(session, project_id, part.dataset_id)
        if part.audit_id:
            a, j = get_audit(session, project_id, part.audit_id)
            if a.dataset_id != part.dataset_id or j.status != "succeeded":
                raise AppError(
                    422, "audit_mismatch", f"mix: audit {part.audit_id} is not a finished audit of {part.dataset_id}"
                )
            if policy.rank_by in RANK_FIELDS:
                _check_ranker_ran(a, policy.rank_by)
    payload = {
        "dataset_id": dataset_id,
        "audit_id": audit_id,
        "policy": policy.model_dump(mode="json"),
        "name": name or f"{ds.name} (curated)",
    }
    return queue.enqueue(session, project_id, "curation", payload, settings.worker.max_attempts)


def _check_ranker_ran(audit: Audit, scorer: str) -> None:
    """rank_by a scorer's field needs an audit where that scorer ran; say why it did not, and how to fix it."""
    runs = {r["name"]: r for r in json.loads(audit.report_json or "{}").get("scorers", [])}
    run = runs.get(scorer)
    if run is None:
        raise AppError(
            422,
            "ranker_not_run",
            f"rank_by {scorer!r} needs an audit that ran the {scorer} scorer; "
            f"audit {audit.id} did not (run one with it, after labelling some samples)",
        )
    if run["status"] != "ok":
        raise AppError(
            422,
            "ranker_not_run",
            f"rank_by {scorer!r}: in audit {audit.id} the {scorer} scorer was "
            f"{run['status']} ({run.get('reason') or 'no reason given'})",
        )


def get_curation(session: Session, project_id: str, curation_id: str) -> Job:
    job = session.get(Job, curation_id) if is_id(curation_id) else None
    if job is None or job.project_id != project_id or job.kind != "curation":
        raise not_found("curation", curation_id)
    return job


def curations_of_audit(session: Session, project_id: str, audit_id: str) -> list[Job]:
    """The curation jobs made from one audit, newest first."""
    q = (
        sql_select(Job)
        .where(Job.project_id == project_id, Job.kind == "curation", Job.payload["audit_id"].as_string() == audit_id)
        .order_by(Job.created_at.desc(), Job.id)
    )
    return list(session.scalars(q))


def result_datasets(session: Session, job: Job) -> tuple[Dataset | None, dict[str, Dataset]]:
    """The curated dataset a finished curation made, and its baselines by name (those still present)."""
    result = job.result or {}
    curated_id = result.get("curated_dataset_id")
    curated = session.get(Dataset, curated_id) if curated_id else None
    baselines = {
        name: ds
        for name, ds_id in (result.get("baselines") or {}).items()
        if ds_id and (ds := session.get(Dataset, ds_id)) is not None
    }
    return curated, baselines


def report_section(session: Session, project_id: str, curation_id: str) -> tuple[Audit, dict[str, Any]]:
    """What the curation report shows beside its audit's report: the policy, kept vs dropped by reason, and which
    source rows each subset (curated, random, longest) holds, rebuilt from the subsets' lineage."""
    job = get_curation(session, project_id, curation_id)
    if job.status != "succeeded":
        raise AppError(409, "curation_not_finished", f"curation {curation_id} is {job.status}")
    audit, _ = get_audit(session, project_id, job.payload["audit_id"])
    parent = job.payload["dataset_id"]
    result = job.result or {}
    subsets = {}
    for name, ds_id in (("curated", result["curated_dataset_id"]), *result.get("baselines", {}).items()):
        ds = session.get(Dataset, ds_id)
        subsets[name] = [i for d, i in ((ds.lineage or {}).get("sources", []) if ds else []) if d == parent]
    counts = result.get("counts", {})
    return audit, {
        "policy": job.payload["policy"],
        "kept": counts.get("kept"),
        "dropped_by_reason": counts.get("dropped_by_reason", {}),
        "subsets": subsets,
        "warnings": result.get("warnings") or [],
    }


def _rows(session: Session, dataset_id: str, indices: list[int]) -> list[tuple[int, dict, str | None]]:
    out: dict[int, tuple[int, dict, str | None]] = {}
    for k in range(0, len(indices), 900):
        for r in session.scalars(
            sql_select(SampleRow).where(SampleRow.dataset_id == dataset_id, SampleRow.idx.in_(indices[k : k + 900]))
        ):
            out[r.idx] = (r.idx, r.conversation, r.original)
    return [out[i] for i in indices]


def answer_lengths(session: Session, dataset_id: str) -> dict[int, int]:
    lengths = {}
    for idx, conv in session.execute(
        sql_select(SampleRow.idx, SampleRow.conversation).where(SampleRow.dataset_id == dataset_id)
    ):
        answers = [t["content"] for t in conv["turns"] if t["role"] == "assistant"]
        lengths[idx] = len(answers[-1]) if answers else 0
    return lengths


def run_curation(
    session: Session,
    payload: dict[str, Any],
    embed: Callable[[str], np.ndarray],
    progress: Callable[[float, str], None],
) -> dict[str, Any]:
    """Build the curated dataset plus a random and a longest-answers baseline of the same size, in one transaction."""
    policy = CurationPolicy.model_validate(payload["policy"])
    parent = session.get(Dataset, payload["dataset_id"])
    audit = session.get(Audit, payload["audit_id"])
    if parent is None or audit is None:
        raise LookupError("the dataset or audit of this curation no longer exists")
    records = [json.loads(r) for r in all_records(session, audit)]
    main_policy = policy
    if policy.mix:
        share = 1 - sum(p.ratio for p in policy.mix)
        main_policy = policy.model_copy(
            update={"budget": Budget(rows=max(1, round(policy.budget.rows * share))), "mix": []}  # type: ignore[union-attr]
        )
    progress(0.1, "selecting")
    sel = select(records, main_policy, (lambda: embed(parent.id)) if policy.diversity_threshold is not None else None)
    parts: list[tuple[str, list[int], Selection | None]] = [(parent.id, sel.kept, sel)]
    for part in policy.mix:
        size = round(policy.budget.rows * part.ratio)  # type: ignore[union-attr]
        if part.audit_id:
            a = session.get(Audit, part.audit_id)
            recs = [json.loads(r) for r in all_records(session, a)]  # type: ignore[arg-type]
            sub = select(
                recs,
                policy.model_copy(update={"budget": Budget(rows=size), "mix": []}),
                (lambda d=part.dataset_id: embed(d)) if policy.diversity_threshold is not None else None,
            )
            parts.append((part.dataset_id, sub.kept, sub))
        else:
            all_idx = list(answer_lengths(session, part.dataset_id))
            parts.append((part.dataset_id, random_subset(all_idx, size, policy.seed), None))
    progress(0.6, "storing the curated dataset and baselines")
    rows, sources = [], []
    for ds_id, kept, _ in parts:
        rows += _rows(session, ds_id, kept)
        sources += [[ds_id, i] for i in kept]
    counts = {
        "input_rows": len(records),
        "kept": len(sel.kept),
        "dropped": len(sel.dropped),
        "dropped_by_reason": sel.counts(),
        "mixed_in": {ds_id: len(kept) for ds_id, kept, _ in parts[1:]},
    }
    warnings = list(sel.warnings)
    for (ds_id, kept, sub), part in zip(parts[1:], policy.mix, strict=True):
        wanted = round(policy.budget.rows * part.ratio)  # type: ignore[union-attr]
        if len(kept) < wanted:
            warnings.append(f"mix: {len(kept):,} rows from dataset {ds_id} of {wanted:,} wanted")
        warnings += [f"mix {ds_id}: {w}" for w in (sub.warnings if sub else [])]
    lineage = {
        "kind": "curated",
        "parent_id": parent.id,
        "audit_id": audit.id,
        "curation_id": payload.get("curation_id"),
        "policy": policy.model_dump(mode="json"),
        "counts": counts,
        "warnings": warnings,
        "diversity_tau": sel.tau,
        "sources": sources,
    }
    curated = create_derived(session, parent, payload["name"], rows, lineage)
    n = len(rows)
    lengths = answer_lengths(session, parent.id)
    baselines = {}
    for kind, idx in (
        ("random", random_subset(list(lengths), n, policy.seed)),
        ("longest", longest_subset(lengths, n)),
    ):
        ds = create_derived(
            session,
            parent,
            f"{parent.name} ({kind} {n})",
            _rows(session, parent.id, idx),
            {
                "kind": f"baseline_{kind}",
                "parent_id": parent.id,
                "audit_id": audit.id,
                "size": n,
                "sources": [[parent.id, i] for i in idx],
            },
        )
        baselines[kind] = ds.id
    return {
        "curated_dataset_id": curated.id,
        "baselines": baselines,
        "counts": counts,
        "warnings": warnings,
        "diversity_tau": sel.tau,
    }
