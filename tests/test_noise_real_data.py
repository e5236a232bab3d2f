"""The noise family on real rows of the original Alpaca (skipped without ../shared/data)."""

import json

import pytest

from bench._data import to_sample
from scorers import run_audit

pytestmark = pytest.mark.shared_data


def test_alpaca_known_defects_are_found_and_clean_rows_stay_clean(shared_data) -> None:
    rows = json.loads((shared_data / "stanford_alpaca" / "alpaca_data.json").read_text())[:10000]
    samples = [to_sample(i, r) for i, r in enumerate(rows)]
    out = run_audit(samples, scorers=["junk_answer", "broken_answer", "text_damage"])
    codes = [{f["code"] for f in rec["flags"]} for rec in out.samples]
    empty = [i for i, r in enumerate(rows) if not r["output"].strip()]
    nooutput = [i for i, r in enumerate(rows) if r["output"].strip().lower() == "<nooutput>"]
    noinput = [i for i, r in enumerate(rows) if r["input"].strip().lower() in ("<noinput>", "no input")]
    assert empty and nooutput and noinput
    assert all("empty_answer" in codes[i] for i in empty)
    assert all("placeholder_answer" in codes[i] for i in nooutput)
    assert all("placeholder_input" in codes[i] for i in noinput)
    flagged = sum(1 for c in codes if c)
    assert flagged < 0.06 * len(rows), f"{flagged} of {len(rows)} rows flagged"
