"""Answer-quality checks on real public data (skipped when ../shared/data is absent)."""

from __future__ import annotations

import json

import pytest

from scorers.quality_checks import check_accuracy

pytestmark = pytest.mark.shared_data


def test_altered_gsm8k_final_answers_are_detected(shared_data) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench._quality_data import alter_final_answers

    rows = json.loads((shared_data / "gsm8k_alpaca_format/gsm_8k_train.json").read_text())[:800]
    altered = alter_final_answers(rows, seed=1)
    changed = [i for i in range(len(rows)) if rows[i]["output"] != altered[i]["output"]]
    assert len(changed) >= 790
    detected = sum(bool(check_accuracy(altered[i]["instruction"], altered[i]["output"]).flags) for i in changed)
    originals = sum(bool(check_accuracy(r["instruction"], r["output"]).flags) for r in rows)
    assert detected / len(changed) >= 0.85
    assert originals / len(rows) <= 0.05  # GSM8K's own slips plus false alarms


def test_wrong_alpaca_maths_is_caught(shared_data) -> None:
    rows = json.loads((shared_data / "stanford_alpaca/alpaca_data.json").read_text())
    row = next(r for r in rows if r["instruction"] == "Calculate the answer to the following equation: 8*(2+3)")
    f = check_accuracy(row["instruction"], row["output"])
    assert row["output"].strip() == "64" and [x.code for x in f.flags] == ["wrong_result"]
    right = next(r for r in rows if r["instruction"] == "Find the answer to this equation: 8 + 2 x 3")
    assert check_accuracy(right["instruction"], right["output"]).flags == []
