"""Datasets: ingest a stored upload, list, page through samples, export, delete.

An upload is ingested in batches, each its own short transaction, into a dataset in the ``staging``
state: other writers (on SQLite, the one database-wide write lock) wait at most one batch, never the
whole ingest. Nobody sees the dataset until its last statement flips it to ``ready``; a failed ingest
removes everything it wrote. Deleting marks the dataset ``deleting`` at once (it disappears from the
API) and a ``dataset_purge`` job removes its rows in batches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.models import FORMAT_MAX, IDEMPOTENCY_KEY_MAX, NAME_MAX, Audit, AuditSample, Dataset, Job, SampleRow, is_id
from app.db.session import session_scope
from app.errors import AppError, RowError, not_found
from app.ingest.export import EXPORT_FORMATS, export_record
from app.ingest.normalise import IngestStats, OnError, normalise_records
from app.ingest.reader import container_hint, iter_records, open_payload, sniff_container
from app.jsonutil import dump_json, load_json
from app.settings import Settings
from scorers.samples import Sample


@dataclass
class StoredUpload:
    path: Path
    sha256: str
    size: int
    filename: str | None
    content_type: str | None


@dataclass
class IngestOptions:
    name: str | None = None
    format: str | None = None
    field_map: Mapping[str, str] | None = None
    on_error: OnError = "reject"
    idempotency_key: str | None = None


def validate_options(opts: IngestOptions) -> None:
    """Refuse options the database could not hold before a byte of the upload is read or stored."""
    checks = (
        ("name", opts.name, NAME_MAX),
        ("format", opts.format, FORMAT_MAX),
        ("Idempotency-Key", opts.idempotency_key, IDEMPOTENCY_KEY_MAX),
    )
    for what, value, limit in checks:
        if value is None:
            continue
        if "\x00" in value:
            raise AppError(
                422, "invalid_option", f"{what} must not contain NUL characters", [RowError("NUL", field=what)]
            )
        if len(value) > limit:
            raise AppError(
                422,
                "invalid_option",
                f"{what} is longer than {limit} characters",
                [RowError(f"longer than {limit} characters", field=what)],
            )


def find_idempotent(session: Session, project_id: str, upload: StoredUpload, key: str | None) -> Dataset | None:
    """The dataset an earlier upload with this key made (same file), a 409 for another file or one still being ingested."""
    if not key:
        return None
    existing = session.scalar(select(Dataset).where(Dataset.project_id == project_id, Dataset.idempotency_key == key))
    if existing is None or existing.status == "deleting":
        return None
    if existing.sha256 != upload.sha256:
        raise AppError(
            409,
            "idempotency_conflict",
            "this Idempotency-Key was already used for a different file",
            extra={"dataset_id": existing.id},
        )
    if existing.status != "ready":
        raise AppError(
            409,
            "idempotency_in_progress",
            "an upload with this Idempotency-Key is still being ingested; retry shortly to get its dataset",
        )
    return existing


def ingest_upload(
    settings: Settings, project_id: str, upload: StoredUpload, opts: IngestOptions
) -> tuple[Dataset, bool]:
    """Store an upload as a dataset; returns (dataset, created). Only ever leaves a whole dataset behind.

    With an Idempotency-Key, concurrent uploads of the same file all get the one dataset (or a 409 while
    it is still being ingested): the key's uniqueness is claimed by the staging row, before any row.
    """
    validate_options(opts)
    url = settings.db_url
    try:
        with session_scope(url) as s:
            existing = find_idempotent(s, project_id, upload, opts.idempotency_key)
            if existing is not None:
                return existing, False
            if opts.idempotency_key:  # a deleted dataset keeps no claim on its key
                s.execute(
                    update(Dataset)
                    .where(
                        Dataset.project_id == project_id,
                        Dataset.status == "deleting",
                        Dataset.idempotency_key == opts.idempotency_key,
                    )
                    .values(idempotency_key=None)
                    .execution_options(synchronize_session=False)
                )
            dataset = Dataset(
                project_id=project_id,
                name=opts.name
                or (upload.filename or "").replace("\x00", "")[:NAME_MAX]
                or f"upload-{upload.sha256[:8]}",
                format=opts.format or "",
                sha256=upload.sha256,
                size_bytes=upload.size,
                file_path=str(upload.path),
                idempotency_key=opts.idempotency_key,
                status="staging",
            )
            s.add(dataset)
            s.flush()
            dataset_id = dataset.id
    except IntegrityError:  # another request with the same key won the race
        with session_scope(url) as s:
            existing = find_idempotent(s, project_id, upload, opts.idempotency_key)
            if existing is None:
                raise AppError(
                    409, "idempotency_in_progress", "an upload with this Idempotency-Key is in progress; retry shortly"
                ) from None
            return existing, False
    try:
        return _fill(settings, dataset_id, upload, opts), True
    except BaseException:
        _discard_staging(url, dataset_id)
        raise


def _fill(settings: Settings, dataset_id: str, upload: StoredUpload, opts: IngestOptions) -> Dataset:
    lim = settings.upload
    stream, gzipped = open_payload(upload.path, lim.max_decompressed_bytes)
    with stream:
        container = sniff_container(stream, container_hint(upload.filename, upload.content_type))
        stats = IngestStats()
        rows = normalise_records(
            iter_records(stream, container, lim.max_line_bytes, lim.max_json_array_bytes, lim.max_depth),
            opts.format,
            opts.field_map,
            opts.on_error,
            stats,
            lim.max_errors_reported,
            lim.max_rows,
        )
        insert_batches(settings.db_url, dataset_id, rows, lim.insert_batch)
    with session_scope(settings.db_url) as s:
        ingest = {
            **stats.to_dict(lim.max_errors_reported),
            "container": container,
            "gzip": gzipped,
            "on_error": opts.on_error,
            "field_map": dict(opts.field_map or {}),
        }
        done = s.execute(
            update(Dataset)
            .where(Dataset.id == dataset_id, Dataset.status == "staging")
            .values(rows=stats.rows, format=stats.format or opts.format or "", ingest=ingest, status="ready")
            .execution_options(synchronize_session=False)
        )
        if (done.rowcount or 0) != 1:  # reaped as abandoned meanwhile (reap_stale_staging): its rows are being purged
            raise AppError(409, "ingest_abandoned", "the upload took too long and was discarded; upload it again")
        dataset = s.get(Dataset, dataset_id)
        assert dataset is not None
        return dataset


def reap_stale_staging(session: Session, settings: Settings) -> int:
    """Datasets left in ``staging`` by an API process that died mid-ingest: hide them for good and queue their purge."""
    from datetime import timedelta

    from app.db import queue
    from app.db.models import utcnow

    cutoff = utcnow() - timedelta(seconds=settings.upload.staging_timeout_seconds)
    stale = list(
        session.scalars(select(Dataset).where(Dataset.status == "staging", Dataset.created_at < cutoff).limit(100))
    )
    for ds in stale:
        ds.status, ds.idempotency_key = "deleting", None
        queue.enqueue(session, ds.project_id, "dataset_purge", {"dataset_id": ds.id}, settings.worker.max_attempts)
    session.flush()
    return len(stale)


def _discard_staging(url: str, dataset_id: str) -> None:
    """Remove what a failed ingest wrote (in batches, like a purge)."""
    try:
        purge_samples(url, dataset_id, 5000)
        with session_scope(url) as s:
            s.execute(delete(Dataset).where(Dataset.id == dataset_id, Dataset.status == "staging"))
    except Exception:  # the staging row stays invisible; reap_stale_staging removes it later
        import logging

        logging.getLogger("sftaudit.ingest").exception("could not remove staging dataset %s", dataset_id)


def insert_batches(url: str, dataset_id: str, rows: Iterator[dict[str, Any]], batch_size: int) -> None:
    """Insert rows in batches, each batch committed on its own (other writers wait one batch at most)."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            with session_scope(url) as s:
                bulk_insert(s, dataset_id, iter(batch), batch_size)
            batch = []
    if batch:
        with session_scope(url) as s:
            bulk_insert(s, dataset_id, iter(batch), batch_size)


def bulk_insert(session: Session, dataset_id: str, rows: Iterator[dict[str, Any]], batch_size: int) -> None:
    """DBAPI executemany in batches on the session's connection (same transaction).

    Rows are pre-serialised (orjson) and sent as tuples: this path carries the bulk of an upload,
    and SQLAlchemy's per-row parameter processing would double its cost.
    """
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO samples (dataset_id, idx, conversation, original, warnings) VALUES ({', '.join([mark] * 5)})"
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(
            (
                dataset_id,
                row["idx"],
                dump_json(row["conversation"]),
                row["original"],
                dump_json(row["warnings"]) if row["warnings"] else None,
            )
        )
        if len(batch) >= batch_size:
            conn.exec_driver_sql(sql, batch)
            batch = []
    if batch:
        conn.exec_driver_sql(sql, batch)


def create_derived(
    session: Session,
    parent: Dataset,
    name: str,
    conversations: list[tuple[int, dict, str | None]],
    lineage: dict[str, Any],
) -> Dataset:
    """A dataset made from rows of another (curation): rows are re-indexed 0..n-1, the parent index kept in lineage."""
    parent_ingest = parent.ingest or {}
    ds = Dataset(
        project_id=parent.project_id,
        name=name,
        format=parent.format,
        sha256="",
        size_bytes=0,
        parent_id=parent.id,
        lineage=lineage,
        ingest={
            "derived": True,
            "field_map": parent_ingest.get("field_map", {}),
            "container": "jsonl",
            "content": "sha256 and size_bytes of the rows as format=original exports them",
        },
    )
    session.add(ds)
    session.flush()
    digest, size = hashlib.sha256(), 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal size
        for i, (_, conv, orig) in enumerate(conversations):
            line = ((orig if orig is not None else dump_json(conv)) + "\n").encode()
            digest.update(line)
            size += len(line)
            yield {"idx": i, "conversation": conv, "original": orig, "warnings": None}

    bulk_insert(session, ds.id, rows(), 5000)
    ds.rows = len(conversations)
    ds.sha256, ds.size_bytes = digest.hexdigest(), size  # its own content, not the parent's upload
    session.flush()
    return ds


def lineage_page(ds: Dataset, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Which source row each row of a derived dataset came from, a page at a time."""
    sources = (ds.lineage or {}).get("sources") or []
    return [
        {"index": offset + k, "source_dataset_id": d, "source_index": i}
        for k, (d, i) in enumerate(sources[offset : offset + limit])
    ], len(sources)


def get_dataset(session: Session, project_id: str, dataset_id: str) -> Dataset:
    """A ready dataset of the project (staging and deleting ones do not exist for the API)."""
    ds = session.get(Dataset, dataset_id) if is_id(dataset_id) else None
    if ds is None or ds.project_id != project_id or ds.status != "ready":
        raise not_found("dataset", dataset_id)
    return ds


def list_datasets(session: Session, project_id: str, offset: int, limit: int) -> tuple[list[Dataset], int]:
    q = select(Dataset).where(Dataset.project_id == project_id, Dataset.status == "ready")
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    items = session.scalars(q.order_by(Dataset.created_at.desc(), Dataset.id).offset(offset).limit(limit)).all()
    return list(items), int(total)


def page_samples(session: Session, dataset_id: str, offset: int, limit: int) -> list[SampleRow]:
    q = (
        select(SampleRow)
        .where(SampleRow.dataset_id == dataset_id, SampleRow.idx >= 0)
        .order_by(SampleRow.idx)
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(q))


def iter_samples(session: Session, dataset_id: str, batch: int = 5000) -> Iterator[SampleRow]:
    """Every row in index order, read in keyset-paginated batches (bounded memory)."""
    last = -1
    while True:
        rows = list(
            session.scalars(
                select(SampleRow)
                .where(SampleRow.dataset_id == dataset_id, SampleRow.idx > last)
                .order_by(SampleRow.idx)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].idx


def load_samples(session: Session, dataset_id: str) -> list[Sample]:
    out = []
    for row in iter_samples(session, dataset_id):
        conv = row.conversation
        meta: dict[str, Any] = {"original": load_json(row.original) if row.original else None}
        if row.warnings:
            meta["warnings"] = row.warnings
        if any("loss_weight" in t for t in conv["turns"]):  # LLaMA-Factory's per-message weight, for training
            meta["loss_weights"] = [t.get("loss_weight") for t in conv["turns"]]
        out.append(Sample.from_dict({"index": row.idx, **conv}, meta=meta))
    return out


def export_lines(session: Session, dataset_id: str, fmt: str) -> Iterator[str]:
    """The dataset as JSONL in ``fmt``; ``original`` writes each uploaded record back as it was."""
    if fmt not in EXPORT_FORMATS:
        raise AppError(422, "unknown_format", f"unknown export format {fmt!r}; known: {', '.join(EXPORT_FORMATS)}")
    ds = session.get(Dataset, dataset_id)
    source_format = ds.format if ds else ""
    field_map = (ds.ingest or {}).get("field_map") if ds else None
    for row in iter_samples(session, dataset_id):
        if fmt == "original":
            yield original_line(row)
            continue
        original = load_json(row.original) if row.original else None
        yield (
            json.dumps(
                export_record(fmt, row.idx, row.conversation, original, source_format, field_map), ensure_ascii=False
            )
            + "\n"
        )


def original_line(row: SampleRow) -> str:
    """A row as uploaded: the JSONL line itself, or the record as JSON (JSON arrays, CSV, Parquet rows)."""
    return (row.original if row.original is not None else dump_json(row.conversation)) + "\n"


def request_delete(session: Session, settings: Settings, ds: Dataset) -> Job:
    """Hide the dataset at once and queue its purge (the rows go in batches, outside the request)."""
    from app.db import queue

    ds.status = "deleting"
    # queued audits of it would only fail later: cancel them now
    audit_jobs = select(Audit.job_id).where(Audit.dataset_id == ds.id)
    session.execute(
        update(Job)
        .where(Job.id.in_(audit_jobs), Job.status == "queued")
        .values(status="cancelled", cancel_requested=True, error="its dataset was deleted")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Job)
        .where(Job.id.in_(audit_jobs), Job.status == "running")
        .values(cancel_requested=True)
        .execution_options(synchronize_session=False)
    )
    job = queue.enqueue(session, ds.project_id, "dataset_purge", {"dataset_id": ds.id}, settings.worker.max_attempts)
    session.flush()
    return job


def purge_samples(url: str, dataset_id: str, batch: int, progress: Any = None) -> int:
    """Delete a dataset's sample rows in batches, each its own transaction; returns how many went."""
    gone = 0
    while True:
        with session_scope(url) as s:
            keys = list(
                s.scalars(
                    select(SampleRow.idx).where(SampleRow.dataset_id == dataset_id).order_by(SampleRow.idx).limit(batch)
                )
            )
            if not keys:
                return gone
            s.execute(
                delete(SampleRow).where(
                    SampleRow.dataset_id == dataset_id, SampleRow.idx >= keys[0], SampleRow.idx <= keys[-1]
                )
            )
        gone += len(keys)
        if progress is not None:
            progress(gone)


def purge_dataset(url: str, dataset_id: str, batch: int = 5000, progress: Any = None) -> dict[str, int]:
    """Remove a deleting dataset for good: its samples and audits' results in batches, then the rows
    that reference it, then its stored file. Safe to run twice."""
    with session_scope(url) as s:
        ds = s.get(Dataset, dataset_id)
        if ds is None:
            return {"samples": 0, "audits": 0}
        if ds.status != "deleting":
            raise RuntimeError(f"dataset {dataset_id} is {ds.status}, not deleting")
        audit_ids = list(s.scalars(select(Audit.id).where(Audit.dataset_id == dataset_id)))
        path = Path(ds.file_path) if ds.file_path else None
    for audit_id in audit_ids:
        while True:
            with session_scope(url) as s:
                idx = list(
                    s.scalars(
                        select(AuditSample.idx)
                        .where(AuditSample.audit_id == audit_id)
                        .order_by(AuditSample.idx)
                        .limit(batch)
                    )
                )
                if not idx:
                    break
                s.execute(
                    delete(AuditSample).where(
                        AuditSample.audit_id == audit_id, AuditSample.idx >= idx[0], AuditSample.idx <= idx[-1]
                    )
                )
    samples = purge_samples(url, dataset_id, batch, progress)
    with session_scope(url) as s:
        s.execute(delete(Dataset).where(Dataset.id == dataset_id))  # audits, experiments: ON DELETE CASCADE
        others = (
            s.scalar(select(func.count()).select_from(Dataset).where(Dataset.file_path == str(path))) if path else 1
        )
    if path is not None and not others:
        path.unlink(missing_ok=True)
    return {"samples": samples, "audits": len(audit_ids)}
