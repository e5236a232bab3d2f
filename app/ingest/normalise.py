"""Records → normalised conversations, with the per-row error policy and text sanitising."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from app.errors import AppError, RowError
from app.ingest.formats import FORMATS, NORMALISERS, FieldError, detect_format
from app.ingest.reader import Record
from app.jsonutil import dump_json

OnError = Literal["reject", "skip"]
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass
class IngestStats:
    format: str = ""
    rows: int = 0
    skipped: int = 0
    sanitised: int = 0
    errors: list[RowError] = field(default_factory=list)

    def to_dict(self, max_errors: int) -> dict[str, Any]:
        return {
            "format": self.format,
            "rows": self.rows,
            "skipped": self.skipped,
            "sanitised": self.sanitised,
            "skipped_rows": [e.to_dict() for e in self.errors[:max_errors]],
        }


def _turn(role: str, content: str, loss_weight: float | None = None) -> dict[str, Any]:
    """One stored turn; ``loss_weight`` only where the upload gave one (LLaMA-Factory's per-message weight)."""
    return (
        {"role": role, "content": content}
        if loss_weight is None
        else {"role": role, "content": content, "loss_weight": loss_weight}
    )


def sanitise(value: Any, warnings: set[str]) -> Any:
    """Remove NUL characters and replace lone surrogates (both break databases and tokenizers)."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
            warnings.add("nul_removed")
        if _SURROGATE.search(value):
            value = _SURROGATE.sub("\ufffd", value)
            warnings.add("surrogate_replaced")
        return value
    if isinstance(value, dict):
        return {sanitise(k, warnings): sanitise(v, warnings) for k, v in value.items()}
    if isinstance(value, list):
        return [sanitise(v, warnings) for v in value]
    return value


def normalise_records(
    records: Iterable[Record],
    fmt: str | None,
    field_map: Mapping[str, str] | None,
    on_error: OnError,
    stats: IngestStats,
    max_errors: int,
    max_rows: int,
) -> Iterator[dict[str, Any]]:
    """Yield rows for the ``samples`` table; raise 422 with the first errors when policy is reject."""
    fm = dict(field_map or {})
    if fmt is not None and fmt not in FORMATS:
        raise AppError(422, "unknown_format", f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    normaliser = NORMALISERS[fmt] if fmt else None
    position = 0
    for rec in records:
        err = rec.error
        row = None
        if err is None:
            assert rec.data is not None
            if normaliser is None:
                detected = detect_format(rec.data, fm)
                if detected is None:
                    keys = ", ".join(sorted(map(str, rec.data))[:12]) or "none"
                    raise AppError(
                        422,
                        "unknown_format",
                        "could not recognise the format from the first row's fields "
                        f"({keys}); pass format= (one of {', '.join(FORMATS)}) and field_map=",
                        [RowError("unrecognised fields", line=rec.line, index=rec.index)],
                    )
                stats.format, normaliser = detected, NORMALISERS[detected]
            warnings: set[str] = set()
            data = sanitise(rec.data, warnings) if rec.needs_sanitise else rec.data
            try:
                system, turns = normaliser(data, fm)
            except FieldError as e:
                err = RowError(e.reason, line=rec.line, index=rec.index, field=e.field)
            else:
                if warnings:
                    stats.sanitised += 1
                row = {
                    "idx": rec.index,
                    "conversation": {"system": system, "turns": [_turn(*t) for t in turns]},
                    "original": rec.raw if rec.raw is not None and not warnings else dump_json(data),
                    "warnings": sorted(warnings) or None,
                }
        if err is not None:
            if err.index is None:
                err.index = rec.index
            stats.errors.append(err)
            if on_error == "reject" and len(stats.errors) >= max_errors:
                break
            stats.skipped += 1
            continue
        if on_error == "reject" and stats.errors:
            continue  # keep scanning for more errors to report, store nothing
        position += 1
        if position > max_rows:
            raise AppError(
                413, "too_many_rows", f"the dataset has more than {max_rows} rows", extra={"limit_rows": max_rows}
            )
        stats.rows += 1
        yield row  # type: ignore[misc]
    if stats.errors and on_error == "reject":
        first = stats.errors[0]
        where = f"line {first.line}" if first.line is not None else f"row {first.index}"
        raise AppError(
            422,
            "invalid_rows",
            f"{len(stats.errors)}{'+' if len(stats.errors) >= max_errors else ''} row(s) are invalid "
            f"(first at {where}: {first.field + ' ' if first.field else ''}{first.reason}); "
            "fix them or upload with on_error=skip",
            stats.errors[:max_errors],
        )
    if stats.rows == 0:
        raise AppError(
            422,
            "empty_file" if not stats.errors else "no_valid_rows",
            "the file contains no rows" if not stats.errors else "no row could be read",
            stats.errors[:max_errors],
        )
    if normaliser is not None and not stats.format:
        stats.format = fmt or ""
