"""The one-shot CLI audit's closing summary: a flag table that never hides an error or warning code, says how
many codes it left out, and no transformers "Loading weights" bars under the progress bar."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from paths import ROOT
from rich.console import Console

from app.cli import FLAG_TABLE_INFO_ROWS, _summary, flag_table_rows


def _flag(code: str, severity: str) -> dict:
    return {"code": code, "dimension": "noise", "severity": severity, "reason": "r", "related": []}


def _samples() -> list[dict]:
    """20 info codes on many rows each; 3 error and 2 warning codes on one row each (the ones a top-15 hid)."""
    recs = [{"index": i, "scores": {}, "flags": []} for i in range(200)]
    for c in range(20):
        for i in range(50 + c):
            recs[i]["flags"].append(_flag(f"info_code_{c:02d}", "info"))
    for j, code in enumerate(("refusal", "arithmetic_error", "code_does_not_parse")):
        recs[100 + j]["flags"].append(_flag(code, "error"))
    for j, code in enumerate(("truncated_answer", "wrong_language")):
        recs[110 + j]["flags"] += [_flag(code, "warning"), _flag(code, "warning")]
    return recs


def test_every_error_and_warning_code_is_listed_first_with_a_count_of_the_rest() -> None:
    rows, more = flag_table_rows(_samples())
    codes = [r[0] for r in rows]
    assert codes[:3] == ["arithmetic_error", "code_does_not_parse", "refusal"]
    assert codes[3:5] == ["truncated_answer", "wrong_language"]
    assert [r[1] for r in rows[:5]] == ["error"] * 3 + ["warning"] * 2
    assert rows[3][2:] == (1, 2)  # one sample, two flags
    assert codes[5:] == [f"info_code_{c:02d}" for c in range(19, 19 - FLAG_TABLE_INFO_ROWS, -1)]  # most samples first
    assert more == 20 - FLAG_TABLE_INFO_ROWS


def test_summary_prints_the_severity_column_and_and_n_more(tmp_path) -> None:
    console = Console(record=True, width=140)
    report = {"dataset": {"rows": 200}, "dimensions": {"noise": {"score": 0.9, "status": "ok"}}, "scorers": []}
    _summary(console, report, _samples(), 1.0, tmp_path)
    text = console.export_text()
    assert "severity" in text and "refusal" in text and "code_does_not_parse" in text
    assert f"and {20 - FLAG_TABLE_INFO_ROWS} more (info)" in text
    assert (tmp_path / "report.html").resolve().as_uri() in text


def test_cli_audit_hides_model_loading_bars_and_prints_the_report_url(tmp_path) -> None:
    rows = [
        {"instruction": f"Name fruit number {i}.", "input": "", "output": f"Fruit {i} is an apple."} for i in range(6)
    ]
    src = tmp_path / "d.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows))
    out_dir = tmp_path / "out"
    env = {**os.environ, "SFTAUDIT_STORAGE__DATA_DIR": str(tmp_path / "data")}
    env.pop("HF_HUB_DISABLE_PROGRESS_BARS", None)
    res = subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", str(src), "--out", str(out_dir), "--scorers", "semantic_duplicate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads((out_dir / "report.json").read_text())
    assert report["scorers"][0]["status"] == "ok"  # the encoder did load
    assert "Loading weights" not in res.stderr
    assert "assembling report" in res.stderr and "ETA 0 s" in res.stderr  # the progress line's last state
    assert f"open in a browser: {(out_dir / 'report.html').resolve().as_uri()}" in res.stderr.replace("\n", "")
