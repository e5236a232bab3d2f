"""Tiny loaders for the shared datasets (bench scripts only; the service has its own ingest)."""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scorers.samples import Sample, Turn  # noqa: E402

DATA = Path(os.environ.get("SFTAUDIT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
if not DATA.is_dir():
    DATA = Path("/work/shared/data")


def _rows(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def alpaca_sample(i: int, row: dict) -> Sample:
    """instruction (+ "\\n\\n" + input) → user turn; output (or response) → assistant turn."""
    ins = row.get("instruction", "")
    if row.get("input"):
        ins = f"{ins}\n\n{row['input']}"
    out = row.get("output", row.get("response", ""))
    return Sample(index=i, turns=(Turn("user", ins), Turn("assistant", str(out))), meta={"original": row})


def sharegpt_sample(i: int, row: dict) -> Sample:
    role = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant"}
    turns = tuple(Turn(role.get(t["from"], "user"), t["value"]) for t in row["conversations"])
    return Sample(index=i, turns=turns, meta={"original": row})


def load(rel: str, limit: int | None = None, seed: int = 0) -> list[Sample]:
    """Samples of a shared dataset; ``limit`` takes a seeded random subset (indices keep file order)."""
    rows = _rows(DATA / rel)
    if limit is not None and limit < len(rows):
        keep = sorted(random.Random(seed).sample(range(len(rows)), limit))
        rows_i = [(i, rows[i]) for i in keep]
    else:
        rows_i = list(enumerate(rows))
    out = []
    for i, r in rows_i:
        if "conversations" in r:
            out.append(sharegpt_sample(i, r))
        elif "question" in r:
            out.append(
                Sample(
                    index=i,
                    turns=(Turn("user", r["question"]), Turn("assistant", r["std_answer"])),
                    meta={"original": r},
                )
            )
        else:
            out.append(alpaca_sample(i, r))
    return out
