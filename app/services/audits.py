"""Audits: create (with its job, in one transaction), read, store results, query per-sample results."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from app.db import queue
from app.db.models import Audit, AuditSample, Dataset, Job, is_id, new_id
from app.errors import AppError, RowError, not_found
from app.services.datasets import get_dataset
from app.services.job_kinds import audit_job_kind
from app.settings import Settings
from scorers.base import DIMENSIONS, registry
from scorers.pipeline import AuditOutput, dumps

SORTS = {"index", "-index", "score", "-score", *DIMENSIONS, *(f"-{d}" for d in DIMENSIONS)}


def validate_scorers(names: Sequence[str] | None, params: dict[str, dict[str, Any]]) -> list[str]:
    reg = registry()
    if names is not None and not names:
        raise AppError(
            422,
            "no_scorers",
            "scorers is empty; name at least one scorer, or omit the field to run them all",
            errors=[RowError("empty list", field="scorers")],
        )
    chosen = list(dict.fromkeys(names)) if names is not None else list(reg)
    unknown = [n for n in chosen if n not in reg]
    if unknown:
        raise AppError(422, "unknown_scorer", f"unknown scorer(s): {', '.join(unknown)}", extra={"known": list(reg)})
    for name, p in params.items():
        if name not in chosen:
            raise AppError(422, "invalid_params", f"parameters given for scorer {name!r}, which is not selected")
        try:
            reg[name].Params(**p)
        except Exception as e:  # pydantic.ValidationError
            raise AppError(422, "invalid_params", f"invalid parameters for scorer {name!r}: {e}") from None
    return chosen


def create_audit(
    session: Session,
    settings: Settings,
    project_id: str,
    dataset_id: str,
    scorers: Sequence[str] | None,
    params: dict[str, dict[str, Any]],
    seed: int,
    reference_dataset_id: str | None,
) -> Audit:
    get_dataset(session, project_id, dataset_id)
    if reference_dataset_id is not None:  # "" is an id too: one that does not exist (404), never a NULL
        get_dataset(session, project_id, reference_dataset_id)
    chosen = validate_scorers(scorers, params)
    audit = Audit(
        id=new_id(),
        project_id=project_id,
        dataset_id=dataset_id,
        reference_dataset_id=reference_dataset_id,
        scorers=chosen,
        params=params,
        seed=seed,
        job_id="",
    )
    kind = audit_job_kind(chosen, settings.models)  # model_audit: GPU workers take it first
    job = queue.enqueue(session, project_id, kind, {"audit_id": audit.id}, settings.worker.max_attempts)
    audit.job_id = job.id
    session.add(audit)
    session.flush()
    return audit


def get_audit(session: Session, project_id: str, audit_id: str) -> tuple[Audit, Job]:
    audit = session.get(Audit, audit_id) if is_id(audit_id) else None
    if audit is None or audit.project_id != project_id or _dataset_gone(session, audit.dataset_id):
        raise not_found("audit", audit_id)
    job = session.get(Job, audit.job_id)
    assert job is not None
    return audit, job


def _dataset_gone(session: Session, dataset_id: str) -> bool:
    """An audit of a deleted dataset goes with it (its rows are purged in the background)."""
    return session.scalar(select(Dataset.status).where(Dataset.id == dataset_id)) != "ready"


def store_results(session: Session, audit_id: str, out: AuditOutput) -> None:
    """Replace (never append) the audit's results: safe when a job runs twice."""
    session.execute(delete(AuditSample).where(AuditSample.audit_id == audit_id))
    batch = []
    for rec in out.samples:
        scores = rec.get("scores", {})
        codes = sorted({f["code"] for f in rec.get("flags", [])})
        cluster = rec.get("cluster")
        level = rec.get("difficulty_level")
        batch.append(
            {
                "audit_id": audit_id,
                "idx": rec["index"],
                "record": dumps(rec),
                "cluster": cluster if isinstance(cluster, int) else None,
                "difficulty_level": level if isinstance(level, str) else None,
                "flag_codes": "," + ",".join(codes) + "," if codes else "",
                **{d: scores.get(d) for d in DIMENSIONS},
            }
        )
        if len(batch) >= 5000:
            session.execute(insert(AuditSample), batch)
            batch = []
    if batch:
        session.execute(insert(AuditSample), batch)
    audit = session.get(Audit, audit_id)
    assert audit is not None
    audit.report_json = out.report_json()
    session.flush()


def _encode_cursor(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except Exception:
        raise AppError(400, "bad_cursor", "the cursor is not one this API returned") from None


def query_samples(
    session: Session,
    audit: Audit,
    *,
    dimension: str | None,
    flag: str | None,
    min_score: float | None,
    max_score: float | None,
    sort: str,
    limit: int,
    cursor: str | None,
    cluster: int | None = None,
    difficulty_level: str | None = None,
) -> tuple[list[str], str | None, int]:
    """Filter and keyset-paginate per-sample results; returns (records as JSON strings, next cursor, total).

    ``sort`` is ``index``, a dimension, or ``score`` (the ``dimension`` filter's score); ``-`` = descending.
    """
    if dimension is not None and dimension not in DIMENSIONS:
        raise AppError(422, "invalid_dimension", f"unknown dimension {dimension!r}; known: {', '.join(DIMENSIONS)}")
    if sort not in SORTS:
        raise AppError(422, "invalid_sort", f"unknown sort {sort!r}; known: {', '.join(sorted(SORTS))}")
    if sort.lstrip("-") == "score":
        if dimension is None:
            raise AppError(422, "invalid_sort", "sort=score sorts by the dimension= filter's score; give a dimension")
        sort = sort.replace("score", dimension)
    if (min_score is not None or max_score is not None) and dimension is None and sort.lstrip("-") == "index":
        raise AppError(422, "invalid_filter", "min_score/max_score need a dimension= (or a dimension sort)")
    conds = [AuditSample.audit_id == audit.id]
    score_dim = dimension or (sort.lstrip("-") if sort.lstrip("-") != "index" else None)
    if score_dim:
        col = getattr(AuditSample, score_dim)
        if min_score is not None:
            conds.append(col >= min_score)
        if max_score is not None:
            conds.append(col <= max_score)
        if dimension:
            conds.append(col.is_not(None))
    if flag:
        conds.append(AuditSample.flag_codes.like(f"%,{flag},%"))
    if cluster is not None:
        conds.append(AuditSample.cluster == cluster)
    if difficulty_level:
        conds.append(AuditSample.difficulty_level == difficulty_level)
    total = int(session.scalar(select(func.count()).select_from(AuditSample).where(*conds)) or 0)

    desc = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "index":
        order = [AuditSample.idx.desc() if desc else AuditSample.idx.asc()]
        if cursor:
            c = _decode_cursor(cursor)
            conds.append(AuditSample.idx < c["i"] if desc else AuditSample.idx > c["i"])
    else:
        col = getattr(AuditSample, key)
        conds.append(col.is_not(None))
        order = [col.desc() if desc else col.asc(), AuditSample.idx.asc()]
        if cursor:
            c = _decode_cursor(cursor)
            beyond = col < c["v"] if desc else col > c["v"]
            conds.append(or_(beyond, and_(col == c["v"], AuditSample.idx > c["i"])))
    rows = session.execute(
        select(AuditSample.idx, AuditSample.record, getattr(AuditSample, key if key != "index" else "idx"))
        .where(*conds)
        .order_by(*order)
        .limit(limit + 1)
    ).all()
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _encode_cursor({"i": last[0], "v": last[2]} if key != "index" else {"i": last[0]})
        rows = rows[:limit]
    return [r[1] for r in rows], next_cursor, total


def sample_record(session: Session, audit: Audit, index: int) -> str:
    rec = session.scalar(select(AuditSample.record).where(AuditSample.audit_id == audit.id, AuditSample.idx == index))
    if rec is None:
        raise not_found("sample", str(index))
    return rec


def dataset_of(session: Session, audit: Audit) -> Dataset:
    ds = session.get(Dataset, audit.dataset_id)
    if ds is None:
        raise not_found("dataset", audit.dataset_id)
    return ds


def conversations(session: Session, dataset_id: str, indices: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The stored conversation of each of these rows (the samples endpoints return them with the results)."""
    from app.db.models import SampleRow

    if not indices:
        return {}
    rows = session.execute(
        select(SampleRow.idx, SampleRow.conversation).where(
            SampleRow.dataset_id == dataset_id, SampleRow.idx.in_(list(indices))
        )
    )
    return {idx: conv for idx, conv in rows}


def all_records(session: Session, audit: Audit) -> list[str]:
    return list(
        session.scalars(select(AuditSample.record).where(AuditSample.audit_id == audit.id).order_by(AuditSample.idx))
    )


def sample_texts(session: Session, dataset_id: str, indices: Sequence[int]) -> dict[int, dict[str, str]]:
    """Instruction and answer text of the given rows (what the HTML report quotes)."""
    from app.db.models import SampleRow
    from scorers.samples import Sample

    out: dict[int, dict[str, str]] = {}
    wanted = sorted(set(indices))
    for i in range(0, len(wanted), 900):
        rows = session.execute(
            select(SampleRow.idx, SampleRow.conversation).where(
                SampleRow.dataset_id == dataset_id, SampleRow.idx.in_(wanted[i : i + 900])
            )
        )
        for idx, conv in rows:
            s = Sample.from_dict({"index": idx, **conv})
            out[idx] = {"instruction": s.instruction, "answer": s.answer}
    return out
