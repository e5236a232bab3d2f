from scorers import Sample, Turn, sample
from scorers._minhash import near_duplicates
from scorers.text.script import normalise_strict, units
from tests.raw import run_audit


def _flags(out, pos):
    return [f["code"] for f in out.samples[pos]["flags"]]


def test_exact_duplicates_are_grouped_with_related_indices() -> None:
    rows = [
        sample(0, "What is 2+2?", "4"),
        sample(1, "what  is 2+2 ", "4."),
        sample(2, "What is 2+3?", "5"),
        sample(3, "WHAT IS 2+2?", "4"),
    ]
    out = run_audit(rows, scorers=["exact_duplicate"])
    assert out.samples[0]["flags"] == []
    assert [f["related"] for f in out.samples[1]["flags"]] == [[0, 3]]
    assert [f["related"] for f in out.samples[3]["flags"]] == [[0, 1]]
    assert out.samples[2]["flags"] == []
    fig = out.report["dimensions"]["noise"]["figures"]["exact_duplicate"]
    assert fig["groups"] == 1 and fig["redundant_samples"] == 2 and fig["counts"] == {"exact_duplicate": 2}
    assert out.report["dimensions"]["noise"]["score"] == 0.5


def test_exact_duplicate_chinese_and_full_width() -> None:
    rows = [
        sample(0, "保持健康的三个提示。", "多运动，多睡觉。"),
        sample(1, "保持健康的三个提示", "多运动 多睡觉"),
        sample(2, "Ｈｅｌｌｏ！", "Hi"),
        sample(3, "hello", "hi"),
    ]
    out = run_audit(rows, scorers=["exact_duplicate"])
    assert _flags(out, 1) == ["exact_duplicate"] and _flags(out, 3) == ["exact_duplicate"]
    assert _flags(out, 0) == [] and _flags(out, 2) == []


def test_instruction_and_answer_level_duplicates() -> None:
    long_answer = (
        "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen inside the "
        "chloroplasts of green leaves."
    )
    rows = [
        sample(0, "Explain photosynthesis.", long_answer),
        sample(1, "explain photosynthesis", "Plants make food from light."),
        sample(2, "Describe how plants breathe.", long_answer),
        sample(3, "Explain photosynthesis.", long_answer),  # whole copy: only exact_duplicate
        sample(4, "Is the sky blue?", "Yes"),
        sample(5, "Is grass green?", "Yes"),
    ]  # short labels repeat
    out = run_audit(rows, scorers=["exact_duplicate", "duplicate_instruction", "duplicate_answer"])
    assert _flags(out, 1) == ["duplicate_instruction"]
    assert out.samples[1]["flags"][0]["related"] == [0, 3]
    assert _flags(out, 2) == ["duplicate_answer"]
    assert _flags(out, 3) == ["exact_duplicate"]
    assert _flags(out, 0) == _flags(out, 4) == _flags(out, 5) == []
    # two questions may share a short true answer (Dolly row 2253); code keeps its symbols (Code Alpaca 1624)
    rows = [
        sample(
            0,
            "Who is the only US president elected from Pennsylvania?",
            "James Buchanan, the 15th President of the United States.",
        ),
        sample(1, "Who was the 15th US president?", "James Buchanan, the 15th President of the United States."),
        sample(
            2, "Select the adult students.", "SELECT * FROM students WHERE age >= 18 AND enrolled = 1 ORDER BY name;"
        ),
        sample(
            3, "Select students older than 18.", "SELECT * FROM students WHERE age > 18 AND enrolled = 1 ORDER BY name;"
        ),
    ]
    out = run_audit(rows, scorers=["duplicate_answer"])
    assert all(_flags(out, i) == [] for i in range(4))


def test_units_words_for_spaced_text_characters_for_chinese() -> None:
    assert units("Hello, World!") == (["hello", "world"], False)
    assert units("用Python写一个函数") == (["用", "python", "写", "一", "个", "函", "数"], True)
    assert normalise_strict("  Ｈｅｌｌｏ,\n\tWORLD! ") == "hello world"


def test_near_duplicates_long_short_and_chinese() -> None:
    story = (
        "Write a short story about a dragon who learns to paint and becomes famous in the whole kingdom "
        "after many years of practice and hard work in the mountains far away from home"
    )
    texts = [
        story,
        story.replace("far away from", "far from"),
        "What is the capital of France?",
        "what's the capital of France",
        "Translate 'hello' into French.",
        "Translate 'goodbye' into French.",
        "请把下面这句话翻译成英文，并解释其中的语法结构：我每天早上都去公园跑步。",
        "请把下面这句话翻译成英文，并解释其中的语法结构：我每天早上都去公园散步。",
        "Tell me a joke.",
        "",
    ]
    nd = near_duplicates(texts, threshold=0.6, seed=3)
    assert [0, 1] in nd.groups and [6, 7] in nd.groups
    assert not any(4 in g and 5 in g for g in nd.groups)  # one-token template change: compared, not merged
    assert all(9 not in g for g in nd.groups)
    assert near_duplicates(texts, threshold=0.6, seed=3).groups == nd.groups


def test_near_duplicate_groups_fields_and_flags() -> None:
    base = "Give me three tips for staying healthy during a long winter in a cold northern city"
    rows = [
        sample(0, base, "Eat well, sleep, move."),
        sample(1, base.replace("three", "3"), "Sleep, move, eat well."),
        sample(2, "Summarise the plot of Hamlet in two sentences.", "A prince avenges his father."),
        sample(3, base, "Stay warm."),  # same prompt exactly: duplicate_instruction, still in the group
        sample(4, "Name a prime number.", "7"),
    ]
    out = run_audit(rows, scorers=["near_duplicate"])
    groups = [rec.get("duplicate_group") for rec in out.samples]
    assert groups[0] == groups[1] == groups[3] is not None
    assert groups[2] is None and groups[4] is None
    assert _flags(out, 1) == ["near_duplicate"] and out.samples[1]["flags"][0]["related"] == [0, 3]
    assert _flags(out, 0) == [] and _flags(out, 3) == []
    fig = out.report["dimensions"]["noise"]["figures"]["near_duplicate"]
    assert fig["groups"] == 1 and fig["samples_in_groups"] == 3


def test_shared_passage_with_different_tasks_is_not_a_near_duplicate() -> None:
    passage = (
        "The industrial revolution began in Britain in the late eighteenth century and spread to "
        "continental Europe and North America, changing how goods were made and how people lived."
    )
    rows = [
        Sample(0, (Turn("user", "Summarise the passage.\n\n" + passage), Turn("assistant", "It changed work."))),
        Sample(
            1,
            (
                Turn("user", "List every place name in the text.\n\n" + passage),
                Turn("assistant", "Britain, Europe, North America"),
            ),
        ),
    ]
    out = run_audit(rows, scorers=["near_duplicate", "conflicting_answers"])
    assert all(rec["flags"] == [] and "duplicate_group" not in rec for rec in out.samples)


def test_conflicting_answers_flag_both_samples() -> None:
    rows = [
        sample(0, "Is the following review positive or negative? The food was cold.", "Negative"),
        sample(1, "Is the following review positive or negative? The food was cold!", "Positive"),
        sample(2, "Is the following review positive or negative? The food was cold.", "negative."),
        sample(3, "天空是什么颜色的？", "蓝色。"),
        sample(4, "天空是什么颜色的", "绿色"),
    ]
    out = run_audit(rows, scorers=["near_duplicate", "conflicting_answers"])
    assert "conflicting_answers" in _flags(out, 1)
    assert sorted(f["related"] for f in out.samples[1]["flags"] if f["code"] == "conflicting_answers") == [[0, 2]]
    assert "conflicting_answers" in _flags(out, 0) and "conflicting_answers" in _flags(out, 2)
    assert "conflicting_answers" in _flags(out, 3) and "conflicting_answers" in _flags(out, 4)


def test_lsh_bands_catch_a_pair_at_the_threshold() -> None:
    from scorers._minhash import lsh_params

    for t in (0.5, 0.7, 0.8, 0.9):
        b, r = lsh_params(t, 128)
        assert b * r <= 128 and 1 - (1 - t**r) ** b >= 0.99


def test_politeness_is_ignored_and_other_numbers_make_other_problems() -> None:
    rows = [
        sample(0, "What is the capital of France?", "Paris."),
        sample(1, "Please, what is the capital of France? Thanks!", "Paris."),
        sample(2, "小明有5个苹果，小红有3个苹果，他们一共有多少个苹果？", "一共有8个苹果。"),
        sample(3, "小明有4个苹果，小红有2个苹果，他们一共有多少个苹果？", "一共有6个苹果。"),
        sample(4, "请问小明有5个苹果，小红有3个苹果，他们一共有多少个苹果？", "答案是9个。"),
    ]
    out = run_audit(rows, scorers=["near_duplicate", "conflicting_answers"])
    groups = [r.get("duplicate_group") for r in out.samples]
    assert groups[0] == groups[1] is not None
    assert groups[2] == groups[4] is not None and groups[3] is None
    assert "conflicting_answers" in _flags(out, 4) and "conflicting_answers" in _flags(out, 2)
    assert "different" in next(f["reason"] for f in out.samples[4]["flags"] if f["code"] == "conflicting_answers")


def test_long_answers_worded_differently_are_not_conflicts() -> None:
    a1 = "SQL is a language for querying relational databases, used to select, insert and update rows in tables."
    a2 = "Structured Query Language lets analysts ask questions of stored data and change records declaratively."
    rows = [sample(0, "What is SQL?", a1), sample(1, "What is SQL?", a2)]
    out = run_audit(rows, scorers=["near_duplicate", "conflicting_answers"])
    assert all("conflicting_answers" not in _flags(out, i) for i in range(2))


def test_a_template_about_another_name_is_another_question() -> None:
    rows = [
        sample(0, "What are the words of House Allyrion?", '"No Foe May Pass"'),
        sample(1, "What are the words of House Royce?", '"We Remember"'),
        sample(2, "Who is the CEO of Apple?", "Tim Cook."),
        sample(3, "Who is the CEO of Google?", "Sundar Pichai."),
        sample(4, "Please tell me the capital city of the country of France in Europe", "Paris."),
        sample(5, "Tell me the capital city of the country of France", "Paris."),
    ]  # a name dropped: same ask
    out = run_audit(rows, scorers=["near_duplicate", "conflicting_answers"])
    groups = [r.get("duplicate_group") for r in out.samples]
    assert groups[0] is None and groups[1] is None and groups[2] is None and groups[3] is None
    assert groups[4] == groups[5] is not None
    assert all(out.samples[i]["flags"] == [] for i in range(4))


def test_a_narrower_ask_formula_or_day_is_another_question() -> None:
    """Rows read by hand (bench/flag_verdicts.jsonl): Dolly 1701 "the most popular sport in Brazil" is not Dolly 360
    "the most popular sport"; Dolly 2227 / 920 "… with corresponding points" asks for more; toolformer 3580 / 1818
    differ in one operator; toolformer 4016 asks tomorrow's weather, 3473 today's. A name that only qualifies a
    shared one ("Tokyo, Japan"), says how to answer ("… using WolframAlpha"), politeness, a dropped word or "today" /
    "right now" still make near duplicates."""
    rows = [
        sample(0, "What is the most popular sport?", "Football."),
        sample(1, "What is the most popular sport in Brazil?", "Football."),
        sample(2, "Give me a list of Premier League winners in the last 5 years.", "City, City, Liverpool"),
        sample(3, "Give me a list of Premier League winners in the last 5 years with corresponding points.", "City 93"),
        sample(4, "What is the derivative of x^3 + 2x^2 - x + 1?", "3x^2 + 4x - 1"),
        sample(5, "What is the derivative of the function x^3 + 2x^2 + x + 1?", "3x^2 + 4x + 1"),
        sample(6, "What is the weather like in London tomorrow?", "weather('London tomorrow')"),
        sample(7, "What is the weather like in London?", "weather('London')"),
        sample(8, "What is the weather like in London right now?", "weather('London now')"),
        sample(9, "What is the population of Tokyo?", "wolfram('population of Tokyo')"),
        sample(10, "What is the population of Tokyo, Japan?", "wolfram('population of Tokyo')"),
        sample(11, "Calculate the square root of 144", "12"),
        sample(12, "Calculate the square root of 144 using WolframAlpha", "wolfram('square root of 144')"),
        sample(13, "Please give me three tips for staying healthy and happy.", "Sleep, move, eat well."),
        sample(14, "Give me three tips for staying healthy.", "Sleep, move, eat well."),
    ]
    out = run_audit(rows, scorers=["near_duplicate"])
    groups = [r.get("duplicate_group") for r in out.samples]
    assert groups[:7] == [None] * 7
    for a, b in ((7, 8), (9, 10), (11, 12), (13, 14)):
        assert groups[a] == groups[b] is not None, (a, b)


def test_pair_rules_for_near_duplicates() -> None:
    from scorers.text.numbers import adds_a_clause, narrows_by_name, same_formulas, same_time

    assert narrows_by_name("What is the most popular sport?", "What is the most popular sport in Brazil?")
    assert narrows_by_name("What is the current weather in London?", "What is the current weather in London and Paris?")
    assert not narrows_by_name("What is the weather in London?", "What is the weather in London, United Kingdom?")
    assert not narrows_by_name("How long is the Great Wall?", "How long is the Great Wall according to WolframAlpha?")
    assert not narrows_by_name("Tell me the capital of France, please", "Tell me the capital of France")
    assert adds_a_clause("说出三种计算机编程语言。", "说出三种计算机编程语言及其用途。")
    assert adds_a_clause("What is the capital of France?", "What is the capital of France and its population?")
    assert not adds_a_clause("Area of a circle with a radius of 6.", "Area of a circle with radius 6, using Python")
    assert not adds_a_clause(
        "How many seconds are in a day?", "How many seconds are in a day? Do it with WolframAlpha."
    )
    assert not same_formulas("Solve 2x + 3 = 7", "Solve 2x - 3 = 7")
    assert same_formulas("What is 5 + 3?", "Calculate 5+3") and same_formulas(
        "What is the derivative of y = x^3?", "… of x^3"
    )
    assert not same_time("weather in Paris tomorrow", "weather in Paris") and same_time("news today", "news")
    assert not same_time("明天北京的天气怎么样？", "北京的天气怎么样？")
