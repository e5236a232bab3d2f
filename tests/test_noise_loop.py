"""The noise loop's injection (bench/noise_loop.py): seeded, the share asked for, every kind present, and
each kind caught by the audit's own scorers on real Dolly rows."""

from __future__ import annotations

import json

import pytest

from bench._data import to_sample
from bench.noise_loop import KINDS, detecting_scorers, inject_defects, split_base
from scorers import run_audit
from tests.paths import shared_data_dir

DOLLY = shared_data_dir() / "alpagasus" / "dolly_3k.json"
ZH = [
    "答：禁欲可以指不抽烟、不喝酒、不吃某些食物等行为。例如，一个有健康问题的人可能会选择不吃高脂肪食物以保持健康。",
    "三原色是红、蓝、黄。这三种颜色不能由其他颜色混合而成，而其他颜色都可以由它们按不同比例混合得到。",
]

pytestmark = pytest.mark.skipif(not DOLLY.exists(), reason=f"shared data not found at {DOLLY}")


@pytest.fixture(scope="module")
def base() -> list[dict]:
    rows = json.loads(DOLLY.read_text(encoding="utf-8"))[:400]
    return split_base(rows, 40)[0]


def test_injection_is_seeded_and_injects_the_share_asked(base) -> None:
    noisy, kind = inject_defects(base, 0.25, seed=3, other_language=ZH)
    again, kind_again = inject_defects(base, 0.25, seed=3, other_language=ZH)
    assert noisy == again and kind == kind_again
    _, other_kind = inject_defects(base, 0.25, seed=4, other_language=ZH)
    assert other_kind != kind
    assert len(noisy) == len(base) and len(kind) == round(0.25 * len(base))
    assert len(inject_defects(base, 0.2, seed=3, other_language=ZH)[1]) == round(0.2 * len(base))
    per_kind = {k: sum(1 for x in kind.values() if x == k) for k in KINDS}
    assert (
        min(per_kind.values()) >= len(kind) // len(KINDS) - 1 and max(per_kind.values()) <= len(kind) // len(KINDS) + 1
    )
    changed = {i for i, (a, b) in enumerate(zip(base, noisy, strict=True)) if a != b}
    assert changed == set(kind), "exactly the recorded rows differ from the base"
    assert base[0] is not noisy[0] and all(isinstance(r["output"], str) for r in noisy)


def test_copies_repeat_an_earlier_clean_row(base) -> None:
    noisy, kind = inject_defects(base, 0.25, seed=0, other_language=ZH)
    clean = [r for i, r in enumerate(noisy) if i not in kind]
    for i, k in kind.items():
        if k == "exact_duplicate":
            assert noisy[i] in noisy[:i] and noisy[i] in clean
        elif k == "near_duplicate":
            assert any(
                r["output"] == noisy[i]["output"] and r["instruction"] != noisy[i]["instruction"] for r in noisy[:i]
            )


#: the least share of each kind its scorers must catch here; a cut answer can end where a sentence or list item
#: could have ended ("... which is composed", "- Taper 2 weeks"), and broken_answer misses some of those
#: (bench/noise_detection.py measures its recall on injected cuts).  A cut that is not certain is caught as the
#: field ``ending: "possibly cut"`` rather than a flag (issue #12: a missing full stop alone was right on a fifth
#: of the real rows people read).
MIN_CAUGHT = {"truncated_answer": 0.6}


@pytest.mark.slow
def test_every_kind_is_detected_by_its_scorer(base) -> None:
    noisy, kind = inject_defects(base, 0.25, seed=0, other_language=ZH)
    # the detectors themselves (gate off): the curation sees only what the precision gate lets through
    out = run_audit([to_sample(i, r) for i, r in enumerate(noisy)], scorers=detecting_scorers(), gate_flags=False)
    codes = [
        {f["code"] for f in rec["flags"]} | ({"truncated_answer"} if rec.get("ending") == "possibly cut" else set())
        for rec in out.samples
    ]
    for k, expected in KINDS.items():
        rows = [i for i, x in kind.items() if x == k]
        caught = [i for i in rows if codes[i] & expected]
        assert len(rows) >= 8
        assert len(caught) >= MIN_CAUGHT.get(k, 0.9) * len(rows), (
            k,
            len(caught),
            len(rows),
            [noisy[i] for i in rows if i not in caught][:2],
        )
    untouched = [i for i in range(len(noisy)) if i not in kind]
    assert sum(1 for i in untouched if codes[i]) <= 0.05 * len(untouched), "the same scorers leave clean rows alone"
