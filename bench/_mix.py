"""A mixed SFT file of any size from the real rows in the shared data (the size sweep's input).

The mix is the one the issue's 84k-row file had: Alpaca 52k, Chinese Alpaca (10k), GSM8K, Code Alpaca,
toolformer, Dolly, BELLE (eval set + dev 1k) and LIMA — 85,211 real rows.  Every source keeps its share at
every size:

* **up to 85,211 rows**: a seeded random subset of each source (its share of the size), in file order;
* **beyond that**: every real row, plus rows made distinct by **recombining two real rows of the same source**:
  the instruction is row a's user turn, a blank line and row b's user turn; the answer is row a's answer, a blank
  line and row b's answer.  So the answer still answers the question (both parts of it), the language and the
  template of the source are kept, and no row is a plain copy: pair (a, b) in round r is (perm[i], perm[i + r]) of a
  seeded permutation of the source, so no pair repeats until a source has been paired with every offset.

Rows are written as alpaca JSONL (``instruction`` / ``input`` / ``output``, LIMA's ``history`` kept on real rows).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from bench._data import alpaca_row
from bench._load import DATA

SOURCES: tuple[tuple[str, str], ...] = (
    ("alpaca", "stanford_alpaca/alpaca_data.json"),
    ("zh_alpaca", "alpaca_chinese_carbonz0/zh-data-part-00.json"),
    ("gsm8k", "gsm8k_alpaca_format/gsm_8k_train.json"),
    ("code_alpaca", "codealpaca/code_alpaca_2k.json"),
    ("toolformer", "gpteacher_toolformer/toolformer-dedupe-only-dataset.json"),
    ("dolly", "alpagasus/dolly_3k.json"),
    ("belle_eval", "belle/eval_set.json"),
    ("belle_dev", "belle/dev1K.json"),
    ("lima", "llama_factory/lima.json"),
)


def _read(rel: str) -> list[dict[str, Any]]:
    text = (DATA / rel).read_text(encoding="utf-8")
    rows = json.loads(text) if text.lstrip().startswith("[") else [json.loads(x) for x in text.splitlines() if x]
    out = []
    for row in rows:
        r = alpaca_row(row)
        rec = {"instruction": r["instruction"], "input": r["input"], "output": str(r["output"])}
        if row.get("history"):
            rec["history"] = row["history"]
        out.append(rec)
    return out


def _user(r: dict[str, Any]) -> str:
    return r["instruction"] + ("\n\n" + r["input"] if r["input"] else "")


def _recombined(rows: list[dict[str, Any]], count: int, seed: int) -> list[dict[str, Any]]:
    perm = list(range(len(rows)))
    random.Random(seed).shuffle(perm)
    n, out, r = len(perm), [], 1
    while len(out) < count:
        for i in range(n):
            if len(out) == count:
                break
            a, b = rows[perm[i]], rows[perm[(i + r) % n]]
            out.append(
                {"instruction": _user(a) + "\n\n" + _user(b), "input": "", "output": a["output"] + "\n\n" + b["output"]}
            )
        r += 1
    return out


def mixed_rows(size: int, seed: int = 0) -> list[dict[str, Any]]:
    data = {key: _read(rel) for key, rel in SOURCES}
    total = sum(len(v) for v in data.values())
    keys = [k for k, _ in SOURCES]
    want = {k: round(size * len(data[k]) / total) for k in keys}
    want["alpaca"] += size - sum(want.values())  # rounding lands on the largest source
    out: list[dict[str, Any]] = []
    for j, k in enumerate(keys):
        rows, n = data[k], want[k]
        if n <= len(rows):
            keep = sorted(random.Random(seed * 1000 + j).sample(range(len(rows)), n))
            out += [rows[i] for i in keep]
        else:
            out += rows + _recombined(rows, n - len(rows), seed * 1000 + j)
    return out


def mixed_file(size: int, directory: Path, seed: int = 0) -> Path:
    """The mixed file of ``size`` rows in ``directory`` (written once; the content depends only on size and seed)."""
    path = directory / f"mix-{size}-s{seed}.jsonl"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for rec in mixed_rows(size, seed):
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        tmp.rename(path)
    return path
