from __future__ import annotations

import pytest
from pydantic import ValidationError

from scorers import ScorerResult, run_audit, sample
from scorers.context import ScoringContext
from scorers.difficulty import Difficulty, combine, features

GSM = (
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
    "How many clips did Natalia sell altogether in April and May?",
    "Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether in April and May.\n#### 72",
)
EASY = ("What is the capital of France?", "Paris.")
CODE = (
    "Write a Python function that returns the n-th Fibonacci number. It must run in O(n) time and must not "
    "use recursion. Explain why it is correct, step by step, and give the answer as a numbered list.",
    "1. Keep two variables.\n2. Loop n times.\n```python\ndef fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n"
    "        a, b = b, a + b\n    return a\n```",
)
ZH_MATH = (
    "小明有15个苹果，每天吃3个，吃了4天后，他又买了8个。请计算他现在一共有多少个苹果？请写出计算步骤。",
    "首先，4天吃了 3×4=12 个。\n然后，剩下 15-12=3 个。\n最后，3+8=11 个。\n答：一共有11个苹果。",
)
ZH_EASY = ("法国的首都是哪里？", "巴黎。")


def _run(rows, **params):
    samples = [sample(i, q, a) for i, (q, a) in enumerate(rows)]
    return Difficulty(params or None).score(samples, ScoringContext(samples))


def test_word_problems_and_constrained_code_are_harder_than_factual_qa() -> None:
    res = _run([EASY, GSM, CODE, ZH_EASY, ZH_MATH])
    d = res.scores
    assert d[1] > d[0] and d[2] > d[0] and d[4] > d[3]
    assert [f["difficulty_level"] for f in res.fields] == ["easy", "medium", "hard", "easy", "hard"]
    assert "math" in res.fields[1]["difficulty_signals"]
    assert res.fields[2]["difficulty"] == d[2]
    assert res.summary["mix"] == {"easy": 0.4, "medium": 0.2, "hard": 0.4}


def test_features_saturate_in_unit_range() -> None:
    f = features("Explain why? " * 500 + "must " * 50, "```python\nx = 1 + 2 = 3\n```" * 200)
    assert set(f) == {
        "instruction_len",
        "answer_len",
        "constraints",
        "sub_questions",
        "structure",
        "reasoning",
        "math",
        "code",
    }
    assert all(0.0 <= v <= 1.0 for v in f.values())
    assert combine(f) <= 1.0 and combine(features("", "")) == 0.0


def test_target_mix_gap_and_advice() -> None:
    res = _run([EASY, EASY, EASY, CODE], target_mix={"easy": 1, "hard": 1})
    s = res.summary
    assert s["target_mix"] == {"easy": 0.5, "medium": 0.0, "hard": 0.5}
    assert s["gap_to_target"]["easy"] == pytest.approx(0.25)
    assert s["total_variation_to_target"] == pytest.approx(0.25)
    assert any("remove about 1 easy" in a for a in s["advice"]) and any("add about 1 hard" in a for a in s["advice"])
    with pytest.raises(ValidationError):
        Difficulty({"target_mix": {"trivial": 1.0}})


def test_mix_is_reported_per_instruction_cluster() -> None:
    samples = [sample(i, q, a) for i, (q, a) in enumerate([EASY, EASY, CODE, CODE])]
    ctx = ScoringContext(samples)
    ctx.results["instruction_clusters"] = ScorerResult(
        scores=None, flags=[[]] * 4, fields=[{"cluster": c} for c in (0, 0, 1, 1)]
    )
    s = Difficulty().score(samples, ctx).summary
    assert s["mix_by_cluster"]["0"]["easy"] == 1.0 and s["mix_by_cluster"]["1"]["hard"] == 1.0
    assert s["mix_by_cluster"]["1"]["size"] == 2


def test_difficulty_through_the_pipeline_fills_the_dimension() -> None:
    out = run_audit([sample(0, *EASY), sample(1, *GSM)], scorers=["difficulty"])
    dim = out.report["dimensions"]["difficulty"]
    assert dim["status"] == "ok" and out.samples[1]["scores"]["difficulty"] > out.samples[0]["scores"]["difficulty"]


def test_ifd_blends_into_difficulty_when_a_language_model_ran() -> None:
    from scorers.base import ScorerResult
    from scorers.context import ScoringContext
    from scorers.difficulty import Difficulty
    from scorers.samples import sample as mk

    rows = [
        mk(0, "What is the capital of France?", "Paris."),
        mk(1, "What is the capital of France?", "Paris."),
        mk(2, "What is the capital of France?", "Paris."),
    ]
    plain = Difficulty().score(rows, ScoringContext(samples=rows))
    ctx = ScoringContext(samples=rows)
    ctx.results["answer_ifd"] = ScorerResult(
        scores=None,
        flags=[[], [], []],
        fields=[
            {"answer_ifd": {"score": 0.9, "ifd": 0.5}},
            {"answer_ifd": {"score": 0.1, "ifd": 1.1}},
            {"answer_ifd": {"score": None, "ifd": None}},
        ],
    )
    blended = Difficulty({"ifd_weight": 0.5}).score(rows, ctx)
    base = plain.scores[0]
    assert blended.scores[0] == 0.5 * base and blended.scores[1] == 0.5 * base + 0.5
    assert blended.scores[2] == base, "a sample without IFD keeps its rule-based difficulty"
    assert "blended with IFD" in blended.summary["method"] and "not included" in plain.summary["method"]
