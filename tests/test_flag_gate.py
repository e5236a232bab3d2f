"""The flag table and the precision gate (issue #12)."""

from __future__ import annotations

import pytest

from scorers import flags as table
from scorers.base import Flag, ScorerResult, registry
from scorers.pipeline import gate as gate_result
from scorers.samples import sample


def test_every_code_names_a_registered_scorer_of_its_dimension() -> None:
    reg = registry()
    for code, f in table.FLAG_CODES.items():
        assert f.code == code
        assert f.scorer in reg, f"{code}: unknown scorer {f.scorer}"
        assert reg[f.scorer].dimension == f.dimension, code
        assert f.ceiling in ("error", "warning", "info", "off")
        assert f.meaning and (f.kind not in ("duplicate", "conflict", "reference", "mismatch") or f.related)


def test_aliases_map_old_codes_to_one_code() -> None:
    assert table.canonical("answer_truncated") == "truncated_answer"
    assert table.canonical("repetitive") == "repetition"
    assert table.canonical("answer_missing") == "empty_answer"
    assert table.canonical("some_third_party_code") == "some_third_party_code"
    assert "near_duplicate" in table.codes_of_kind("duplicate") and "refusal" not in table.codes_of_kind("duplicate")


@pytest.mark.parametrize(
    ("right", "n", "allowed"),
    [
        (0, 0, "info"),  # never seen on the panel: not trusted beyond "worth a look"
        (9, 10, "error"),  # 10 to 29 verdicts: the point estimate decides
        (2, 2, "info"),  # fewer than 10: at most info, however right
        (9, 9, "info"),
        (8, 10, "info"),
        (5, 10, "off"),
        (29, 30, "error"),  # 30+ verdicts: the Wilson lower bound must reach 0.75 too
        (28, 30, "error"),
        (27, 30, "info"),  # 0.90, but the lower bound is 0.744
        (54, 60, "error"),
    ],
)
def test_ceiling_rule(right: int, n: int, allowed: str) -> None:
    assert table.ceiling_for(right, n) == allowed


def test_wilson_interval_is_sane() -> None:
    lo, hi = table.wilson_interval(27, 30)
    assert 0.73 < lo < 0.76 and 0.96 < hi < 0.98
    assert table.wilson_interval(0, 0) == (0.0, 1.0)


def test_gate_caps_holds_back_and_rescores(monkeypatch) -> None:
    codes = dict(table.FLAG_CODES)
    codes["refusal"] = table.FlagCode("refusal", "junk_answer", "noise", "defect", "m", "info")
    codes["repetition"] = table.FlagCode("repetition", "junk_answer", "noise", "defect", "m", "off")
    monkeypatch.setattr(table, "FLAG_CODES", codes)
    samples = [sample(0, "q", "a"), sample(1, "q", "a"), sample(2, "q", "a")]
    res = ScorerResult(
        scores=[0.0, 0.5, 1.0],
        flags=[[Flag("refusal", "noise", "error", "r")], [Flag("repetition", "noise", "warning", "r")], []],
        summary={"counts": {"refusal": 1, "repetition": 1}, "flagged_samples": 2, "examples": {}},
        scores_from_flags=True,
    )
    held = gate_result(res, samples)
    assert held == {"repetition": 1}
    assert [f.severity for f in res.flags[0]] == ["info"] and res.flags[1] == []
    assert res.scores == [0.9, 1.0, 1.0]  # the worst shown flag decides, as the scorer would have
    assert res.summary["counts"] == {"refusal": 1} and res.summary["held_back"] == {"repetition": 1}


def test_report_lists_code_precision_and_held_back_counts() -> None:
    from scorers.pipeline import run_audit

    rows = [sample(0, "Say hi.", ""), sample(1, "Say hi again.", "Hi!")]
    out = run_audit(rows, scorers=["junk_answer"])
    assert out.report["flags"] == {"empty_answer": 1}
    entry = out.report["flag_codes"]["empty_answer"]
    assert entry["kind"] == "defect" and entry["ceiling"] == table.FLAG_CODES["empty_answer"].ceiling
    assert "flags_held_back" in out.report


def test_scorer_listing_names_its_codes() -> None:
    info = registry()["broken_answer"].describe()
    assert {c["code"] for c in info["flag_codes"]} == {"truncated_answer", "merged_instructions"}


_RANK = {"off": 0, "info": 1, "warning": 2, "error": 3}


def test_every_code_is_raised_no_higher_than_its_measured_precision_allows() -> None:
    """The declared ceiling of each code agrees with its adjudicated precision (scorers/flag_precision.json):
    warning/error only at ≥ 0.90 (and a Wilson lower bound ≥ 0.75 from 30 verdicts), info from 0.60, and a code
    never read on the panel at most info."""
    measured = table.measured()["codes"]
    for code, f in table.FLAG_CODES.items():
        entry = measured.get(code)
        if entry is None:
            allowed = "info"  # no verdict yet: not trusted beyond "worth a look"
        else:
            p = entry["pooled"]
            allowed = table.ceiling_for(p["right"], p["verdicts"])
            assert p["allowed"] == allowed, (
                f"{code}: flag_precision.json is stale (bench/flag_precision.py table --write)"
            )
        assert _RANK[f.ceiling] <= _RANK[allowed if allowed != "error" else "error"], (
            f"{code} is declared {f.ceiling!r} but its measured precision allows at most {allowed!r}: "
            f"{entry and entry['pooled']}"
        )


def test_measured_counts_come_from_the_verdict_file() -> None:
    """Each dataset's verdict counts in flag_precision.json are the verdicts in bench/flag_verdicts.jsonl of the
    rows it sampled — nobody edits the figures by hand."""
    import json
    from collections import Counter

    from tests.paths import ROOT

    path = ROOT / "bench" / "flag_verdicts.jsonl"
    verdicts = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            v = json.loads(line)
            verdicts[(v["dataset"], int(v["row"]), table.canonical(v["code"]))] = v["verdict"]
    for code, entry in table.measured()["codes"].items():
        for ds, d in entry["datasets"].items():
            got = Counter(verdicts[(ds, r, code)] for r in d["rows_read"] if (ds, r, code) in verdicts)
            assert (got["right"], got["wrong"], got["debatable"]) == (d["right"], d["wrong"], d["debatable"]), (
                code,
                ds,
            )
