"""The report and curation read what a flag means from the flag table (scorers/flags.py), not from its name."""

from __future__ import annotations

from app.curation.policy import CurationPolicy
from app.curation.select import duplicate_groups, select
from app.reporting import view
from scorers import flags


def _rec(index: int, *flag_list: tuple[str, str, list[int]], score: float = 0.5) -> dict:
    return {
        "index": index,
        "scores": {"noise": score},
        "flags": [
            {"code": c, "dimension": d, "severity": "warning", "reason": c, "related": r} for c, d, r in flag_list
        ],
    }


def test_conflict_pairs_are_the_conflict_and_reference_kinds_only():
    samples = [
        _rec(0, ("inconsistent_answers", "consistency", [1])),
        _rec(1, ("inconsistent_answers", "consistency", [0])),
        # a consistency flag whose related rows are examples of the usual format: no disagreement
        _rec(2, ("format_inconsistent", "consistency", [3, 4])),
        _rec(3, ("contradicts_reference", "consistency", [7])),
        # a made-up code that only *names* a conflict is not one
        _rec(4, ("conflict_like_name", "consistency", [0])),
    ]
    out = view.conflicts(samples, {})
    pairs = {(p["left"]["index"], p["right"]["index"], p["reference"]) for p in out["shown"]}
    assert pairs == {(0, 1, False), (3, 7, True)}
    assert flags.spec("format_inconsistent").kind == "outlier"


def test_report_and_curation_build_the_same_duplicate_groups():
    samples = [
        _rec(0, ("exact_duplicate", "noise", [1])),
        _rec(1, ("exact_duplicate", "noise", [0]), ("near_duplicate", "noise", [2])),
        _rec(2, ("near_duplicate", "noise", [1])),
        _rec(3, ("semantic_duplicate", "noise", [4])),
        _rec(4),
        # mismatched_answer carries related rows too, but they are not copies of it
        _rec(5, ("mismatched_answer", "noise", [6])),
        _rec(6),
    ]
    curation_groups = sorted(sorted(g) for g in duplicate_groups(samples))
    assert curation_groups == [[0, 1, 2], [3, 4]]
    report = view.duplicate_groups(samples, {})
    assert report["source"] == "duplicate flags"
    assert sorted(sorted(m["index"] for m in g["members"]) for g in report["shown"]) == curation_groups
    assert {tuple(g["codes"]) for g in report["shown"]} == {
        ("exact_duplicate", "near_duplicate"),
        ("semantic_duplicate",),
    }


def test_dedupe_defaults_to_every_duplicate_kind_code():
    assert set(CurationPolicy().duplicate_flags) == flags.codes_of_kind("duplicate")
    samples = [_rec(0, ("duplicate_answer", "noise", [1]), score=0.9), _rec(1, ("duplicate_answer", "noise", [0]))]
    sel = select(samples, CurationPolicy(dedupe=True), embeddings=None)
    assert sel.kept == [0] and sel.dropped == {1: "duplicate:kept_best_of_group"}
