"""The honest answer_quality score: defects lower it, length is judged against the ask, the headline
says what it measures (issue #13, with the Dolly 3k rows that motivated each rule)."""

from __future__ import annotations

from scorers import sample
from scorers.answer_quality import HOW_TO_RANK, NO_DEFECT
from scorers.quality_length import asked_length
from tests.raw import run_audit

LONG_LETTER = (
    "Dear Mum and Dad,\n\n"
    + " ".join(
        [
            "A tortoise is a quiet, patient friend who would teach me to care for another living thing.",
            "Tortoises live for decades, so ours could grow up with me and keep me company at university.",
            "They eat dandelions, clover and lettuce, which we already grow in the garden at no cost.",
            "Unlike a dog, a tortoise needs no walks in the rain, and it will never chew the sofa.",
            "I have read three books about tortoise care and can explain how to set up its enclosure.",
            "The pet shop owner says a Hermann's tortoise suits a family like ours with a small garden.",
            "I promise to clean its house every Saturday morning before I play any video games.",
            "Looking after it would teach me responsibility, which you always say I need more of.",
            "It would also help with my biology homework, since we are studying reptiles this term.",
            "My friend Priya has had one for five years and says it is the calmest animal she knows.",
            "I will pay for its food from my pocket money, and I have already saved twenty pounds.",
            "Please think about it over the weekend, and I will make you breakfast on Sunday either way.",
        ]
    )
    + "\n\nLove, Sam"
)


def _scores(rows, **kw):
    out = run_audit(rows, scorers=["answer_quality"], **kw)
    return [r["scores"]["answer_quality"] for r in out.samples], out


def _clean_rows(n: int = 24):
    return [sample(i, f"What is the capital of country number {i}?", f"The capital is City {i}.") for i in range(n)]


def test_a_defect_found_lowers_the_score() -> None:
    rows = _clean_rows()
    rows.append(
        sample(
            24,
            "Write a short thank-you note to my teacher.",
            "Dear [Teacher's Name],\n\nThank you for everything you taught me this year.\n\nBest,\n[Your Name]",
        )
    )
    # (Dolly row 882, "What's your favorite baseball team?" → "As a Large Language Model (LLM), I don't have any
    # favorite…", was read and judged the honest answer to a question about the assistant: no defect there)
    rows.append(
        sample(
            25,
            "What is the capital of Australia?",
            "As an AI language model, I can tell you that the capital of Australia is Canberra.",
        )
    )
    rows.append(sample(26, "Name a colour.", ""))
    s, out = _scores(rows)
    assert s[0] == 1.0
    for i in (24, 25, 26):
        assert s[i] <= 0.5, (i, s[i], out.samples[i]["answer_defects"])
    assert "unfilled_template" in out.samples[24]["answer_defects"]
    assert "ai_boilerplate" in out.samples[25]["answer_defects"]
    assert "empty_answer" in out.samples[26]["answer_defects"]
    assert out.samples[0]["answer_defects"] == []
    # an error costs more than a warning
    assert s[26] < s[25]


def test_a_code_the_gate_holds_back_is_no_defect() -> None:
    """wrong_language is right on about seven in ten of the rows people read (docs/flag-precision.md), so it is
    shown at most as info: the detector still raises it, but it does not lower the quality score."""
    rows = _clean_rows()
    rows.append(
        sample(
            24,
            "Explain what photosynthesis is in simple terms for a child.",
            "La photosynthèse est le processus par lequel les plantes vertes transforment la lumière en énergie.",
        )
    )
    out = run_audit(rows, scorers=["wrong_language", "answer_quality"])
    s = [r["scores"]["answer_quality"] for r in out.samples]
    assert any(f["code"] == "wrong_language" for f in out.samples[24]["flags"])  # raised (the gate is off here)
    assert out.samples[24]["answer_defects"] == [] and s[24] > 0.5  # not multiplied down as a defect


def test_length_is_judged_against_what_the_instruction_asks_for() -> None:
    assert asked_length("Write a letter to my mum and dad detailing why they should buy me a tortoise.") == "long"
    assert asked_length("Write a short story about a dragon.") == "long"
    assert asked_length("Classify these as cheese or bread: Gouda, Focaccia.") == "short"
    assert asked_length("Who is RFK?") == "open"
    short = [
        sample(i, f"Write a thank-you note number {i}.", "Thank you so much for the lovely gift.") for i in range(24)
    ]
    rows = short + [
        sample(24, "Write a letter to my mum and dad detailing why they should buy me a tortoise.", LONG_LETTER),
        sample(25, "Write a one-word label for this note.", LONG_LETTER),
    ]
    out = run_audit(rows, scorers=["answer_conciseness"])
    conc = [r["answer_conciseness"]["score"] for r in out.samples]
    assert conc[24] == 1.0 and out.samples[24]["flags"] == []  # the letter that was asked for is not verbose
    assert conc[25] < 0.5  # the same text as a one-word label is


def test_a_list_that_labels_each_item_is_not_repetition() -> None:
    items = ["Gouda", "Focaccia", "Brie", "Baguette", "Cheddar", "Brioche", "Ciabatta", "Manchego"]
    kinds = ["cheese", "bread", "cheese", "bread", "cheese", "bread", "bread", "cheese"]
    answer = "\n".join(f"{a} is a type of {k}." for a, k in zip(items, kinds))
    out = run_audit(
        [sample(0, "Tell me whether these are cheese or bread: " + ", ".join(items), answer)],
        scorers=["answer_conciseness"],
    )
    assert out.samples[0]["flags"] == []
    loop = "\n".join(["Gouda is a type of cheese."] * 8)
    out = run_audit([sample(0, "Describe Gouda.", loop)], scorers=["answer_conciseness", "junk_answer"])
    # the loop is flagged once, by the noise family's `repetition` (one idea, one code), and costs conciseness
    assert [f["code"] for f in out.samples[0]["flags"]] == ["repetition"]
    assert out.samples[0]["answer_conciseness"]["score"] < 1.0


def test_headline_without_a_ranking_signal_is_the_share_without_defects() -> None:
    rows = _clean_rows(8) + [sample(8, "Name a colour.", ""), sample(9, "Say hi.", "")]
    s, out = _scores(rows)
    dim = out.report["dimensions"]["answer_quality"]
    assert dim["measures"] == NO_DEFECT and dim["how_to_rank"] == HOW_TO_RANK
    assert dim["score"] == 0.8  # 8 of 10 answers have no defect found
    figures = dim["figures"]["answer_quality"]
    assert figures["samples_with_defects"] == 2 and figures["share_without_defect"] == 0.8
    assert abs(figures["mean_score"] - sum(s) / len(s)) < 1e-6
