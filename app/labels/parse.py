"""Label files → label rows: which sample (row index or content hash) and how good (a value in [0, 1]).

A label file is JSONL, a JSON array, CSV or Parquet (gzipped or not; read by :mod:`app.ingest.reader`).
Each row names its sample by ``index`` (the 0-based row of the dataset) or ``content_hash`` (see
:func:`content_hash`; both may be given, then they must agree) and carries exactly one value field:

* ``label``: ``good``/``bad``, ``keep``/``drop``, ``true``/``false`` (any case; JSON booleans too);
* ``rating``: an integer from 1 (worst) to 5 (best), stored as (r - 1) / 4;
* ``score``: a number in [0, 1] (1 = good) — what the label export writes.

Other columns are ignored (a CSV may carry the instruction for the person labelling).  A value that
is not one of these is an error that names the line and the field, never a guess: ``1`` alone could
be a bad rating or a perfect score.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.errors import RowError
from app.ingest.reader import Record
from app.jsonutil import dump_json

WORDS: dict[str, float] = {"good": 1.0, "bad": 0.0, "keep": 1.0, "drop": 0.0, "true": 1.0, "false": 0.0}
KEY_FIELDS = ("index", "content_hash")
VALUE_FIELDS = ("label", "rating", "score")


def content_hash(conversation: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a normalised conversation: the UTF-8 JSON of ``{"system": …, "turns": [{"role", "content"}, …]}``
    with sorted keys and no whitespace — the same sample gives the same hash in any upload and any format."""
    canonical = {
        "system": conversation.get("system"),
        "turns": [{"role": t["role"], "content": t["content"]} for t in conversation.get("turns", [])],
    }
    return hashlib.sha256(dump_json(_sorted(canonical)).encode("utf-8")).hexdigest()


def _sorted(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _sorted(obj[k]) for k in sorted(obj)}
    if isinstance(obj, list):
        return [_sorted(v) for v in obj]
    return obj


@dataclass(frozen=True)
class LabelValue:
    value: float
    raw: str | None  # the label as given when it was not a 0–1 score


def label_value(field: str, given: Any) -> LabelValue:
    """The [0, 1] value of one label field; :class:`ValueError` with the reason otherwise."""
    if field == "label":
        if isinstance(given, bool):
            return LabelValue(1.0 if given else 0.0, str(given).lower())
        word = str(given).strip().lower() if isinstance(given, str) else None
        if word in WORDS:
            return LabelValue(WORDS[word], word)
        raise ValueError(
            f"{given!r} is not a label: use good/bad, keep/drop or true/false "
            "(a 1–5 rating goes in 'rating', a 0–1 score in 'score')"
        )
    number = _number(given)
    if field == "rating":
        if number is None or number != int(number) or not 1 <= number <= 5:
            raise ValueError(f"{given!r} is not a rating: use an integer from 1 (worst) to 5 (best)")
        return LabelValue((int(number) - 1) / 4, str(int(number)))
    if field == "score":
        if number is None or not 0 <= number <= 1:
            raise ValueError(f"{given!r} is not a score: use a number from 0 (bad) to 1 (good)")
        return LabelValue(float(number), None)
    raise ValueError(f"unknown label field {field!r}")  # pragma: no cover - callers pass VALUE_FIELDS


def _number(given: Any) -> float | None:
    if isinstance(given, bool):
        return None
    if isinstance(given, (int, float)):
        number = float(given)
    elif isinstance(given, str):
        try:
            number = float(given.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class LabelRow:
    line: int | None
    index: int | None
    content_hash: str | None
    value: float
    raw: str | None


def _present(data: Mapping[str, Any], name: str) -> bool:
    v = data.get(name)
    return v is not None and not (isinstance(v, str) and not v.strip())


def label_row(rec: Record) -> LabelRow:
    """One record of a label file → :class:`LabelRow`; a :class:`RowError` (raised) says what is wrong and where."""
    if rec.error is not None:
        raise _Bad(rec.error)
    data = rec.data or {}
    keys = [k for k in KEY_FIELDS if _present(data, k)]
    if not keys:
        raise _Bad(
            RowError("no sample key: give 'index' (0-based row) or 'content_hash'", line=rec.line, index=rec.index)
        )
    fields = [f for f in VALUE_FIELDS if _present(data, f)]
    if len(fields) != 1:
        reason = (
            "no label: give one of 'label' (good/bad, keep/drop, true/false), 'rating' (1–5) or 'score' (0–1)"
            if not fields
            else f"give one label field, not {' and '.join(fields)}"
        )
        raise _Bad(RowError(reason, line=rec.line, index=rec.index))
    index = None
    if "index" in keys:
        n = _number(data["index"])
        if n is None or n != int(n) or n < 0:
            raise _Bad(RowError(f"{data['index']!r} is not a row index (an integer ≥ 0)", line=rec.line, field="index"))
        index = int(n)
    digest = None
    if "content_hash" in keys:
        digest = str(data["content_hash"]).strip().lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise _Bad(
                RowError(
                    "not a content hash (64 hex digits, as the samples endpoint gives it)",
                    line=rec.line,
                    field="content_hash",
                )
            )
    try:
        lv = label_value(fields[0], data[fields[0]])
    except ValueError as e:
        raise _Bad(RowError(str(e), line=rec.line, field=fields[0])) from None
    return LabelRow(rec.line, index, digest, lv.value, lv.raw)


class _Bad(Exception):
    def __init__(self, error: RowError):
        super().__init__(error.reason)
        self.error = error


def label_rows(records: Iterable[Record], max_rows: int, max_errors: int) -> tuple[list[LabelRow], list[RowError]]:
    """Every row of a label file, and the errors (at most ``max_errors``; reading stops there)."""
    rows: list[LabelRow] = []
    errors: list[RowError] = []
    for rec in records:
        try:
            rows.append(label_row(rec))
        except _Bad as bad:
            errors.append(bad.error)
            if len(errors) >= max_errors:
                break
        if len(rows) > max_rows:
            errors.append(RowError(f"more than {max_rows} labels in one file", line=rec.line))
            break
    return rows, errors
