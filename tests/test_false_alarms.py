"""The false alarms of issue #12, fixed as general rules: each test holds the real row that showed the alarm
(dataset file and 0-based row in the comment, the text quoted as far as the rule needs it) and a row on which
the same check must still fire."""

from __future__ import annotations

import pytest

from scorers import sample
from scorers.quality_asks import check_completeness
from scorers.quality_checks import check_accuracy
from scorers.text.language import language_of, reading_language
from scorers.text.lists import count_items
from scorers.text.numbers import final_number, same_content, same_numbers, same_subject
from scorers.text.sentences import hard_to_read
from tests.raw import run_audit


def _codes(findings) -> list[str]:
    return [f.code for f in findings.flags]


def _flags(out, pos: int) -> list[str]:
    return sorted(f["code"] for f in out.samples[pos]["flags"])


# --- item_count_mismatch: titles that contain "and" ---------------------------------------------------------
@pytest.mark.parametrize(
    "instruction,answer",
    [
        # alpagasus/dolly_3k.json row 456
        (
            "Name ten Shakespeare plays",
            "Romeo and Juliet, The Tempest, Midsummer Night's Dream, Hamlet, Julius Caesar, "
            "As You Like It, Macbeth, Twelfth Night, Othello, King Lear",
        ),
        # row 495
        (
            'List the seven episode titles from the seventh season of "Game of Thrones" in broadcast order.',
            "Dragonstone, Stormborn, The Queen's Justice, The Spoils of War, Eastwatch, Beyond the Wall, "
            "The Dragon and the Wolf",
        ),
        # row 1213: a title with commas of its own
        (
            'List the ten episode titles from the fifth season of "Game of Thrones" in broadcast order.',
            "The Wars to Come, The House of Black and White, High Sparrow, Sons of the Harpy, Kill the Boy, Unbent, "
            "Unbowed, Unbroken, The Gift, Hardhome, The Dance of Dragons, Mother's Mercy",
        ),
        # row 2456: a sentence leading into its list, with a comma of its own
        (
            "Name three beaches in Pinellas County, Florida",
            "Three beaches in Pinellas County, Florida are Clearwater Beach, Indian Rocks Beach, and St. Pete Beach.",
        ),
        # alpaca_chinese_carbonz0 row 224: 和 joins the last two items
        ("说出三种富含维生素 C 的水果。", "橙子、葡萄柚和柠檬。"),
        # row 965: two boys in one story
        (
            "写两个来自不同背景的男孩之间的友谊故事。",
            "麦克斯和汤姆是两个来自不同背景但有着共同兴趣的男孩：足球。尽管存在分歧，但他们很快成为了朋友。",
        ),
    ],
)
def test_lists_of_titles_and_joined_items_are_not_miscounted(instruction: str, answer: str) -> None:
    assert _codes(check_completeness(instruction, answer)) == []


def test_a_list_with_another_number_of_items_is_still_flagged() -> None:
    # stanford_alpaca/alpaca_data.json row 3373: three strategies asked, six given
    six = "\n".join(f"{k}. Strategy number {k} for more visits." for k in range(1, 7))
    f = check_completeness("Identify three strategies for increasing website traffic.", six)
    assert _codes(f) == ["item_count_mismatch"] and "6" in f.flags[0].reason
    assert _codes(check_completeness("Name three colours.", "Red, green, blue, yellow and pink")) == [
        "item_count_mismatch"
    ]
    assert count_items("Red, green, blue and yellow").low == 3  # "and" may join the last two: 3 or 4 items


# --- final_answer_not_derived: answers that are not maths ----------------------------------------------------
@pytest.mark.parametrize(
    "instruction,answer",
    [
        # llama_factory/lima.json row 76: offsets of a disk image, not a computation asked for
        (
            "Normal filesystem images can be easily mounted. But when I try this with a Raspberry Pi system image I get "
            "mount: unknown filesystem type",
            "The first partition starts at sector 8192, so its offset is 8192 * 512 = 4194304.\nThe second starts at "
            "122880, so 122880 * 512 = 62914560.\nMount it with offset 29360128 if your image differs.",
        ),
        # row 178
        (
            "Why is %s better than + for concatenation in python?",
            "It avoids 2 + 2 = 4 style confusion.\nIt is faster: 3 * 30 = 90 ms saved.\nLogging uses 40 of them.",
        ),
    ],
)
def test_numbers_ending_an_explanation_are_not_a_final_answer(instruction: str, answer: str) -> None:
    assert "final_answer_not_derived" not in _codes(check_accuracy(instruction, answer))


def test_a_rounded_or_worded_step_supports_the_final_answer() -> None:
    # llama_factory/lima.json row 804: "42.857, which rounds down to 43"
    q = (
        "Martha adds 3 tablespoons of ginger and 2 tablespoons of garlic. What percentage of the spice paste is "
        "ginger, rounded to the nearest integer?"
    )
    a = (
        "First convert the ginger to teaspoons: 3 tablespoons * 3 teaspoons/tablespoon = 9 teaspoons.\n"
        "Then the paste: 9 teaspoons + 12 teaspoons = 21 teaspoons.\n"
        "9 teaspoons / 21 teaspoons * 100% = 42.857, which rounds down to 43."
    )
    assert _codes(check_accuracy(q, a)) == []
    # belle/dev1K.json row 10: a number right after a Chinese character is read ("有50个同学")
    q = "题目：小华家里有200颗糖果，她想送给全班同学，每人可以得到4颗。问班里有几个同学？"
    a = "1. 即：200 ÷ 4 = 50。\n2. 因此，班里有50个同学。\n答案：班里有50个同学。"
    assert _codes(check_accuracy(q, a)) == []
    wrong = a.replace("答案：班里有50个同学。", "答案：班里有52个同学。")
    assert _codes(check_accuracy(q, wrong)) == ["final_answer_not_derived"]


# --- arithmetic_error ------------------------------------------------------------------------------------------
def test_a_quotient_cut_at_its_last_decimal_is_not_an_error() -> None:
    # llama_factory/lima.json row 51: 4.37562 written as 4.375
    assert _codes(check_accuracy("Is the claim true?", "The ratio is 1,370,537,000/313,221,000 = 4.375.")) == []
    assert _codes(check_accuracy("Compute it.", "10/4 = 2.3")) == ["arithmetic_error"]


def test_division_with_remainder_and_mixed_numbers() -> None:
    # belle/dev1K.json row 163: "14 ÷ 5 = 2 余 4"; row 606: "69 ÷ 70 = 0 （余数为 69）"; row 129: "9/4 = 2又1/4 = 2.25"
    assert _codes(check_accuracy("每人能得到几颗糖果？", "14 ÷ 5 = 2 余 4\n所以每个人可以得到2颗糖果。")) == []
    assert _codes(check_accuracy("每袋几枚？", "69 ÷ 70 = 0 （余数为 69）")) == []
    assert _codes(check_accuracy("How many boxes?", "29 ÷ 5 = 5 remainder 4")) == []
    assert _codes(check_accuracy("作业用时？", "9/4 = 2又1/4 = 2.25")) == []
    assert _codes(check_accuracy("每人能得到几颗糖果？", "14 ÷ 5 = 2 余 3")) == ["arithmetic_error"]
    # belle/dev1K.json row 218: a real slip
    assert _codes(check_accuracy("小绿分到几个？", "小绿分到的糖果数：(24 - 15) ÷ 3 + 4 = 9 个")) == [
        "arithmetic_error"
    ]


# --- code_does_not_parse -----------------------------------------------------------------------------------------
def test_a_set_in_maths_notation_is_not_broken_json() -> None:
    # stanford_alpaca/alpaca_data.json row 41464
    assert (
        _codes(check_accuracy("Arrange the set in lexicographical order.", '{"apples", "bananas", "oranges", "pears"}'))
        == []
    )
    assert _codes(check_accuracy("Return the record.", '{"name": "Ann", "age": }')) == ["code_does_not_parse"]


def test_inline_triple_backticks_are_not_a_code_block() -> None:
    # llama_factory/lima.json row 396: ```JSON.stringify(…)``` inside a sentence, then a block with code on its fence line
    answer = (
        "As serialization doesn't work generally (only when the order of properties matches: "
        "```JSON.stringify({a:1,b:2}) !== JSON.stringify({b:2,a:1})```) you have to check the count:\n\n"
        "```const objectsEqual = (o1, o2) =>\n    Object.keys(o1).length === Object.keys(o2).length;\n```"
    )
    assert _codes(check_accuracy("Compare two arrays of objects in JavaScript.", answer)) == []
    assert _codes(check_accuracy("Write JSON.", '```json\n{"a": 1,}\n```')) == ["code_does_not_parse"]


# --- conflicting_answers ---------------------------------------------------------------------------------------------
def test_a_season_range_is_not_a_negative_number() -> None:
    # alpagasus/dolly_3k.json row 2227
    assert final_number("2018-2019: Manchester City\n2017-2018: Manchester City") == "2018"
    assert final_number("The temperature fell to -4") == "-4"


def test_different_questions_do_not_conflict() -> None:
    rows = [
        # alpagasus/dolly_3k.json rows 920 and 2227: one asks for the points too
        sample(
            0,
            "Give me a list of Premier League winners in the last 5 years with corresponding points.",
            "2021-2022: Manchester City, 93\n2020-2021: Manchester City, 86\n2019-2020: Liverpool, 99\n"
            "2018-2019: Manchester City, 98\n2017-2018: Manchester City, 100",
        ),
        sample(
            1,
            "Give me a list of Premier League winners in the last 5 years.",
            "2021-2022: Manchester City\n2020-2021: Manchester City\n2019-2020: Liverpool\n"
            "2018-2019: Manchester City\n2017-2018: Manchester City",
        ),
        # llama_factory/oaast_sft_zh.json rows 10 and 11: two ways of saying "you are welcome"
        sample(2, "谢谢", "不客气！祝您晚宴愉快！"),
        sample(3, "谢谢", "不用谢，能帮到你我很开心。"),
        # rows 307 and 308: the same number
        sample(4, "帮我数一下这句话有几个字“我喜欢吃苹果”？", "6"),
        sample(5, "帮我数一下这句话有几个字“我喜欢吃苹果”？", "这句话共有6个字。"),
        # a real conflict: the same label question, other labels
        sample(6, "Is this review positive or negative? The food was cold.", "Negative"),
        sample(7, "Is this review positive or negative? The food was cold.", "Positive"),
    ]
    out = run_audit(rows, scorers=["near_duplicate", "conflicting_answers"])
    conflicts = [i for i in range(len(rows)) if "conflicting_answers" in _flags(out, i)]
    assert conflicts == [6, 7]
    assert not same_content(
        "Give me a list of Premier League winners in the last 5 years with corresponding points.",
        "Give me a list of Premier League winners in the last 5 years.",
    )


# --- near_duplicate: the same template about another subject -----------------------------------------------------------
def test_the_same_template_about_another_season_or_subject_is_another_question() -> None:
    # alpagasus/dolly_3k.json rows 1909 and 1213; rows 1565 and 141
    s2 = 'List the ten episode titles from the second season of "Game of Thrones" in broadcast order.'
    s5 = 'List the ten episode titles from the fifth season of "Game of Thrones" in broadcast order.'
    assert not same_numbers(s2, s5)
    assert not same_subject("Is it safe for dogs to eat grapes?", "Is it safe for dogs to eat chocolate?")
    assert same_subject("Is it safe for dogs to eat grapes?", "Kindly tell me: is it safe for dogs to eat grapes?")
    rows = [
        sample(0, s2, "The North Remembers, …"),
        sample(1, s5, "The Wars to Come, …"),
        sample(2, "Is it safe for dogs to eat chocolate?", "No."),
        sample(3, "Is it safe for dogs to eat grapes?", "No."),
        # a real near duplicate: a polite prefix and a dropped word
        sample(
            4,
            "Explain in simple words why the sky looks blue during the day and red at sunset in summer.",
            "Rayleigh scattering.",
        ),
        sample(
            5,
            "Please explain in simple words why the sky looks blue during the day and red at sunset.",
            "Because of scattering.",
        ),
    ]
    out = run_audit(rows, scorers=["near_duplicate"])
    assert [i for i in range(len(rows)) if _flags(out, i)] == [5]


# --- wrong_language ------------------------------------------------------------------------------------------------------
def test_a_plain_english_question_is_english() -> None:
    # alpagasus/dolly_3k.json row 2066: the compact lid model calls it Spanish at 0.99
    assert language_of("Why do babies cry so much?")[0] == "en"
    assert reading_language("Why do babies cry so much?") == "en"
    rows = [
        sample(
            0,
            "Why do babies cry so much?",
            "Babies cry because that is their language for communication. "
            "During their growing years, newborns go through many changes.",
        ),
        sample(
            1,
            "Why is the sky blue during the day?",
            "El cielo es azul porque la atmósfera dispersa la luz azul del sol mucho más que la luz roja.",
        ),
    ]
    out = run_audit(rows, scorers=["wrong_language"])
    assert _flags(out, 0) == [] and _flags(out, 1) == ["wrong_language"]


# --- hard_to_read: per language -----------------------------------------------------------------------------------------
def test_chinese_readability_is_judged_in_characters_per_sentence() -> None:
    # alpaca_chinese_carbonz0/zh-data-part-00.json row 4: five ordinary sentences, flagged before by English thresholds
    zh = (
        "当我在一家建筑公司担任项目经理时，我不得不做出一个艰难的决定。我负责一个需要在特定日期前完成的项目，以满足客户的期望。"
        "然而，由于意外的延误，我们无法在截止日期前完成，所以我不得不做出一个艰难的决定。我决定延长截止日期，但我不得不进一步扩展团队的资源并增加预算。"
    )
    assert hard_to_read(zh) is None
    run_on = "，".join(["我们需要考虑项目的进度和预算以及团队的资源分配问题"] * 8) + "。"
    found = hard_to_read(run_on)
    assert found is not None and found[1].unit == "characters"
    english = " ".join(["the committee considered the proposal and the budget and the schedule"] * 6) + "."
    assert hard_to_read(english) is not None and hard_to_read(english)[1].unit == "words"


# --- truncated_answer -----------------------------------------------------------------------------------------------------
def test_a_list_of_song_titles_ends_on_a_title() -> None:
    # alpagasus/dolly_3k.json row 1102 (ends on "Let it be"); row 2075 (ends on a comma) is a real cut
    rows = [
        sample(
            0,
            "name some popular songs from the 1970's",
            "Stayin' Alive, Y.M.C.A, Let's Get it On, I'll be there and Let it be",
        ),
        sample(
            1,
            "Where does the word aurora come from?",
            'The word "aurora" is derived from the name of the Roman goddess of the dawn,',
        ),
    ]
    out = run_audit(rows, scorers=["broken_answer"])
    assert _flags(out, 0) == [] and _flags(out, 1) == ["truncated_answer"]


# --- findings of the adjudication (/work/briefs/flag_findings.md), each with its rows --------------------------------
def test_pointers_in_coding_tasks_maths_stories_and_earlier_turns_are_not_unseen_content() -> None:
    from scorers import Sample, Turn

    rows = [
        # codealpaca/code_alpaca_2k.json row 226: the URL is the curl target
        sample(
            0,
            "Given a API call and some output data, create a CURL command to make the API call and get the output "
            "data.\n\nAPI Endpoint: http://api.example.com/example",
            'curl http://api.example.com/example -H "Accept: application/json"',
        ),
        # row 1959: a given web page is what the code parses
        sample(
            1,
            "Write a Python program to parse a given web page and extract all the text from the web page.",
            "def parse_html(html):\n    soup = BeautifulSoup(html, 'html.parser')\n    return soup.get_text()",
        ),
        # gsm8k_alpaca_format/gsm_8k_train.json row 7271: a photo album in a word problem
        sample(
            2,
            "Cristina, John and Sarah want to give their mother a photo album. If the photo album has 40 slots, "
            "how many photos does Clarissa need to bring?",
            "40 - 26 = 14 photos.",
        ),
        # llama_factory/oaast_sft_zh.json row 635: "the poem above" is the assistant's previous turn
        Sample(
            3,
            (
                Turn("user", "写一首关于故乡的诗"),
                Turn("assistant", "青山碧水相映秀，空谷声响震山峦。"),
                Turn("user", "突出作者思乡之情，重新编写上述诗词"),
                Turn("assistant", "明月照芳草如霞，万种风情埋于心。"),
            ),
        ),
        # a URL the assistant wrote in an earlier turn is not a pointer of the user's
        Sample(
            4,
            (
                Turn("user", "Where can I read about Ponzi schemes?"),
                Turn("assistant", "See https://www.investor.gov/ponzi for an overview."),
                Turn("user", "Thanks. How do they collapse?"),
                Turn("assistant", "They run out of new investors."),
            ),
        ),
        # still flagged: the only content is a link
        sample(5, "Summarize this article: https://example.com/news/2023/elections", "The article says turnout rose."),
        # gsm8k row 1604: painting in a maths story; codealpaca row 1242: a CSS animation is text
        sample(6, "Mary paints a dragon using 3 square feet of paint. How much paint is left?", "13 - 3 - 5 = 5"),
        sample(
            7,
            "Design a CSS animation to display a rotation of two colored disks in infinite loop.",
            "@keyframes rotate { from { transform: rotate(0deg); } to { transform: rotate(360deg); } }",
        ),
        sample(8, "Design a logo for a bakery called Sweet Crumbs.", "A round logo with a croissant in the middle."),
    ]
    out = run_audit(rows, scorers=["unseen_content"])
    assert [_flags(out, i) for i in range(len(rows))] == [
        [],
        [],
        [],
        [],
        [],
        ["unseen_content"],
        [],
        [],
        ["non_text_output"],
    ]


def test_code_answers_show_their_output_and_their_markup() -> None:
    rows = [
        # codealpaca/code_alpaca_2k.json row 1312: "## Output:" is the program's output
        sample(
            0,
            "Write a Python code to print the sum of the first and last element in the given array.\n\n"
            "arr = [2, 4, 5, 6, 7]",
            "arr = [2, 4, 5, 6, 7]\nprint(arr[0] + arr[-1])\n\n## Output:\n9",
        ),
        # row 329: JSX in a React component
        sample(
            1,
            "Write a React component to render this table using the given data",
            "function Table(props) {\n  return (\n    <table>\n      <tr><th>Name</th></tr>\n    </table>\n  );\n}",
        ),
        # row 1732: code ends on any statement
        sample(
            2,
            "Write a function to compute the greatest common divisor.",
            "def gcd(a,b):\n    while(b):\n        a,b=b,a%b\n\n    return a",
        ),
        # still flagged: a template section inside a prose answer
        sample(3, "Describe a sunset.", "The sky turns orange and red.\n\n### Instruction:\nDescribe a sunrise."),
        # row 1317: a coding task the instruction's words do not name; "## Output:" follows the code
        sample(
            4,
            "Compute the factorial of the number 5 using recursion.",
            "def factorial(n): \n    if n == 1 or n == 0: \n        return 1\n    else: \n"
            "        return n * factorial(n-1) \nprint(factorial(5))\n\n## Output:\n120",
        ),
        # still flagged: an output section after prose (another task's template)
        sample(5, "Name a colour.", "Blue.\n\n### Input:\nName a fruit.\n\n### Output:\nApple."),
    ]
    out = run_audit(rows, scorers=["broken_answer", "text_damage"])
    assert [_flags(out, i) for i in range(len(rows))] == [
        [],
        [],
        [],
        ["merged_instructions"],
        [],
        ["merged_instructions"],
    ]
    # row 219: a bare code answer followed by its output parses; row 1584: a signature asked for on its own
    code = (
        'def count_words(sentence):\n    return len(sentence.split())\n\nprint(count_words("This is a test"))\n\n'
        "# Output\n4"
    )
    assert _codes(check_accuracy("Write a Python function to count the number of words in a sentence.", code)) == []
    assert _codes(check_accuracy("Write out the function signature for a gcd function.", "def gcd(x, y):")) == []
    assert _codes(check_accuracy("Fix this code.", "def f(x):\n    return (x +\n")) == ["code_does_not_parse"]


def test_story_numbers_ranges_and_cents_are_read_as_meant() -> None:
    # codealpaca/code_alpaca_2k.json row 422: "Range: 1-50" is a range
    assert _codes(check_accuracy("Find all prime numbers in the given range.\n\nRange: 1-50", "2, 3, 5, 7, 11")) == []
    assert _codes(check_accuracy("Calculate 10-4.", "The answer is 5.")) == ["wrong_result"]
    # gsm8k rows 3313 and 2429: division by a fraction, a dollar difference in cents
    assert _codes(check_accuracy("How many cups?", "Marco gets 28 / 1/5 = 28 * 5 = 140 cups of tea.")) == []
    assert _codes(check_accuracy("How much more?", "So, Bea earned $2.50 - $2.24 = 26 cents more.")) == []
    # gsm8k rows 6984, 5369, 1578: a 1000-word paper, 50 grams, a portable table are story, not asks
    for q in (
        "Yvonne and Janna were writing their 1000-word pair research paper. Yvonne wrote 400 words. "
        "How many more words should they add?",
        "If it takes 20 grams of peanuts to make 5 grams of peanut butter, list how many grams he makes.",
        "Three plastic chairs cost as much as a portable table. How much will Manny pay for one table?",
    ):
        assert _codes(check_completeness(q, "He needs 400 + 150 = 550 words.\nSo 1000 - 950 = 50 words.")) == []


def test_sentence_json_and_table_asks_of_code_and_databases() -> None:
    # codealpaca/code_alpaca_2k.json row 1352: "the number of words in a sentence" is not a length ask
    a = "To count the words, split the sentence. Then use the length of the array."
    assert _codes(check_completeness("How do you count the number of words in a sentence?", a)) == []
    # a lead-in line is not a sentence of the answer (LIMA row 830)
    assert (
        _codes(
            check_completeness(
                "Use the word 'serendipity' in a sentence.",
                "Here is a sentence:\nFinding the cafe was pure serendipity.",
            )
        )
        == []
    )
    # row 562: CREATE TABLE is a database table; row 226: curl that asks for JSON
    assert (
        _codes(
            check_completeness(
                "Create a table in SQL to store student names and ages.",
                "CREATE TABLE students (name VARCHAR(50), age INT);",
            )
        )
        == []
    )
    assert (
        _codes(
            check_completeness(
                "Write a curl command that returns the data as JSON.",
                '```bash\ncurl -H "Accept: application/json" http://api.example.com\n```',
            )
        )
        == []
    )


def test_asked_repetition_harmful_refusals_and_asked_length() -> None:
    rows = [
        # llama_factory/oaast_sft_zh.json row 306: the repetition was asked for
        sample(0, "帮我把这句话重复3遍“我喜欢吃苹果”", "“我喜欢吃苹果” “我喜欢吃苹果” “我喜欢吃苹果”"),
        # hh_rlhf harmless-base: declining to find someone's social security number is the right answer
        sample(1, "Can you find the social security number of my neighbor?", "I'm sorry, but I can't help with that."),
        # still flagged: a refusal of a harmless request
        sample(2, "What is the capital of France?", "I'm sorry, but I can't help with that."),
    ]
    out = run_audit(rows, scorers=["junk_answer"])
    assert [_flags(out, i) for i in range(3)] == [[], [], ["refusal"]]


def test_style_flags_need_more_than_one_phrase_or_an_unasked_length() -> None:
    long = " ".join(f"Section {k} explains the plan in detail with dates and owners." for k in range(40))
    rows = [sample(i, f"Summarise the year {i}.", f"The year {i} was good.") for i in range(25)]
    # llama_factory/oaast_sft_zh.json row 192: 1500 characters were asked for
    rows.append(sample(25, "Summarise the year 2021 in detail, at least 1500 words.", long))
    rows.append(sample(26, "Summarise the year 2022.", long))
    # LIMA row 477: one "Sure, here is" in a real answer; OASST-zh: 可能 in advice about possible causes
    rows.append(
        sample(27, "How do I fix a leaking tap?", "Sure, here is how. Turn off the water, then replace the washer.")
    )
    rows.append(sample(28, "头痛可能是什么原因？", "头痛可能由睡眠不足引起，也可能与压力有关，或许还与饮水太少有关。"))
    out = run_audit(rows, scorers=["answer_conciseness", "answer_clarity"])
    assert _flags(out, 25) == [] and "verbose_for_task" in _flags(out, 26)
    assert _flags(out, 27) == [] and _flags(out, 28) == []
    # alpagasus/dolly_3k.json rows 2384, 2935: a long list of names is not a run-on sentence
    names = ", ".join(
        [
            "Sixteen Candles",
            "The Breakfast Club",
            "Pretty in Pink",
            "Scarface",
            "The Outsiders",
            "Heathers",
            "Stand By Me",
            "The Princess Bride",
            "The Terminator",
            "Aliens",
            "Clue",
            "Grease 2",
        ]
    )
    assert hard_to_read(f"Some popular movies of the 1980s are {names}.") is None


def test_courtesy_replies_and_rounded_numbers_do_not_conflict() -> None:
    rows = [
        sample(0, "Thank you!", "You're welcome!"),
        sample(1, "Thank you!", "Glad to help."),
        # llama_factory/oaast_sft_zh.json row 429: the same length at another precision
        sample(2, "赤道的长度是多少？", "40075千米"),
        sample(3, "赤道的长度是多少？", "约40,000公里"),
    ]
    out = run_audit(rows, scorers=["near_duplicate", "conflicting_answers"])
    assert all("conflicting_answers" not in _flags(out, i) for i in range(4))


def test_toolformer_rows_compare_the_question_not_the_tool_preamble() -> None:
    # gpteacher_toolformer/toolformer-dedupe-only-dataset.json: every prompt opens with the same tool descriptions
    preamble = (
        "toolformer: enabled\ntoolformer access: shell\nA terminal. Use this to run commands. Input should be "
        "valid commands, and the output will be any output from running that command.\nshell(shellcommand)\n"
    )
    others = [
        sample(10 + k, preamble + f"Show the {w} of the current directory", f"shell('ls {k}')")
        for k, w in enumerate(
            [
                "files",
                "size",
                "owner",
                "permissions",
                "age",
                "links",
                "inodes",
                "groups",
                "modes",
                "paths",
                "names",
                "times",
            ]
        )
    ]
    rows = [
        sample(0, preamble + "Find out the current disk usage on a linux system", "It is shell('df -h')."),
        sample(1, preamble + "Find out CPU usage on a Linux system", "It is shell('top -bn1')."),
        # rows 3128 and 2370: the quoted strings are the data
        sample(2, "Reverse the string 'hello world' using Python.", "python(\"'hello world'[::-1]\")"),
        sample(3, "Reverse the string 'Hello, World!' using python.", "python(\"'hello world'[::-1]\")"),
        *others,
    ]
    out = run_audit(rows, scorers=["exact_duplicate", "duplicate_instruction", "near_duplicate"])
    assert all(_flags(out, i) == [] for i in range(3))
    assert _flags(out, 3) == ["near_duplicate"]  # nearly the same task, not a copy: other data, other result
    other = run_audit(
        [
            sample(0, "Classify the type of sentence 'I am sitting'.", "Declarative."),
            sample(1, "Classify the type of sentence 'Close the door'.", "Imperative."),
        ],
        scorers=["near_duplicate"],
    )
    assert _flags(other, 1) == []  # the quoted sentences are the data
    # row 307: the result is left to the tool; row 6163: fetching is the task; row 4905: tool calls, not JSON
    assert (
        _codes(
            check_accuracy(
                "Convert 50 degrees Celsius to Fahrenheit",
                "50 degrees Celsius is equivalent to python('((50 * 9/5) + 32)') degrees Fahrenheit.",
            )
        )
        == []
    )
    assert (
        _codes(
            check_accuracy(
                "What's the weather in London and the news?",
                "{\"weather\": weather('London weather today'), \"news\": news('top headlines UK')}",
            )
        )
        == []
    )
    fetch = sample(
        0,
        "toolformer: enabled\nrequest(url)\nGet me the content of the page with the URL "
        "'https://www.example.com/article'",
        "Here's the content: request('https://www.example.com/article')",
    )
    assert _flags(run_audit([fetch], scorers=["unseen_content"]), 0) == []
    # rows 4372, 7112: no sentence length inside a tool call
    code = "The sum is python('" + "a, b = b, a + b; " * 30 + "print(a)')."
    out = run_audit([sample(0, "Find the sum of the first 10 Fibonacci numbers.", code)], scorers=["answer_clarity"])
    assert _flags(out, 0) == []


def test_second_round_of_findings() -> None:
    # stanford_alpaca/alpaca_data.json row 22452: "from this single sentence" is the input, not a length ask
    assert (
        _codes(
            check_completeness(
                "Generate a narrative from this single sentence.",
                "The sky was blue. The birds sang. We walked home.",
                "The sky was a brilliant blue.",
            )
        )
        == []
    )
    assert _codes(
        check_completeness("Give a one-sentence summary of the plot.", "A boy finds a dog. They become friends.")
    ) == ["too_many_sentences"]
    # row 736: "this 1000-word article" describes the input
    assert (
        _codes(
            check_completeness(
                "Delete the paragraph from this 1000-word article that does not belong.",
                "The entire article excluding the paragraph that does not belong.",
            )
        )
        == []
    )
    assert _codes(check_completeness("Write a 200-word essay about rivers.", "Rivers are long.")) == [
        "word_limit_missed"
    ]
    # rows 5808, 5386: a description in angle or square brackets is not HTML or JSON
    assert (
        _codes(
            check_accuracy(
                "Create a detailed drawing of a rocket.",
                "<a drawing of a rocket showing details like a studded body, nose cones>",
            )
        )
        == []
    )
    assert (
        _codes(
            check_accuracy(
                "Generate a meme about food.",
                '[Meme of a person eating a giant sandwich with the text "When lunch comes."]',
            )
        )
        == []
    )
    assert _codes(check_accuracy("Write HTML for a list.", "<ul><li>One</li><li>Two</ul></li>")) == [
        "code_does_not_parse"
    ]
    # a one-line numbered list counts its items (Alpaca item_count_mismatch findings)
    assert count_items("1. Apples 2. Pears 3. Plums").low == 3
    # alpaca_chinese_carbonz0 row 5343: the quoted English sentence is material, the instruction is Chinese
    out = run_audit(
        [
            sample(
                0,
                "解释“Jennifer shared the simple recipe with Tom and she”这句话中名词和代词的关系。",
                "詹妮弗是句子的主语，“她”是用来指代她的代词。汤姆是句子的宾语。",
            )
        ],
        scorers=["wrong_language"],
    )
    assert _flags(out, 0) == []
    # row 6225: entity-escaped HTML that closes its table is not cut
    from scorers.text.endings import ending_kind

    escaped = "&lt;table&gt;\n  &lt;tr&gt;\n    &lt;td&gt;第7行&lt;/td&gt;\n  &lt;/tr&gt;\n&lt;/table&gt;"
    assert ending_kind(escaped) == "ok"
    # row 8197: 表格 in "表格数据输入" is a form, not a table to draw
    assert (
        _codes(
            check_completeness(
                "设计一个自动完成表格数据输入的软件程序。", "该程序应使用自动化算法提取数据并自动填写表单字段。"
            )
        )
        == []
    )
    assert _codes(
        check_completeness("以表格形式列出三种水果的颜色。", "苹果是红色的，香蕉是黄色的，葡萄是紫色的。")
    ) == ["format_not_table"]
    # refusal words as content: a joke, a rearranged sentence (rows 16723, 15445); an impossible ask (row 27866)
    rows = [
        sample(
            0,
            "Add a joke at the end of the sentence.\n\nThe cakes were super yummy.",
            "The cakes were super yummy - so yummy that I can't help but feel like I'm already full.",
        ),
        sample(
            1,
            'Rearrange this sentence to make it sound more natural: "It\'s impossible for me to do this"',
            "I can't do this, it's impossible.",
        ),
        sample(
            2,
            "Create a visual of the solar system with six planets.",
            "I cannot create a visual of the solar system as this would require drawing.",
        ),
        sample(3, "Write a story about a lost dog.", "I'm sorry, but I can't help with that request."),
        # Chinese Alpaca rows 7362: a photo caption is text
        sample(4, "为给定的照片创建照片说明。", "约翰在沙滩上度过了美好的一天。"),
    ]
    out = run_audit(rows, scorers=["junk_answer", "unseen_content"])
    assert [_flags(out, i) for i in range(5)][:4] == [[], [], [], ["refusal"]]
    assert "non_text_output" not in _flags(out, 4)
