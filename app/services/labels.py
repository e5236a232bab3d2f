"""Quality labels of a dataset's samples: import a label file, set one from the sample browser, store the
judge's, read them for an audit, export them.

One label per sample (primary key: dataset, row index), so labels outlive every audit of the dataset.
A person's label (``upload``, ``browser``) replaces any earlier label; a ``judge`` label fills only
samples no person labelled, so a re-audit never overwrites a person's verdict with a bought one.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.db.models import Dataset, Label, SampleRow, utcnow
from app.errors import AppError, RowError, not_found
from app.ingest.reader import container_hint, iter_records, open_payload, sniff_container
from app.labels.parse import LabelRow, content_hash, label_rows
from app.services.datasets import StoredUpload, iter_samples
from app.settings import Settings

SOURCES = ("upload", "browser", "judge")
PEOPLE = ("upload", "browser")
EXPORT_FORMATS = ("jsonl", "csv")
EXPORT_FIELDS = ("index", "content_hash", "score", "source", "raw", "created_at", "updated_at")
_CHUNK = 900  # ids per IN (...) list: under SQLite's variable limit


@dataclass
class LabelWrite:
    index: int
    value: float
    raw: str | None
    source: str


# --- reading -------------------------------------------------------------------------------------------
def dataset_labels(session: Session, dataset_id: str) -> dict[int, float]:
    """Every label of a dataset as ``{row index: value}`` — what an audit hands to the learned ranker."""
    rows = session.execute(select(Label.idx, Label.value).where(Label.dataset_id == dataset_id).order_by(Label.idx))
    return {int(i): float(v) for i, v in rows}


def page_labels(
    session: Session, dataset_id: str, offset: int, limit: int, source: str | None = None
) -> tuple[list[Label], int, dict[str, int]]:
    """A page of labels in row order, the total matching, and the count per source (whole dataset)."""
    if source is not None and source not in SOURCES:
        raise AppError(422, "invalid_source", f"unknown label source {source!r}; known: {', '.join(SOURCES)}")
    conds = [Label.dataset_id == dataset_id] + ([Label.source == source] if source else [])
    total = int(session.scalar(select(func.count()).select_from(Label).where(*conds)) or 0)
    items = list(session.scalars(select(Label).where(*conds).order_by(Label.idx).offset(offset).limit(limit)))
    return items, total, counts_by_source(session, dataset_id)


def get_label(session: Session, dataset_id: str, index: int) -> Label | None:
    return session.get(Label, (dataset_id, index))


# --- writing -------------------------------------------------------------------------------------------
def _existing(session: Session, dataset_id: str, indices: Sequence[int]) -> dict[int, Label]:
    out: dict[int, Label] = {}
    ordered = sorted(set(indices))
    for k in range(0, len(ordered), _CHUNK):
        for lab in session.scalars(
            select(Label).where(Label.dataset_id == dataset_id, Label.idx.in_(ordered[k : k + _CHUNK]))
        ):
            out[lab.idx] = lab
    return out


def _write(session: Session, dataset: Dataset, writes: Sequence[LabelWrite], *, keep_people: bool) -> tuple[int, int]:
    """Insert or replace labels (one upsert, so two writes racing for a sample cannot fail); returns
    (created, updated).  ``keep_people``: leave people's labels alone (judge labels)."""
    have = _existing(session, dataset.id, [w.index for w in writes])
    created = sum(w.index not in have for w in writes)
    updated = sum(w.index in have and not (keep_people and have[w.index].source in PEOPLE) for w in writes)
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    now = utcnow()
    rows = [
        {
            "dataset_id": dataset.id,
            "idx": w.index,
            "project_id": dataset.project_id,
            "value": w.value,
            "raw": w.raw,
            "source": w.source,
            "created_at": now,
            "updated_at": now,
        }
        for w in writes
    ]
    for k in range(0, len(rows), _CHUNK):
        stmt = insert(Label).values(rows[k : k + _CHUNK])
        stmt = stmt.on_conflict_do_update(
            index_elements=["dataset_id", "idx"],
            set_={
                "value": stmt.excluded.value,
                "raw": stmt.excluded.raw,
                "source": stmt.excluded.source,
                "updated_at": stmt.excluded.updated_at,
            },
            where=Label.source.not_in(PEOPLE) if keep_people else None,
        )
        session.execute(stmt)
    session.expire_all()  # the identity map still holds the rows as they were before the upsert
    return created, updated


def _check_rows(session: Session, dataset: Dataset, indices: Iterable[int]) -> set[int]:
    """The indices that are not rows of the dataset."""
    wanted = sorted(set(indices))
    found: set[int] = set()
    for k in range(0, len(wanted), _CHUNK):
        found.update(
            session.scalars(
                select(SampleRow.idx).where(
                    SampleRow.dataset_id == dataset.id, SampleRow.idx.in_(wanted[k : k + _CHUNK])
                )
            )
        )
    return set(wanted) - found


def set_label(
    session: Session, dataset: Dataset, index: int, value: float, raw: str | None, source: str = "browser"
) -> tuple[Label, dict[str, Any] | None]:
    """Label one sample (the sample browser); returns the label and the one it replaced (for undo)."""
    if source not in SOURCES:
        raise AppError(422, "invalid_source", f"unknown label source {source!r}; known: {', '.join(SOURCES)}")
    if _check_rows(session, dataset, [index]):
        raise not_found("sample", str(index))
    before = get_label(session, dataset.id, index)
    previous = label_dict(before) if before is not None else None
    _write(session, dataset, [LabelWrite(index, value, raw, source)], keep_people=False)
    label = get_label(session, dataset.id, index)
    assert label is not None
    return label, previous


def delete_label(session: Session, dataset: Dataset, index: int) -> None:
    res = session.execute(
        delete(Label)
        .where(Label.dataset_id == dataset.id, Label.idx == index)
        .execution_options(synchronize_session=False)
    )
    if not res.rowcount:
        raise not_found("label of sample", str(index))


LEARNED_RANKER = "learned_quality"


def judge_labels_of(report: dict[str, Any]) -> list[list[Any]]:
    """``[index, value]`` pairs the learned ranker bought from the LLM judge during an audit (its summary's
    ``judge_labels``); empty when it did not run or bought none."""
    figures = report.get("dimensions", {}).get("answer_quality", {}).get("figures", {})
    summary = figures.get(LEARNED_RANKER) or {}
    return [list(p) for p in summary.get("judge_labels") or []]


def store_judge_labels(session: Session, dataset_id: str, pairs: Iterable[Sequence[Any]]) -> tuple[int, int]:
    """Labels the LLM judge produced during an audit (``[index, value]``): kept so that a re-audit does not buy
    them again; a sample a person labelled keeps the person's label.  Returns (created, updated)."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise not_found("dataset", dataset_id)
    writes: dict[int, LabelWrite] = {}
    for pair in pairs:
        index, value = int(pair[0]), float(pair[1])
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"judge label {value!r} of sample {index} is outside [0, 1]")
        writes[index] = LabelWrite(index, value, None, "judge")
    unknown = _check_rows(session, dataset, writes)
    if unknown:
        raise ValueError(f"judge labels for rows the dataset does not have: {sorted(unknown)[:5]}")
    return _write(session, dataset, list(writes.values()), keep_people=True)


# --- label files ---------------------------------------------------------------------------------------
def import_labels(session: Session, settings: Settings, dataset: Dataset, upload: StoredUpload) -> dict[str, Any]:
    """Read a label file and store every label as source ``upload``, or none: any bad row → 422 naming its line."""
    lim = settings.upload
    stream, _ = open_payload(upload.path, lim.max_decompressed_bytes)
    with stream:
        container = sniff_container(stream, container_hint(upload.filename, upload.content_type))
        if container == "txt":
            raise AppError(
                422,
                "unknown_label_format",
                "a label file is JSONL, a JSON array, CSV or Parquet "
                "with 'index' or 'content_hash' and one of 'label', 'rating', 'score'",
            )
        rows, errors = label_rows(
            iter_records(stream, container, lim.max_line_bytes, lim.max_json_array_bytes),
            lim.max_rows,
            lim.max_errors_reported,
        )
    if not errors:
        writes, errors = _resolve(session, dataset, rows, lim.max_errors_reported)
    if errors:
        first = errors[0]
        where = f"line {first.line}" if first.line is not None else f"row {first.index}"
        raise AppError(
            422,
            "invalid_labels",
            f"{len(errors)} label row(s) are invalid (first at {where}: "
            f"{first.field + ' ' if first.field else ''}{first.reason}); nothing was stored",
            errors,
        )
    if not rows:
        raise AppError(422, "empty_file", "the label file has no rows")
    created, updated = _write(session, dataset, writes, keep_people=False)
    return {
        "rows": len(rows),
        "samples_labelled": len(writes),
        "created": created,
        "updated": updated,
        "by_key": {"index": sum(r.index is not None for r in rows), "content_hash": sum(r.index is None for r in rows)},
    }


def _hash_index(session: Session, dataset_id: str) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for row in iter_samples(session, dataset_id):
        out.setdefault(content_hash(row.conversation), []).append(row.idx)
    return out


def _resolve(
    session: Session, dataset: Dataset, rows: Sequence[LabelRow], max_errors: int
) -> tuple[list[LabelWrite], list[RowError]]:
    """Label rows → one write per sample.  A hash labels every row with that content (exact duplicates alike)."""
    errors: list[RowError] = []
    missing = _check_rows(session, dataset, [r.index for r in rows if r.index is not None])
    hashes = _hash_index(session, dataset.id) if any(r.content_hash for r in rows) else {}
    by_hash: dict[int, str] = {i: h for h, idx in hashes.items() for i in idx} if hashes else {}
    first_line: dict[int, int | None] = {}
    writes: list[LabelWrite] = []
    for r in rows:
        if r.index is not None and r.index in missing:
            errors.append(
                RowError(f"the dataset has no row {r.index} ({dataset.rows} rows)", line=r.line, field="index")
            )
            continue
        if r.index is not None:
            if r.content_hash and by_hash.get(r.index) != r.content_hash:
                errors.append(
                    RowError(
                        f"content_hash does not match row {r.index} (was the file made for another "
                        "upload? drop the index to key by content)",
                        line=r.line,
                        field="content_hash",
                    )
                )
                continue
            targets = [r.index]
        else:
            targets = hashes.get(r.content_hash or "", [])
            if not targets:
                errors.append(
                    RowError("no sample of this dataset has this content hash", line=r.line, field="content_hash")
                )
                continue
        for i in targets:
            if i in first_line:
                seen = first_line[i]
                errors.append(
                    RowError(
                        f"row {i} is labelled twice (first on line {seen})"
                        if seen is not None
                        else f"row {i} is labelled twice",
                        line=r.line,
                    )
                )
                break
            first_line[i] = r.line
            writes.append(LabelWrite(i, r.value, r.raw, "upload"))
        if len(errors) >= max_errors:
            break
    return writes, errors


# --- export --------------------------------------------------------------------------------------------
def label_dict(lab: Label) -> dict[str, Any]:
    return {
        "index": lab.idx,
        "value": lab.value,
        "source": lab.source,
        "raw": lab.raw,
        "created_at": lab.created_at.isoformat(),
        "updated_at": lab.updated_at.isoformat(),
    }


def export_lines(session: Session, dataset_id: str, fmt: str) -> Iterator[str]:
    """Every label with its sample's content hash; the file can be uploaded again (to this or another upload)."""
    if fmt not in EXPORT_FORMATS:
        raise AppError(
            422, "unknown_format", f"unknown label export format {fmt!r}; known: {', '.join(EXPORT_FORMATS)}"
        )
    labels = {lab.idx: lab for lab in session.scalars(select(Label).where(Label.dataset_id == dataset_id))}
    if fmt == "csv":
        yield _csv_line(EXPORT_FIELDS)
    if not labels:
        return
    for row in iter_samples(session, dataset_id):
        lab = labels.get(row.idx)
        if lab is None:
            continue
        rec = {
            "index": lab.idx,
            "content_hash": content_hash(row.conversation),
            "score": lab.value,
            "source": lab.source,
            "raw": lab.raw,
            "created_at": lab.created_at.isoformat(),
            "updated_at": lab.updated_at.isoformat(),
        }
        yield _csv_line([rec[k] for k in EXPORT_FIELDS]) if fmt == "csv" else json.dumps(rec, ensure_ascii=False) + "\n"


def _csv_line(values: Iterable[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(["" if v is None else v for v in values])
    return buf.getvalue()


def counts_by_source(session: Session, dataset_id: str) -> dict[str, int]:
    found = Counter(
        dict(
            session.execute(
                select(Label.source, func.count()).where(Label.dataset_id == dataset_id).group_by(Label.source)
            ).all()
        )
    )
    return {s: int(found.get(s, 0)) for s in SOURCES}
