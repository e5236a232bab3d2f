"""A tiny loader for the bench scripts: alpaca-style JSON / JSONL rows → :class:`~scorers.samples.Sample`.

The ingest layer is the real loader; this one exists so benchmarks can run on the shared datasets now.
The user turn is ``instruction + "\\n\\n" + input`` when the input is non-empty (as the ingest layer
normalises alpaca rows); the original record is kept in ``meta["original"]``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from scorers.samples import Sample, Turn

ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    return Path(os.environ.get("SFTAUDIT_SHARED_DATA", ROOT.parent / "shared" / "data"))


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    p = Path(path)
    if not p.is_absolute():
        p = shared_data_dir() / p
    text = p.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def alpaca_row(row: dict[str, Any]) -> dict[str, Any]:
    """Map the alpaca-like variants here (``response``, BELLE's ``question``/``std_answer``) to instruction/input/output."""
    ins = row.get("instruction", row.get("question", ""))
    out = row.get("output", row.get("response", row.get("std_answer", "")))
    if isinstance(out, list):  # ranked outputs: the first is the preferred one
        out = out[0] if out else ""
    return {**row, "instruction": ins or "", "input": row.get("input") or "", "output": out or ""}


def to_sample(index: int, row: dict[str, Any]) -> Sample:
    r = alpaca_row(row)
    user = r["instruction"] + ("\n\n" + r["input"] if r["input"] else "")
    turns: list[Turn] = []
    for q, a in row.get("history") or []:
        turns += [Turn("user", q), Turn("assistant", a)]
    turns += [Turn("user", user), Turn("assistant", r["output"])]
    return Sample(index=index, turns=tuple(turns), system=row.get("system") or None, meta={"original": r})


def load(path: str | Path, limit: int | None = None) -> list[Sample]:
    rows = read_rows(path)[:limit]
    return [to_sample(i, r) for i, r in enumerate(rows)]
