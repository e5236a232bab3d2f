"""Answer relevance calibrated against shuffled pairs of the dataset itself (real MiniLM embeddings)."""

from __future__ import annotations

import numpy as np

from scorers import sample
from scorers.quality_relevance import calibrated_relevance
from tests.raw import run_audit

CAPITALS = [
    ("France", "Paris"),
    ("Japan", "Tokyo"),
    ("Italy", "Rome"),
    ("Egypt", "Cairo"),
    ("Kenya", "Nairobi"),
    ("Peru", "Lima"),
    ("Canada", "Ottawa"),
    ("Norway", "Oslo"),
]
CODE = [
    "reverse a string",
    "sort a list of numbers",
    "read a CSV file",
    "compute a factorial",
    "count words in a text",
    "check if a number is prime",
    "merge two dictionaries",
    "find the maximum of a list",
]
FOOD = ["pancakes", "tomato soup", "guacamole", "banana bread", "fried rice", "lemonade", "hummus", "pizza dough"]


def _rows():
    rows = []
    for country, city in CAPITALS:
        rows.append(
            (f"What is the capital of {country}?", f"The capital of {country} is {city}, its largest political centre.")
        )
    for task in CODE:
        rows.append(
            (
                f"Write a Python function to {task}.",
                f"Here is a short Python function that will {task}, with a loop and a return value.",
            )
        )
    for dish in FOOD:
        rows.append(
            (
                f"Give me a simple recipe for {dish}.",
                f"To make {dish}, mix the ingredients in a bowl, cook them gently and serve warm.",
            )
        )
    return rows


def swapped_samples(a: int, b: int) -> list:
    """The rows above as samples, with the answers of rows ``a`` and ``b`` swapped."""
    rows = _rows()
    pairs = [list(r) for r in rows]
    pairs[a][1], pairs[b][1] = rows[b][1], rows[a][1]
    return [sample(i, q, ans) for i, (q, ans) in enumerate(pairs)]


def test_swapped_answers_are_caught() -> None:
    a, b = 1, 19  # a capitals question and a recipe question
    samples = swapped_samples(a, b)
    out = run_audit(samples, scorers=["answer_relevance", "answer_quality"], seed=3)
    flagged = {r["index"] for r in out.samples if any(f["code"] == "answer_off_topic" for f in r["flags"])}
    assert {a, b} <= flagged
    assert len(flagged - {a, b}) <= 2  # the calibrated threshold keeps matched pairs clean
    scores = [r["answer_relevance"]["score"] for r in out.samples]
    assert max(scores[a], scores[b]) < min(s for i, s in enumerate(scores) if i not in flagged)
    assert (
        out.samples[a]["answer_quality_breakdown"]["completeness"]
        < out.samples[0]["answer_quality_breakdown"]["completeness"]
    )
    fig = out.report["dimensions"]["answer_quality"]["figures"]["answer_relevance"]
    assert fig["matched_similarity_median"] > fig["shuffled_similarity_median"]


def test_small_datasets_are_not_computed() -> None:
    out = run_audit([sample(i, f"q{i}", f"a{i}") for i in range(5)], scorers=["answer_relevance"])
    run = out.report["scorers"][0]
    assert run["status"] == "not_computed" and "at least 20" in run["reason"]


def test_calibration_is_a_share_of_shuffled_pairs() -> None:
    rng = np.random.default_rng(0)
    ins = rng.normal(size=(200, 8))
    ins /= np.linalg.norm(ins, axis=1, keepdims=True)
    ans = ins.copy()  # every answer identical to its instruction: similarity 1, beats every shuffled pair
    ans[0] = -ins[0]  # except one, pointing away
    matched, share, ref = calibrated_relevance(ins, ans, shuffles=3, seed=0)
    assert np.allclose(matched[1:], 1.0) and share[1:].min() > 0.99 and share[0] < 0.01
    assert len(ref) == 600


def test_rows_in_place_and_blocked_shuffles_give_the_copying_results() -> None:
    """The memory-saving forms (compacting rows over the matrix itself, shuffled pairs a block at a time) give
    exactly what fancy indexing and whole-matrix shuffles gave."""
    import numpy as np

    from scorers import quality_relevance as qr

    rng = np.random.default_rng(3)
    m = rng.standard_normal((50_000, 8)).astype(np.float32)
    rows = sorted(rng.choice(50_000, 41_000, replace=False).tolist())
    expected = m[rows].copy()
    assert np.array_equal(qr.rows_in_place(m.copy(), rows), expected)
    assert qr.rows_in_place(m, list(range(50_000))) is m
    ins, ans = m[:40_000], rng.standard_normal((40_000, 8)).astype(np.float32)
    matched, share, ref = qr.calibrated_relevance(ins, ans, 3, seed=7)
    # the former implementation: whole shuffled copies, concatenated
    g = np.random.default_rng(7)
    old = []
    for _ in range(3):
        perm = g.permutation(len(ins))
        fixed = perm == np.arange(len(ins))
        perm[fixed] = (perm[fixed] + 1) % len(ins)
        old.append(np.einsum("ij,ij->i", ins, ans[perm]))
    assert np.array_equal(ref, np.sort(np.concatenate(old)))
    assert np.array_equal(matched, np.einsum("ij,ij->i", ins, ans))
