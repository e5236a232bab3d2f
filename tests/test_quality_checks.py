"""Model-free answer-quality checks: accuracy, completeness, conciseness, clarity, and their combination."""

from __future__ import annotations

import pytest

from scorers import sample
from scorers.quality_asks import check_completeness, count_items, count_sentences
from scorers.quality_checks import (
    UnsafeExpression,
    check_accuracy,
    find_equations,
    instruction_expression,
    safe_eval,
    unit_conversion,
)
from scorers.quality_code import check_code
from scorers.quality_style import broken_formatting, formatting_problems, task_type
from tests.raw import run_audit


def _codes(findings) -> list[str]:
    return [f.code for f in findings.flags]


# --- the safe evaluator ------------------------------------------------------------------------------
def test_safe_eval_computes_arithmetic_and_refuses_anything_else() -> None:
    assert safe_eval("8*(2+3)") == 40
    assert safe_eval("2**10 - 1") == 1023
    assert safe_eval("-3 + 10/4") == -0.5
    for bad in ("__import__('os')", "a + 1", "(1).real", "9**9**9", "1/0", "[1, 2]", "1 if 1 else 2"):
        with pytest.raises(UnsafeExpression):
            safe_eval(bad)


# --- accuracy ----------------------------------------------------------------------------------------
def test_arithmetic_written_in_the_answer_is_recomputed() -> None:
    eqs = find_equations(
        "She sold 48/2 = 24 clips.\nIn all 48+24 = 72 clips.\nShe earns 0.2 x 50 = $10.\n"
        "So 100 - 50 - 30 - 15 = $7 more.\nThe total is 1,000 + 250 = 1,250."
    )
    assert [(e.expression, e.correct) for e in eqs] == [
        ("48/2", True),
        ("48+24", True),
        ("0.2 x 50", True),
        ("100 - 50 - 30 - 15", False),
        ("1,000 + 250", True),
    ]
    f = check_accuracy("How many?", "So 100 - 50 - 30 - 15 = $7 more.")
    assert _codes(f) == ["arithmetic_error"] and "is 5" in f.flags[0].reason
    assert f.score is not None and f.score < 0.5


def test_a_long_sum_written_out_in_words_is_read_whole() -> None:
    """A GSM8K-style answer (the 200k bench file's slowest row): a product of bills before "bills, or" is not an
    equation, the sum after it is.  Every space and bracket next to a number is taken whole: with spaces matched
    either side of each operator, the failed match on the first part tried 2-3^terms ways of sharing them (14 s for
    this 11-term answer; a 20-term one would not finish)."""
    bills = " + ".join(f"{n} * ${v}" for n, v in [(2, 100), (1, 50), (5, 20), (3, 10), (7, 5), (27, 1)] * 3)
    answer = f"Jack's till has {bills} bills, or $200 + $50 + $100 + $30 + $35 + $27 = $442.\nSo $442 - $300 = $142."
    got = find_equations(answer)
    assert [(e.expression, e.claimed, e.correct) for e in got] == [
        ("$200 + $50 + $100 + $30 + $35 + $27", "$442", True),
        ("$442 - $300", "$142", True),
    ]
    assert instruction_expression(f"Calculate {bills} in dollars") is None  # the line does not end on the sum


def test_chains_rounding_and_things_that_are_not_equations() -> None:
    # a chain compares each side with the next
    assert [e.correct for e in find_equations("8 * 2 + 4 * 5 = 16 + 20 = 36 tires")] == [True, True]
    assert [e.correct for e in find_equations("4080 + 4080 / 2 = 4000 + 2040 = 6040")] == [False, True]
    # rounding to the written precision is fine
    assert all(e.correct for e in find_equations("10/3 = 3.33 and 22/7 = 3.14 and 1/2 = 50%"))
    # algebra, unit words reaching through the expression, code: not read as arithmetic
    assert find_equations("100/5 = 5A/5 so A = 20") == []
    assert find_equations("72 cubic ft * 3/4 = 54 cubic ft") == []
    assert find_equations("```python\nx = 2 + 2 == 5\n```") == []


def test_final_answer_must_come_out_of_the_steps() -> None:
    steps = "He buys 3 * 4 = 12 apples.\nHe eats 12 - 5 = 7 apples.\n"
    q = "Tom has 4 bags of 3 apples and eats 5. How many apples are left?"
    assert _codes(check_accuracy(q, steps + "So he has 7 apples left.")) == []
    bad = check_accuracy(q, steps + "So he has 9 apples left.")
    assert _codes(bad) == ["final_answer_not_derived"] and "9" in bad.flags[0].reason
    # a step written with unit words still supports the final answer
    words = (
        "He has 3 * 4 = 12 red apples.\nHe has 2 * 5 = 10 green apples.\n12 red apples + 10 green apples = 22 apples"
    )
    assert _codes(check_accuracy("Apples?", words)) == []


def test_computation_asked_by_the_instruction() -> None:
    assert instruction_expression("Calculate the answer to the following equation: 8*(2+3)") == ("8*(2+3)", 40.0)
    assert instruction_expression("What is 15% of 200?") == ("15% of 200", 30.0)
    assert instruction_expression("Generate 3-5 questions for a survey") is None
    assert instruction_expression("Simplify this equation: 18x + 12 / 6") is None
    wrong = check_accuracy("Calculate the answer to the following equation: 8*(2+3)", "64")
    assert _codes(wrong) == ["wrong_result"] and "40" in wrong.flags[0].reason
    assert _codes(check_accuracy("Find the answer to this equation: 8 + 2 x 3", "14")) == []
    assert _codes(check_accuracy("Convert 3/2 to a decimal.", "1.5")) == []


def test_unit_conversions() -> None:
    assert unit_conversion("Convert 10 km to miles")[1] == pytest.approx(6.2137, rel=1e-3)
    assert unit_conversion("Convert 100 degrees Fahrenheit to Celsius")[1] == pytest.approx(37.78, rel=1e-3)
    assert _codes(check_accuracy("Convert 10 km to miles", "10 km is about 6.21 miles.")) == []
    assert _codes(check_accuracy("Convert 10 km to miles", "10 km is 16.1 miles.")) == ["wrong_conversion"]
    assert unit_conversion("Convert 5 kg to miles") is None  # different dimensions: not checkable


def test_code_answers_are_parsed() -> None:
    assert check_code("python", "def f(x):\n    return x + 1\n") is None
    assert "does not parse" in check_code("python", "def f(x)\n    return x\n")
    assert check_code("json", '{"a": [1, 2]}') is None and check_code("json", "{'a': 1}")
    assert check_code("sql", "SELECT name FROM t WHERE (a = 'x')") is None
    assert "unclosed" in check_code("sql", "SELECT name FROM t WHERE (a = 'x'")
    assert check_code("html", "<ul><li>a</li><br></ul>") is None
    assert "never closed" in check_code("html", "<div><span>a</div>")
    f = check_accuracy("Write a Python function that doubles x.", "```python\ndef double(x):\n    print x * 2\n```")
    assert _codes(f) == ["code_does_not_parse"]
    ok = check_accuracy("Write a function.", "```python\ndef double(x):\n    return x * 2\n```")
    assert _codes(ok) == [] and ok.score == 1.0


def test_prose_has_nothing_to_check() -> None:
    f = check_accuracy("Describe the sea.", "The sea is wide and blue.")
    assert f.checked == 0 and f.score is None


# --- completeness -----------------------------------------------------------------------------------
def test_item_counts() -> None:
    three = count_items("1. a\n2. b\n3. c")
    assert (three.low, three.high, three.how) == (3, 3, "list items")
    colours = count_items("red, green and blue")  # "and" joins the last two, or is inside one item
    assert (colours.low, colours.high, colours.how) == (2, 3, "comma-separated items") and colours.allows(3)
    assert count_items("A long paragraph of prose that lists nothing in particular at all.") is None
    f = check_completeness("List 5 fruits.", "1. apple\n2. pear\n3. plum")
    assert _codes(f) == ["item_count_mismatch"] and "5" in f.flags[0].reason and "3" in f.flags[0].reason
    assert _codes(check_completeness("Give three examples of mammals.", "- dog\n- cat\n- whale")) == []
    assert _codes(check_completeness("列出5个水果", "1. 苹果\n2. 香蕉")) == ["item_count_mismatch"]


def test_and_inside_listed_names_is_not_a_second_item() -> None:
    # Dolly 3k: "and" inside a title is part of the name, and only the last "and" may join two items
    plays = (
        "Romeo and Juliet, The Tempest, Midsummer Night's Dream, Hamlet, Julius Caesar, As You Like It, "
        "Macbeth, Twelfth Night, Othello, King Lear"
    )
    assert _codes(check_completeness("Name ten Shakespeare plays", plays)) == []
    got = (
        "Dragonstone, Stormborn, The Queen's Justice, The Spoils of War, Eastwatch, Beyond the Wall, "
        "The Dragon and the Wolf"
    )
    assert _codes(check_completeness("List the seven episode titles of the seventh season.", got)) == []
    assert _codes(check_completeness("List four colours.", "red, green and blue")) == ["item_count_mismatch"]


def test_length_and_sentence_limits() -> None:
    assert count_sentences("Dr. Smith arrived. He sat down! Was it 3.5 hours? Yes.") == 4
    long = " ".join(["word"] * 120) + "."
    assert _codes(check_completeness("Summarise this in 50 words or less.", long)) == ["word_limit_missed"]
    assert _codes(check_completeness("Summarise this in 50 words or less.", " ".join(["word"] * 45) + ".")) == []
    two = "The sky is blue. The grass is green."
    assert _codes(check_completeness("Describe the scene in one sentence.", two)) == ["too_many_sentences"]
    assert _codes(check_completeness("Describe the scene in one sentence.", "The sky is blue.")) == []
    assert _codes(check_completeness("用不超过10个字描述天空", "天空是蓝色的，非常美丽，白云飘飘，阳光明媚")) == [
        "word_limit_missed"
    ]


def test_formats_questions_and_missing_answers() -> None:
    assert _codes(check_completeness("Return the data in JSON format.", '```json\n{"a": 1}\n```')) == []
    assert _codes(check_completeness("Return the data in JSON format.", "a is 1")) == ["format_not_json"]
    assert (
        _codes(
            check_completeness("Create a table of planets and moons.", "| planet | moons |\n|---|---|\n| Mars | 2 |")
        )
        == []
    )
    assert _codes(check_completeness("Create a table of planets and moons.", "Mars has two moons.")) == [
        "format_not_table"
    ]
    f = check_completeness(
        "Why is the sky blue? What causes ocean tides?", "The sky looks blue because air scatters blue light."
    )
    assert _codes(f) == ["question_not_addressed"] and "tides" in f.flags[0].reason
    # empty, placeholder and cut-off answers are incomplete (score 0) and flagged once, by the noise dimension
    missing = check_completeness("Say hi.", "<nooutput>")
    assert _codes(missing) == [] and missing.score == 0.0
    assert check_completeness("Say hi.", "").score == 0.0
    cut = (
        "The history of the region is long. Farmers settled the valleys first. Traders followed the rivers. "
        "Towns grew around the markets. Its rulers built roads, bridges and"
    )
    truncated = check_completeness("Tell me about the region.", cut)
    assert _codes(truncated) == [] and truncated.score == 0.0
    out = run_audit(
        [sample(0, "Say hi.", "<nooutput>"), sample(1, "Tell me about the region.", cut)],
        scorers=["junk_answer", "broken_answer", "answer_completeness"],
    )
    assert [[f["code"] for f in r["flags"]] for r in out.samples] == [["placeholder_answer"], ["truncated_answer"]]


# --- conciseness and clarity -------------------------------------------------------------------------
def test_style_signals_through_the_pipeline() -> None:
    rows = [sample(i, f"Classify the sentiment of review {i}.", "Positive.") for i in range(25)]
    rows.append(
        sample(
            25,
            "Classify the sentiment of this review.",
            " ".join(
                f"The review mentions point {k} which suggests a generally positive tone overall." for k in range(20)
            ),
        )
    )
    rows.append(
        sample(
            26,
            "Explain rain.",
            "Rain falls from clouds. Rain falls from clouds. Rain falls from clouds. "
            "Rain falls from clouds when droplets grow heavy.",
        )
    )
    rows.append(
        sample(
            27,
            "Explain snow.",
            "I think snow is frozen water, but I'm not sure. I hope this helps! Feel free to ask more.",
        )
    )
    rows.append(sample(28, "Show a table.", "| a | b |\n|---|\n| 1 | 2 | 3 |\n```python\nx = 1"))
    out = run_audit(rows, scorers=["answer_conciseness", "answer_clarity", "answer_quality", "junk_answer"])
    codes = [{f["code"] for f in r["flags"]} for r in out.samples]
    assert "verbose_for_task" in codes[25] and not any("verbose_for_task" in c for c in codes[:25])
    # one idea, one code: the repetition is flagged by the noise dimension and costs conciseness
    assert "repetition" in codes[26] and "repetitive" not in codes[26]
    assert out.samples[26]["answer_conciseness"]["score"] < 1.0
    assert {"filler_phrases", "hedging"} <= codes[27]
    assert "broken_formatting" in codes[28]
    bd = [r["answer_quality_breakdown"] for r in out.samples]
    assert bd[0]["conciseness"] == 1.0 and bd[25]["conciseness"] < 0.5
    assert bd[27]["clarity"] < bd[0]["clarity"]


def test_broken_formatting_and_task_types() -> None:
    assert broken_formatting("fine text") == []
    # mojibake and template artefacts lower clarity; they are flagged by the noise dimension, not here
    assert any("mojibake" in p for p in formatting_problems("donâ€™t")) and broken_formatting("donâ€™t") == []
    assert any("artefact" in p for p in formatting_problems("Answer.\n### Instruction: do more"))
    assert broken_formatting("| a | b |\n| 1 | 2 | 3 |") != []
    assert task_type("Write an essay about dogs.") == "write+long"
    assert task_type("Classify this.") == "classify"


# --- the combined score ------------------------------------------------------------------------------
def test_answer_quality_alone_combines_the_model_free_signals() -> None:
    rows = [
        sample(0, "Calculate 8*(2+3).", "8*(2+3) = 40"),
        sample(1, "Calculate 8*(2+3).", "8*(2+3) = 64"),
        sample(2, "List 3 colours.", "1. red\n2. blue\n3. green"),
        sample(3, "List 3 colours.", "1. red"),
        sample(4, "Say hi.", ""),
    ]
    out = run_audit(rows, scorers=["answer_quality"])
    rec = out.samples
    s = [r["scores"]["answer_quality"] for r in rec]
    assert s[0] > s[1] and s[2] > s[3] and s[4] == min(s)
    assert (
        rec[0]["answer_quality_breakdown"]["accuracy"] == 1.0 and rec[1]["answer_quality_breakdown"]["accuracy"] < 0.5
    )
    assert rec[2]["answer_quality_breakdown"]["accuracy"] is None
    assert "arithmetic_error" in {f["code"] for f in rec[1]["flags"]}
    summary = out.report["dimensions"]["answer_quality"]["figures"]["answer_quality"]
    assert set(summary["signals"]) == {
        "answer_accuracy",
        "answer_completeness",
        "answer_conciseness",
        "answer_clarity",
        "junk_answer",
        "broken_answer",
    }
    assert "answer_judge" in summary["signals_not_run"]
    # selecting the signals too gives the same scores and counts each flag once
    both = run_audit(
        rows,
        scorers=["answer_quality", "answer_accuracy", "answer_completeness", "answer_conciseness", "answer_clarity"],
    )
    assert [r["scores"]["answer_quality"] for r in both.samples] == s
    assert both.report["flags"] == out.report["flags"]


def test_false_alarms_seen_on_alpaca_stay_quiet() -> None:
    # each of these was flagged by an earlier version on a real Alpaca row
    assert _codes(check_completeness("Name two brands from the automotive industry.", "Ford and Chevrolet.")) == []
    assert (
        _codes(
            check_completeness(
                "Compare the differences between HTML and JSON formats.", "HTML marks up pages; JSON holds data."
            )
        )
        == []
    )
    assert (
        _codes(check_accuracy("What is the lowest common denominator of these fractions?\n\n1/3 and 2/5", "It is 15."))
        == []
    )
    fix = "Error: Missing colon after range(10).\nSuggested correction:\nfor n in range(10):\n    print(n)"
    assert _codes(check_accuracy("Find the errors in the program.\n\nfor n in range(10)\n  print(n)", fix)) == []
    pseudo = (
        "Merge Sort(A, n)\n"
        + "    If n == 1 then split the array into halves and sort each half\n" * 4
        + "    Return A"
    )
    assert _codes(check_completeness("Write pseudo-code for merge sort.", pseudo)) == []
    html = "<!DOCTYPE html>\n<html>\n" + "<div class='row'>Item</div>\n" * 5 + "</html>"
    out = run_audit([sample(0, "Design a web page.", html)], scorers=["answer_conciseness"])
    assert out.samples[0]["flags"] == []


def test_more_alpaca_false_alarms_stay_quiet() -> None:
    three = "1. The sun glistened on the sea.\n2. The sand sparkled.\n3. Gulls called overhead."
    assert _codes(check_completeness("Write three sentences to describe a serene beach", three)) == []
    assert (
        _codes(
            check_completeness(
                "Provide two methods to analyze the sentiment of a sentence.",
                "One is lexicon based. The other uses machine learning. Both work.",
            )
        )
        == []
    )
    assert (
        _codes(
            check_completeness(
                "Construct a SQL query that finds all rows in a table with 'apple'.",
                "SELECT * FROM t WHERE d LIKE '%apple%';",
            )
        )
        == []
    )
    assert (
        _codes(
            check_completeness("Write a poem using 3 words: love, moon, and fire.", "Love and fire under the moon " * 5)
        )
        == []
    )
    assert (
        _codes(check_completeness("Generate 10 descriptive words for each type of tree.", "- Oak: a, b\n- Pine: c, d"))
        == []
    )
    letter = (
        "Dear Dr. Brown,\n\n"
        + "I would like to discuss a research project with you in the coming weeks. " * 4
        + "\n\nSincerely,"
    )
    assert _codes(check_completeness("Write an email to a professor.", letter)) == []
    talk = 'John: "I think maybe we should go."\nJessica: "Perhaps. I think it might be late."'
    out = run_audit([sample(0, "Create a dialogue between two friends.", talk)], scorers=["answer_clarity"])
    assert out.samples[0]["flags"] == []


def test_sentence_ranges_and_song_choruses() -> None:
    two = "A rhetorical question is asked for effect. It expects no answer."
    assert _codes(check_completeness("Explain what a rhetorical question is in a sentence or two.", two)) == []
    assert _codes(check_completeness("Explain it in one sentence.", two)) == ["too_many_sentences"]
    chorus = "\n".join(["Shine on, shine on, little star in the sky tonight"] * 6)
    out = run_audit(
        [sample(0, "Compose a song about the night sky.", chorus), sample(1, "Describe the night sky.", chorus)],
        scorers=["answer_conciseness", "junk_answer"],
    )
    assert out.samples[0]["flags"] == [] and [f["code"] for f in out.samples[1]["flags"]] == ["repetition"]
    assert out.samples[0]["answer_conciseness"]["score"] > out.samples[1]["answer_conciseness"]["score"]


def test_arithmetic_written_as_people_write_it_is_read_as_meant() -> None:
    """Rows read by hand on the panel (bench/flag_verdicts.jsonl), each flagged wrongly before."""
    right = [
        "Jordyn will pay 10/100%*$5=$.50 less for a bag of cherries.",  # GSM8K 6049: x/100% is x%
        "First find the weight of food: 2 pounds * 1/3 = 2/3 pounds food.",  # GSM8K 400: the product starts left
        "Arthur can buy 16 comic books because 100 / 6= 16 and (2/3)",  # GSM8K 3640: a mixed number
        "this means 100% - 80% = 20 % were children.",  # GSM8K 1041: a percent sign after a space
        "That means the sun will set at 6:00+48=6:48 PM",  # GSM8K 4727: a clock time
        "So in a month, he uses 600 x 30 = 18 000 watts.",  # GSM8K 2682: thousands after a space
        "5 ÷ 3 = 1......2，即每个朋友至少可以分得1个篮球",  # BELLE dev 681: a remainder after a run of dots
        "10 pages per day on day 1 * 2 = 20 pages per day",  # GSM8K 5396: "day 1" names a day
    ]
    for text in right:
        assert all(e.correct for e in find_equations(text)), text
    wrong = ["he uses 600 x 30 = 17 000 watts.", "100 / 6 = 15 and (2/3)", "100% - 80% = 30 %", "5 ÷ 3 = 1......1"]
    for text in wrong:
        assert [e.correct for e in find_equations(text)] == [False], text


def test_a_supposed_premise_is_not_a_computation_but_a_checked_one_is() -> None:
    from scorers.quality_checks import check_accuracy

    # OASST zh 42: "if 1+1=3, how many apples…" answered from the premise
    assert (
        check_accuracy("如果1+1=3，那么1个苹果加一个苹果等于几个苹果？", "根据1+1=3类比，结果是3个苹果。").flags == []
    )
    # Alpaca 37585: the prompt asks whether "3 + 8 = 10" is true; calling it true is wrong
    flagged = check_accuracy(
        "Determine will the following equation be true or false\n\n3 + 8 = 10", "True. 3 + 8 = 10."
    )
    assert [f.code for f in flagged.flags] == ["arithmetic_error"]


def test_a_length_asked_for_is_missed_when_over_or_far_short() -> None:
    """Alpaca rows read by hand on the panel (bench/flag_verdicts.jsonl)."""
    from scorers.quality_asks import check_completeness

    def codes(ins: str, n: int) -> list[str]:
        return [f.code for f in check_completeness(ins, " ".join(["word"] * n) + ".").flags]

    assert codes("Generate a 50-word article about endangered species.", 93) == ["word_limit_missed"]  # 48666
    assert codes("In 100 words or less, tell a story about choices", 142) == ["word_limit_missed"]  # 19236
    assert codes("Write a 500-word essay about the benefits of a healthy lifestyle.", 223) == []  # 14500: half
    assert codes("Write a 500-word essay about the benefits of a healthy lifestyle.", 80) == ["word_limit_missed"]
    assert codes("Create a text summary of 200 words from this article.", 40) == []  # 10312: a summary
    assert codes("Shorten the following sentence from 96 to 50 words.", 22) == []  # 28214
    assert codes("Summarize the following passage in up to 100 words.", 36) == []  # 47024


def test_a_result_asked_for_is_read_as_written() -> None:
    """Alpaca rows read by hand on the panel (bench/flag_verdicts.jsonl): "-4" for 5 - 9 (28236), "Sixteen." for
    8 + 8 (27612), a program that prints the sum (29558); a date (28431) and an ISBN (33121) are not sums."""
    from scorers.quality_checks import check_accuracy

    def codes(ins: str, ans: str) -> list[str]:
        return [f.code for f in check_accuracy(ins, ans).flags]

    ask = "For the given input, you need to predict the result of the operation\n\n5 - 9"
    assert codes(ask, "-4") == [] and codes(ask, "4") == ["wrong_result"]
    words = "Add two numbers together and write out the answer in words.\n\n8 + 8"
    assert codes(words, "Sixteen.") == [] and codes(words, "Fifteen.") == ["wrong_result"]
    assert codes("Important a Python script to print the sum of two numbers.\n\n4 + 1", "print(4+1)") == []
    assert codes("Find the title of this book given the ISBN.\n\nISBN: 978-1-5247-3855-7", "The Unhoneymooners") == []
    sold = (
        "Compute the total amount of product sold between the two dates.\n\nStart Date: 8/1/2020\nEnd Date: 8/30/2020"
    )
    assert codes(sold, "SELECT SUM(quantity) FROM sales;") == []
