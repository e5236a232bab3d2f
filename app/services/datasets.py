"""Datasets: ingest a stored upload in one transaction, list, page through samples, export, delete."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.db.models import Dataset, SampleRow
from app.errors import AppError, not_found
from app.ingest.export import EXPORT_FORMATS, export_record
from app.ingest.normalise import IngestStats, OnError, normalise_records
from app.jsonutil import dump_json, load_json
from app.ingest.reader import container_hint, iter_records, open_payload, sniff_container
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


def find_idempotent(session: Session, project_id: str, upload: StoredUpload, key: str | None) -> Dataset | None:
    if not key:
        return None
    existing = session.scalar(select(Dataset).where(Dataset.project_id == project_id, Dataset.idempotency_key == key))
    if existing is None:
        return None
    if existing.sha256 != upload.sha256:
        raise AppError(409, "idempotency_conflict",
                       "this Idempotency-Key was already used for a different file", extra={"dataset_id": existing.id})
    return existing


def ingest(session: Session, settings: Settings, project_id: str, upload: StoredUpload, opts: IngestOptions) -> Dataset:
    """Parse, normalise and store every row, or nothing: the caller's transaction is rolled back on error."""
    lim = settings.upload
    stream, gzipped = open_payload(upload.path, lim.max_decompressed_bytes)
    with stream:
        container = sniff_container(stream, container_hint(upload.filename, upload.content_type))
        stats = IngestStats()
        dataset = Dataset(
            project_id=project_id, name=opts.name or upload.filename or f"upload-{upload.sha256[:8]}",
            format=opts.format or "", sha256=upload.sha256, size_bytes=upload.size, file_path=str(upload.path),
            idempotency_key=opts.idempotency_key,
        )
        session.add(dataset)
        session.flush()
        rows = normalise_records(iter_records(stream, container, lim.max_line_bytes, lim.max_json_array_bytes),
                                 opts.format, opts.field_map, opts.on_error, stats, lim.max_errors_reported, lim.max_rows)
        bulk_insert(session, dataset.id, rows, lim.insert_batch)
    dataset.rows = stats.rows
    dataset.format = stats.format or opts.format or ""
    dataset.ingest = {**stats.to_dict(lim.max_errors_reported), "container": container, "gzip": gzipped,
                      "on_error": opts.on_error, "field_map": dict(opts.field_map or {})}
    session.flush()
    return dataset


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
        batch.append((dataset_id, row["idx"], dump_json(row["conversation"]), row["original"],
                      dump_json(row["warnings"]) if row["warnings"] else None))
        if len(batch) >= batch_size:
            conn.exec_driver_sql(sql, batch)
            batch = []
    if batch:
        conn.exec_driver_sql(sql, batch)


def create_derived(session: Session, parent: Dataset, name: str, conversations: list[tuple[int, dict, str | None]],
                   lineage: dict[str, Any]) -> Dataset:
    """A dataset made from rows of another (curation): rows are re-indexed 0..n-1, the parent index kept in lineage."""
    parent_ingest = parent.ingest or {}
    ds = Dataset(project_id=parent.project_id, name=name, format=parent.format, sha256="", size_bytes=0,
                 parent_id=parent.id, lineage=lineage,
                 ingest={"derived": True, "field_map": parent_ingest.get("field_map", {}),
                         "container": "jsonl", "content": "sha256 and size_bytes of the rows as format=original exports them"})
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
    return [{"index": offset + k, "source_dataset_id": d, "source_index": i}
            for k, (d, i) in enumerate(sources[offset:offset + limit])], len(sources)


def get_dataset(session: Session, project_id: str, dataset_id: str) -> Dataset:
    ds = session.get(Dataset, dataset_id)
    if ds is None or ds.project_id != project_id:
        raise not_found("dataset", dataset_id)
    return ds


def list_datasets(session: Session, project_id: str, offset: int, limit: int) -> tuple[list[Dataset], int]:
    q = select(Dataset).where(Dataset.project_id == project_id)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    items = session.scalars(q.order_by(Dataset.created_at.desc(), Dataset.id).offset(offset).limit(limit)).all()
    return list(items), int(total)


def page_samples(session: Session, dataset_id: str, offset: int, limit: int) -> list[SampleRow]:
    q = (select(SampleRow).where(SampleRow.dataset_id == dataset_id, SampleRow.idx >= 0)
         .order_by(SampleRow.idx).offset(offset).limit(limit))
    return list(session.scalars(q))


def iter_samples(session: Session, dataset_id: str, batch: int = 5000) -> Iterator[SampleRow]:
    """Every row in index order, read in keyset-paginated batches (bounded memory)."""
    last = -1
    while True:
        rows = list(session.scalars(select(SampleRow).where(SampleRow.dataset_id == dataset_id, SampleRow.idx > last)
                                    .order_by(SampleRow.idx).limit(batch)))
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
        yield json.dumps(export_record(fmt, row.idx, row.conversation, original, source_format, field_map),
                         ensure_ascii=False) + "\n"


def original_line(row: SampleRow) -> str:
    """A row as uploaded: the JSONL line itself, or the record as JSON (JSON arrays, CSV, Parquet rows)."""
    return (row.original if row.original is not None else dump_json(row.conversation)) + "\n"


def delete_dataset(session: Session, ds: Dataset) -> None:
    session.execute(delete(SampleRow).where(SampleRow.dataset_id == ds.id))
    path = Path(ds.file_path) if ds.file_path else None
    session.delete(ds)
    session.flush()
    if path is not None and path.exists():
        others = session.scalar(select(func.count()).select_from(Dataset).where(Dataset.file_path == str(path)))
        if not others:
            path.unlink(missing_ok=True)
