from __future__ import annotations

import pytest

from scorers import Sample, Turn, run_audit, sample
from scorers.task_mix import TASK_TYPES, chinese_form, cue_label, english_form

CASES = [
    ("Write a Python function that reverses a string.", "coding"),
    ("Tom has 5 apples and buys 7 more. How many does he have?", "math_reasoning"),
    ("Translate 'good night' into Spanish.", "rewriting"),
    (
        "Summarize the following article.\n\n" + "The article text goes on for a while about rivers. " * 3,
        "summarisation",
    ),
    ("Classify these animals as mammals or birds: dog, eagle.", "classification"),
    ("Write a short poem about autumn leaves.", "creative_writing"),
    ("Give me some ideas for a rainy weekend.", "brainstorming"),
    ("Who wrote Pride and Prejudice?", "open_qa"),
    (
        "When was the bridge built?\n\n" + "The bridge was built in 1932 by a local firm after years of debate. " * 2,
        "closed_qa",
    ),
    ("用Python写一个冒泡排序。", "coding"),
    ("把这句话翻译成英文：今天天气很好。", "rewriting"),
    ("用一句话总结这段文字。", "summarisation"),
    ("写一首关于春天的诗。", "creative_writing"),
    ("小明有5个苹果，吃了2个，还剩几个？", "math_reasoning"),
    ("天空为什么是蓝色的？", "open_qa"),
]


@pytest.mark.parametrize(("text", "want"), CASES)
def test_cue_words_in_english_and_chinese(text: str, want: str) -> None:
    assert cue_label(text, multi_turn=False) == want


def test_task_type_scorer_labels_every_sample_and_reports_the_mix() -> None:
    rows = [sample(i, t, "ok") for i, (t, _) in enumerate(CASES)]
    rows.append(
        Sample(
            index=len(rows),
            turns=(
                Turn("user", "Hi"),
                Turn("assistant", "Hello"),
                Turn("user", "Tell me more"),
                Turn("assistant", "Sure"),
            ),
        )
    )
    rows.append(sample(len(rows), "Plan a weekend trip to Rome on a budget.", "…"))
    out = run_audit(rows, scorers=["task_type"])
    labels = [r["task_type"] for r in out.samples]
    assert labels[: len(CASES)] == [w for _, w in CASES]
    assert labels[len(CASES)] == "chat"
    assert labels[-1] in TASK_TYPES and out.samples[-1]["task_type_by"] == "prototype"
    fig = out.report["dimensions"]["diversity"]["figures"]["task_type"]
    assert sum(fig["mix"].values()) == len(rows)
    assert fig["missing_types"] == [k for k in TASK_TYPES if fig["mix"][k] == 0]
    assert 0 < fig["mix_entropy"] <= 1
    assert fig["embedding"]["tier"] == "fast"


def test_instruction_form_english_and_chinese() -> None:
    assert english_form("Please write a short poem about cats.") == ("write", "poem")
    assert english_form("Can you generate a list of names") == ("generate", "names")
    assert english_form("What is the capital of France?") == ("question:what", None)
    assert chinese_form("请写一首关于春天的诗") == ("写", "诗")
    assert chinese_form("给出三个保持健康的建议。") == ("给出", "建议")
    out = run_audit(
        [
            sample(0, "Write a poem about the sea.", ""),
            sample(1, "Write a story about a dog.", ""),
            sample(2, "请写一首关于春天的诗", ""),
        ],
        scorers=["instruction_form"],
    )
    fig = out.report["dimensions"]["diversity"]["figures"]["instruction_form"]
    assert fig["top_verbs"] == {"write": 2, "写": 1}
    assert fig["distinct_verb_object_pairs"] == 3
    assert out.samples[2]["instruction_verb"] == "写"
