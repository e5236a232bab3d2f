import pytest

from scorers import Sample, Turn, sample
from scorers.noise_labels import confident_joint_issues
from tests.raw import run_audit

pytestmark = pytest.mark.slow

TOPICS = {
    "math": ["What is {} plus {}?", "Compute {} times {}.", "Subtract {} from {}.", "Is {} divisible by {}?"],
    "cooking": [
        "How long should I bake bread at {} degrees for {} minutes?",
        "Give a recipe using {} eggs and {} cups of flour.",
        "How do I cook rice for {} people in {} minutes?",
        "What can I cook with {} potatoes and {} onions?",
    ],
    "geography": [
        "Which country is larger, one with {} or {} million people?",
        "Name a river longer than {} km in {} countries.",
        "Which mountains are higher than {} metres on continent {}?",
        "List capitals north of latitude {} and {}.",
    ],
}


def _rows(flip: dict[int, str]) -> list[Sample]:
    rows = []
    for topic, templates in TOPICS.items():
        for k in range(12):
            q = templates[k % 4].format(k + 2, 3 * k + 1)
            i = len(rows)
            label = flip.get(i, topic)
            rows.append(
                Sample(
                    i,
                    (Turn("user", q), Turn("assistant", "An answer.")),
                    meta={"original": {"instruction": q, "input": "", "output": "An answer.", "category": label}},
                )
            )
    return rows


def test_flipped_categories_are_found() -> None:
    # 12 samples per class is little data: accept a given-label probability up to 20%
    out = run_audit(
        _rows({3: "geography", 20: "math"}),
        scorers=["label_error"],
        params={"label_error": {"max_given_probability": 0.2}},
    )
    flagged = {r["index"] for r in out.samples if r["flags"]}
    assert flagged == {3, 20}
    f = out.samples[3]["flags"][0]
    assert f["code"] == "label_error" and "'math'" in f["reason"] and len(f["related"]) == 3
    assert out.samples[3]["suggested_label"] == "math"
    fig = out.report["dimensions"]["noise"]["figures"]["label_error"]
    assert fig["label_source"] == "field 'category'" and fig["labels"]["math"] == 12  # 12 - row 3 + row 20


def test_classification_style_answers_are_labels() -> None:
    pos = [
        "I love this phone",
        "What a wonderful day",
        "The food was delicious",
        "Great service, thank you",
        "This movie made me so happy",
        "Fantastic quality, highly recommend",
        "Best purchase ever",
        "I adore it",
    ]
    neg = [
        "I hate this phone",
        "What a terrible day",
        "The food was disgusting",
        "Awful service, never again",
        "This movie made me so sad",
        "Horrible quality, do not buy",
        "Worst purchase ever",
        "I despise it",
    ]
    rows = [
        sample(i, f"Classify the sentiment of this review as positive or negative.\n\n{t}", lab)
        for i, (t, lab) in enumerate([(t, "Positive") for t in pos] + [(t, "Negative") for t in neg])
    ]
    rows += [
        sample(len(rows) + i, f"Is this review positive or negative?\n\n{t}", "Positive." if i < 8 else "Negative")
        for i, t in enumerate(pos + neg)
    ]
    out = run_audit(rows, scorers=["label_error"], params={"label_error": {"min_labelled": 20}})
    run = out.report["scorers"][0]
    assert run["status"] == "ok"
    fig = out.report["dimensions"]["noise"]["figures"]["label_error"]
    assert fig["label_source"] == "classification-style answers"
    assert set(fig["labels"]) == {"positive", "negative"}


def test_no_labels_is_not_computed_with_a_reason() -> None:
    rows = [
        sample(i, f"Write a story about topic {i}.", f"A long story number {i} about many things.") for i in range(40)
    ]
    run = run_audit(rows, scorers=["label_error"]).report["scorers"][0]
    assert run["status"] == "not_computed" and "no labels" in run["reason"]


def test_confident_joint_fallback() -> None:
    import numpy as np

    y = np.array([0, 0, 0, 1, 1, 1])
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.05, 0.95], [0.1, 0.9], [0.2, 0.8], [0.7, 0.3]])
    assert confident_joint_issues(y, probs).tolist() == [False, False, True, False, False, True]
