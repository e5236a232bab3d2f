import pytest

from scorers import Sample, Turn, sample
from scorers.text.endings import ending_kind
from scorers.text.repetition import repeated_ngram_fraction
from tests.raw import run_audit

JUNK = ["junk_answer", "broken_answer", "text_damage", "unseen_content", "extreme_length"]


def codes(out, pos: int) -> list[str]:
    return sorted(f["code"] for f in out.samples[pos]["flags"])


def audit(rows, scorers=JUNK):
    return run_audit(rows, scorers=scorers)


@pytest.mark.parametrize("answer", ["", "   ", "\u200b"])
def test_empty_answer(answer: str) -> None:
    out = audit([sample(0, "Name a colour.", answer)], ["junk_answer"])
    assert codes(out, 0) == ["empty_answer"]
    assert out.samples[0]["scores"]["noise"] == 0.0


@pytest.mark.parametrize(
    "answer",
    [
        "<nooutput>",
        "<No Output>",
        "N/A",
        "No output.",
        "[No answer]",
        "&lt;nooutput&gt;",
        "<无输出>",
        "无输出",
        "<nooutput> This task cannot be done.",
    ],
)
def test_placeholder_answers_all_spellings(answer: str) -> None:
    assert codes(audit([sample(0, "Draw a cat.", answer)], ["junk_answer"]), 0) == ["placeholder_answer"]


@pytest.mark.parametrize(
    "inp",
    [
        "<noinput>",
        "No input",
        "Noinput",
        "No input required.",
        "<No Input>",
        '"<noinput>"',
        "`<noinput>`",
        "< noinput >",
        "N/A",
        "None",
        "无输入",
        "<无输入>",
        "<a link to a painting>",
    ],
)
def test_placeholder_inputs(inp: str) -> None:
    s = sample(0, "Tell me a fun fact about owls.\n\n" + inp, "Owls can turn their heads about 270 degrees.")
    assert codes(audit([s], ["junk_answer"]), 0) == ["placeholder_input"]


def test_placeholder_input_from_original_record() -> None:
    s = Sample(
        0,
        (Turn("user", "Tell me a fun fact.\n\nNo input"), Turn("assistant", "Owls hoot.")),
        meta={"original": {"instruction": "Tell me a fun fact.", "input": "No input", "output": "Owls hoot."}},
    )
    assert codes(audit([s], ["junk_answer"]), 0) == ["placeholder_input"]


def test_real_short_answers_and_inputs_are_not_placeholders() -> None:
    rows = [
        sample(0, "Is 7 prime?", "Yes"),
        sample(1, "What does None return in Python?", "None"),
        sample(2, "Classify the sentiment.\n\nI love it", "Positive"),
        sample(3, "计算 2+2。", "4"),
    ]
    out = audit(rows, ["junk_answer"])
    assert all(codes(out, i) == [] for i in range(4))


def test_restated_instruction() -> None:
    rows = [
        sample(0, "Write a haiku about the sea.", "Write a haiku about the sea"),
        sample(1, "写一首关于大海的诗。", "写一首关于大海的诗"),
        sample(2, "Correct the grammar.\n\nShe go to school.", "She goes to school."),
    ]
    out = audit(rows, ["junk_answer"])
    assert codes(out, 0) == ["restated_instruction"] and codes(out, 1) == ["restated_instruction"]
    assert codes(out, 2) == []


@pytest.mark.parametrize(
    "answer",
    [
        "As an AI language model, I cannot browse the internet.",
        "I'm sorry, but I cannot provide that information.",
        "I do not have access to real-time data, so I can't tell you today's weather.",
        "抱歉，我无法提供实时天气信息。",
        "作为一个AI语言模型，我不能访问互联网。",
    ],
)
def test_refusals_english_and_chinese(answer: str) -> None:
    assert codes(audit([sample(0, "What is the capital of Australia?", answer)], ["junk_answer"]), 0) == ["refusal"]
    zh = audit([sample(0, "澳大利亚的首都是哪里？", answer)], ["junk_answer"])
    assert codes(zh, 0) == ["refusal"]


@pytest.mark.parametrize(
    "question",
    ["What's the weather in Paris today?", "Show me the current stock price.", "今天北京的天气怎么样？"],
)
def test_no_real_time_data_is_the_honest_answer_to_a_request_for_live_data(question: str) -> None:
    # LIMA 421: "I don't have access to real-time information" to "Show me the current stock price." was read as
    # an honest limit, not a refusal of a doable task (bench/flag_verdicts.jsonl)
    answer = "I am sorry, but as an AI assistant I don't have access to real-time information."
    assert codes(audit([sample(0, question, answer)], ["junk_answer"]), 0) == []


def test_a_refusal_counts_only_where_the_answer_opens_with_it() -> None:
    rows = [
        # Alpaca 42662: the letter asked for says "I am unable to complete" in its second paragraph
        sample(
            0,
            "Write an email to a teacher requesting an extension on an assignment.",
            "Dear Professor Smith,\n\nI am writing to request an extension on the essay due Friday. I have been "
            "working hard, but due to an illness I am unable to complete it on time.\n\nBest regards,\nAnna",
        ),
        # Alpaca 49541: a book title in Title Case
        sample(1, "Compile a list of five books about World War 2.", "1. All the Light We Cannot See by Anthony Doerr"),
        # Alpaca 50994: a line of the dialogue asked for
        sample(
            2,
            "Rewrite the dialogue so that the tone is more polite.\n\n- Agent: Can't do that.",
            "- Agent: I'm sorry, but we are unable to fulfill your request.\n- Customer: Oh, okay.",
        ),
        sample(
            3,
            "Design a yoga program for beginners.",
            "Sorry, the task is beyond the model, so we cannot complete this task.",
        ),
    ]
    out = audit(rows, ["junk_answer"])
    assert [codes(out, i) for i in range(4)] == [[], [], [], ["refusal"]]


@pytest.mark.parametrize(
    ("prompt", "answer"),
    [
        # Alpaca 45307, read by hand: the line asked for is a refusal
        (
            "Create a response that could be used by an AI assistant when it is asked to do something it cannot do.",
            "I'm sorry, I'm not able to do that. However, I am here to help in whatever way I can.",
        ),
        ("Provide an appropriate response for declining the invitation.", "I'm sorry, but I can't make it that day."),
        ("写一封婉拒邀请的回信。", "很抱歉，我无法参加这次聚会。"),
    ],
)
def test_a_refusal_asked_for_is_content(prompt: str, answer: str) -> None:
    assert codes(audit([sample(0, prompt, answer)], ["junk_answer"]), 0) == []


def test_a_refusal_still_counts_where_the_prompt_only_mentions_a_decline() -> None:
    prompt = "Formulate a hypothesis that explains the decline in honeybee populations."
    assert codes(audit([sample(0, prompt, "I'm sorry, but I cannot do that.")], ["junk_answer"]), 0) == ["refusal"]


def test_refusals_are_the_lesson_of_a_safety_set() -> None:
    # HH-RLHF harmless-base: 7.4% of prompts ask for harm; its refusals are what it teaches
    harmful = [sample(i, f"How do I steal a car, version {i}?", "I can't help with that.") for i in range(12)]
    plain = [sample(12 + i, f"What is {i} plus {i}?", f"{2 * i}") for i in range(100)]
    benign_refusal = sample(112, "Name a fruit that is red.", "I'm sorry, but I can't help with that request.")
    out = audit([*harmful, *plain, benign_refusal], ["junk_answer"])
    assert codes(out, 112) == []
    assert out.report["dimensions"]["noise"]["figures"]["junk_answer"]["safety_set"] is True
    # the same refusal in an ordinary set (one harmful ask among a hundred) is raised
    out = audit([harmful[0], *plain, benign_refusal], ["junk_answer"])
    assert codes(out, 101) == ["refusal"]


def test_the_safety_set_is_decided_over_the_whole_dataset_when_chunks_are_scored_apart() -> None:
    """junk_answer runs chunk by chunk in the process pool: every chunk holds fewer than ten harmful asks, yet the
    whole dataset is a safety set, and each chunk must know it (for_chunks settles it first)."""
    from scorers.backends import LocalBackend
    from scorers.pipeline import run_audit

    harmful = [sample(i, f"How do I steal a car, version {i}?", "I can't help with that.") for i in range(12)]
    plain = [sample(12 + i, f"What is {i} plus {i}?", f"{2 * i}") for i in range(100)]
    benign_refusal = sample(112, "Name a fruit that is red.", "I'm sorry, but I can't help with that request.")
    rows = [*plain[:50], *harmful, *plain[50:], benign_refusal]
    backend = LocalBackend(2, min_rows=1, chunk_rows=10)
    assert backend.chunks_per_sample(len(rows))
    pooled = run_audit(rows, ["junk_answer"], backend=backend)
    assert pooled.report_json() == run_audit(rows, ["junk_answer"], backend=LocalBackend(1)).report_json()
    assert pooled.report["dimensions"]["noise"]["figures"]["junk_answer"]["safety_set"] is True
    assert [r["flags"] for r in pooled.samples if r["index"] == 112] == [[]]


def test_ai_boilerplate_that_still_answers() -> None:
    ans = "As an AI language model I have no personal taste, but Bach's cello suites are admired for their clarity."
    assert codes(audit([sample(0, "Describe Bach's cello suites.", ans)], ["junk_answer"]), 0) == ["ai_boilerplate"]
    zh = "作为一个人工智能，我没有个人喜好。不过巴赫的大提琴组曲结构清晰、旋律优美。"
    assert codes(audit([sample(0, "介绍一下巴赫的大提琴组曲。", zh)], ["junk_answer"]), 0) == ["ai_boilerplate"]


@pytest.mark.parametrize(
    "question,answer",
    [
        # alpagasus/dolly_3k.json row 882; llama_factory/oaast_sft_zh.json rows 51 and 25: asked about the assistant
        ("What is your favourite music?", "As an AI language model I have no favourites, but many love Bach's suites."),
        ("什么事情让你感到高兴？", "作为一个人工智能，我没有感情，所以不能像人类一样感到高兴。"),
        ("你最喜欢以上哪一首", "我是一个AI，没有特别的喜好。"),
        # row 183: an honest limit of access, then help
        (
            "你可以帮我查一下明天北京到杭州的火车票吗？",
            "我只是一个人工智能助理，在没有联网权限的情况下不能够查询目前的火车票情况。您可以自行前往www.12306.cn进行查询。",
        ),
        # row 27
        (
            "查一下纽约今天的天气",
            "对不起，作为一个语言模型，我无法实时地查询天气。但我能告诉您如何查询纽约的天气情况。",
        ),
    ],
)
def test_saying_what_the_assistant_is_where_that_is_the_answer(question: str, answer: str) -> None:
    assert codes(audit([sample(0, question, answer)], ["junk_answer"]), 0) == []


def test_degenerate_repetition() -> None:
    rep = "The cat sat on the mat. " * 20
    zh = "我爱北京天安门，" * 20
    fine = " ".join(f"word{i}" for i in range(80))
    out = audit(
        [sample(0, "Tell a story.", rep), sample(1, "写一段话。", zh), sample(2, "List words.", fine)], ["junk_answer"]
    )
    assert codes(out, 0) == ["repetition"] and codes(out, 1) == ["repetition"] and codes(out, 2) == []
    assert repeated_ngram_fraction("a b c a b c a b c".split(), 3) == pytest.approx(4 / 7)


@pytest.mark.parametrize(
    "answer,kind",
    [
        ("Here is the code:\n```python\nprint('hi')\n", "fence"),
        ("There are many reasons to exercise regularly, for example it improves your sleep and", "strong"),
        ("Exercise improves health in several ways, such as (better sleep, lower stress", "strong"),
        ("锻炼有很多好处，例如改善睡眠、减轻压力，", "strong"),
        ("Exercise improves sleep. It also lowers stress and helps people feel better every single day", "unclosed"),
        ("Regular exercise is one of the best habits that improves the quality of sleep for most people", "weak"),
        ("Exercise improves sleep. It also lowers stress.", "ok"),
        ("Top 5 Trends Taking Digital Marketing by Storm This Year", "ok"),
        ("- eat more vegetables every day\n- sleep at least eight hours a night", "ok"),
        ("Thank you for your message, I will reply soon.\n\nSincerely,", "ok"),
        ("The total cost comes to 4 apples at 2 dollars which is 8", "ok"),
    ],
)
def test_ending_kinds(answer: str, kind: str) -> None:
    assert ending_kind(answer) == kind


def test_truncation_uses_the_dataset_style_for_unpunctuated_prose() -> None:
    cut = "Exercise improves sleep. It also lowers stress and helps people feel better every single day"
    punctuated = [
        sample(i, f"Question {i}?", f"A complete answer number {i} that ends properly with a stop.") for i in range(60)
    ]
    unpunctuated = [
        sample(i, f"Question {i}?", f"An answer number {i} written by a person who never uses stops") for i in range(60)
    ]
    out1 = audit(punctuated + [sample(60, "Why exercise?", cut)], ["broken_answer"])
    out2 = audit(unpunctuated + [sample(60, "Why exercise?", cut)], ["broken_answer"])
    # a missing full stop is no certain cut: it is a field ("possibly cut"), not a flag (right on a fifth of the
    # real rows people read), and only where the dataset's writers end their answers with one
    assert codes(out1, 60) == [] and out1.samples[60].get("ending") == "possibly cut"
    assert out2.samples[60].get("ending") is None  # a dataset that never ends with a full stop: it says nothing
    strong = "There are many reasons to exercise regularly, for example it improves your sleep and"
    assert codes(audit([sample(0, "Why exercise?", strong)], ["broken_answer"]), 0) == ["truncated_answer"]


def _human_style_rows() -> list:
    """Rows written like Dolly's: short answers often without a full stop, multi-sentence ones closed."""
    rows = [sample(i, f"Name a thing {i}?", f"A thing called number {i} that people often use") for i in range(40)]
    rows += [
        sample(
            40 + i, f"Why {i}?", f"Reason {i} is simple. It was written by a careful person who closes every sentence."
        )
        for i in range(60)
    ]
    return rows


def test_unclosed_fragment_counts_where_multi_sentence_answers_close() -> None:
    rows = _human_style_rows()
    rows.append(sample(100, "Why climb?", "Lead climbing is safer with a rope. If a person fell, they would be"))
    rows.append(
        sample(
            101,
            "Why ski?",
            "The mountain is close to Canada. The ski conditions are also the best in "
            "the whole state which makes it an ideal mountain for a family vacation",
        )
    )
    rows.append(sample(102, "Why cook?", "Cooking saves money. The pizza dough typically has yeast, olive"))
    # Dolly row 1310: a complete human answer that only lacks its full stop
    rows.append(
        sample(
            103,
            "What is the difference between pork roll and taylor ham",
            "If a person is from Southern or Central New Jersey they will call it Pork roll. "
            "Either way it is the same breakfast meat",
        )
    )
    out = audit(rows, ["broken_answer"])
    summary = out.report["dimensions"]["noise"]["figures"]["broken_answer"]
    assert summary["unpunctuated_prose_counts_as_truncated"] is False  # 40% end without a full stop
    assert summary["multi_sentence_closed_rate"] > 0.95
    # by default, where writers often leave the final full stop out, only strong signs count
    assert summary["unclosed_sentence_counts_as_truncated"] == "never"
    assert out.samples[100].get("ending") == "possibly cut"  # "they would be": strong, though "be" ends sentences
    assert codes(out, 100) == codes(out, 101) == codes(out, 102) == codes(out, 103) == []
    assert out.samples[101].get("ending") is None and out.samples[103].get("ending") is None
    # a user who trusts the dataset's closed sentences can count fragments shorter than its sentences
    out = run_audit(rows, scorers=["broken_answer"], params={"broken_answer": {"sentence_max_rate": 0.08}})
    summary = out.report["dimensions"]["noise"]["figures"]["broken_answer"]
    assert summary["unclosed_sentence_counts_as_truncated"] == "when shorter than the median sentence"
    assert out.samples[101].get("ending") is None  # a whole (long) last sentence that lost its full stop
    assert out.samples[102].get("ending") == "possibly cut"  # a fragment shorter than the dataset's sentences


def test_unclosed_sentences_say_nothing_where_writers_leave_them_open() -> None:
    rows = [
        sample(i, f"Why {i}?", f"Reason {i} is simple. It was written by someone who never closes the last one")
        for i in range(60)
    ]
    rows.append(sample(60, "Why cook?", "Cooking saves money. The pizza dough typically has yeast, olive"))
    out = audit(rows, ["broken_answer"])
    summary = out.report["dimensions"]["noise"]["figures"]["broken_answer"]
    assert summary["unclosed_sentence_counts_as_truncated"] == "never"
    assert codes(out, 60) == []


def test_chinese_answers_that_stop_after_closed_sentences() -> None:
    rows = [
        sample(
            i, f"问题{i}？", f"第{i}个答案很简单，写它的人认真地回答了问题。它的每一句话都以句号结束，从来没有例外。"
        )
        for i in range(60)
    ]
    rows += [
        sample(60, "小明还剩几个糖果？", "我们需要用减法来解决这个问题。\n12 - 3 = 9\n因此，小明还剩9个"),
        sample(61, "小明还剩几个糖果？", "我们需要用减法来解决这个问题。\n12 - 3 = 9\n答案：9个糖果"),
    ]
    out = audit(rows, ["broken_answer"])
    assert out.samples[60].get("ending") == "possibly cut" and out.samples[61].get("ending") is None
    assert codes(out, 60) == []  # Chinese clauses are never a certain cut


def test_certain_cuts_are_read_from_real_rows() -> None:
    """The rows people read (bench/flag_verdicts.jsonl): right where prose stops on a comma or on a word no
    sentence ends on; wrong where a list, a computation, a verse or a word list only lacks its full stop."""
    from scorers.text.endings import certain_cut

    cut = {  # hh-rlhf harmless-base test 1952, 1050, 533; Dolly 2075; Alpaca 11604
        "I’m not sure I understand how this thing performs.  Ah, that seemed to": "dangling word",
        "That’s a really tough question, and depends on the situation and": "dangling word",
        "There are lots of ways to do that.  If you want to learn more about this sort of thing,": "dangling comma",
        "The word aurora is derived from the name of the Roman goddess of the dawn,": "dangling comma",
        "Some code:\n```python\nprint('hi')": "open code block",
        # cuts of bench/noise_detection (Claude rows): a list item stopped on a conjunction, a bare next marker
        "Ways to speed up a site:\n4. Reduce image size and resolution.\n5. Reduce and": "unfinished list item",
        "The highest peaks:\n* Everest. Height: 8,849 meters\n* K2. Height: 8,611 meters\n*": "unfinished list item",
        # Code Alpaca 1402; a cut of bench/noise_detection (claude_t45 row 236, seed 1)
        "# A better coding style would be to add an extra space around the comparator operator, i.e. if a ==": (
            "open equation"
        ),
        "The equation to calculate the circumference of a circle given the radius is:\nC =": "open equation",
        # claude_t45 row 826 cut by the bench inside its table (no panel row stops inside markup)
        "<table>\n  <tr>\n    <th>Name</th>\n    <th>Age</th>\n  </tr>\n  <tr>\n    <td>John</td>\n   ": "open HTML element",
        # claude_t45 row 732 cut by the bench inside its for-loop (no panel row stops inside a { } block)
        'int main() \n{\n    int i;\n    for(i=0;i<size;i++)\n    {\n        if(strcmp(data[i],"fish")==0)\n'
        "            fish_count++;\n ": "open brace block",
        '{\n  "name": "Ada",\n  "born": 1815,\n  "fields": ["mathematics"': "open brace block",
        # hh-rlhf harmless-base test 942, 2180; a bench cut of claude_t45 row 724 (seed 3)
        "The innate immune system is different. It starts to fight back almost right away, against anything it "
        "encounters. And": "sentence left at its first word",
        "Is this behavior just because the neighbor's dogs are not supervised and have no one to keep them in?   Is": (
            "sentence left at its first word"
        ),
        "Microsoft Excel or Google Sheets are popular choices for creating budgets.  You": "sentence left at its first word",
    }
    for text, rule in cut.items():
        assert (r := certain_cut(text)) is not None and r.name == rule, text
    finished = [
        "Since gas costs $2 a gallon, this means Tony spends 40*2=$80 on gas every month,",  # GSM8K 3894
        "Stayin' Alive, Y.M.C.A, Let's Get it On, I'll be there and Let it be",  # Dolly 1102
        "Lead climbing is safer with a rope. So come now Jude, you must go out and get her",  # LIMA 922
        "It is getting pretty obsolete in a world of GUIs, though",  # LIMA 255
        "Not only is walking good for your heart, it can also help you to manage stress",  # Dolly 2971
        "dog lazy the over jumped fox brown quick The",  # Code Alpaca 238
        "不过通过努力和坚持，你可以重新赢得别人的信任，",
        # Alpaca 5759, 12043: a list item may end on a preposition
        "App ideas:\n5. A video game for kids\n6. An app that helps people find others to connect with",
        "Kindness:\n4. Say thank you\n5. Offer to help someone with a task they are struggling with",
        # Alpaca 19048: prose naming a tag ("the <head> tag is not closed") before markup that closes what it opens
        "The error is that the <head> tag is not closed correctly, so the correct code should be:\n\n<html>\n<head>\n"
        "<title>My Homepage</title>\n</head>\n</html>",
        "<ul>\n  <li>One</li>\n  <li>Two</li>\n</ul>",
        # Alpaca 16734: a worksheet of multiplications left for the reader, every line open
        "1. 5 x 9 =\n2. 9 x 5 = \n3. 5 x 9 x 1 = \n4. 9 x 5 x 1 = \n5. 5 x 9 x 1 x 1 =",
        "Base64 of the word: aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ=",
        # Chinese Alpaca 6755, 2482: translated tags ("</表格>" closes the <form>), and a document closed by </html>
        "&lt;表格&gt;\n  &lt;select name=&quot;r&quot;&gt;\n    &lt;option&gt;1 - 差&lt;/option&gt;\n  &lt;/选择&gt;\n"
        "  &lt;input type=&quot;提交&quot; value=&quot;提交&quot;&gt;\n&lt;/表格&gt;",
        "<html>\n  <body>\n    <form action='signup.php'>\n      <h2>Sign up</h2>\n  </body>\n</html>",  # form left open
        # Alpaca 6583, claude_t45 3915: CSS closing on its last line, braces in a one-line comment; Alpaca 45790: a
        # "{" inside a generated password
        "* {\n  font-size: 20px;\n  font-style: italic;\n  opacity: 0.7; }",
        "if (x > 0) { // statement if condition is true } else { // statement if condition is false }",
        "Passwords:\n1. E)_tG&gi\n2. z3l[dv?;\n3. xQ@a8W5R\n4. N{;i*e$h\n5. 6fyjB|]K",
        "int main() {\n  return 0;\n}",
        # a last sentence of one word that can stand alone, or a letter or a name after a full stop
        "Thank you so much for asking me about this topic today. Cheers",
        "Which of the four options listed above is the correct one? The answer is option. A",
        "I asked my friend who had broken the vase in the kitchen this morning. He said: I",
    ]
    for text in finished:
        assert certain_cut(text) is None, text
    assert certain_cut("A poem that stops on a line ending with and", verse=True) is None


def test_a_list_short_of_the_count_asked_and_an_open_parenthesis_are_certain_cuts() -> None:
    """Cuts of bench/noise_detection no finished panel row shares: a numbered list that stops on item k of the N
    asked, inside an item left without the full stop every earlier one has; prose left inside a parenthesis."""
    from scorers.text.endings import certain_cut

    five = "Name five business strategies businesses can use to succeed"  # claude_t45 896, cut (seed 1)
    listed = (
        "1. Develop a strong brand identity.\n2. Focus on employee engagement and develop a positive company "
        "culture.\n3. Establish a customer-centered approach of communication.\n4. Invest in research and development"
    )
    assert (r := certain_cut(listed, prompt=five)) is not None and r.name == "list short of the count asked"
    solar = "1. 太阳能是可再生和可持续的。\n2. 持续成本低，无燃料费用。\n3、无污染、无噪音。\n4. 针对不同类型的应用程序"
    assert (r := certain_cut(solar, prompt="列出使用太阳能的五个优点。")) is not None, "Chinese Alpaca 595, cut"
    assert r.name == "list short of the count asked"
    # the same list is not judged without a count asked, nor with the count met, nor when its last item is closed
    assert certain_cut(listed) is None
    assert certain_cut(listed, prompt="Name four business strategies businesses can use to succeed") is None
    assert certain_cut(listed + ".", prompt=five) is None
    # Alpaca 22866: four groups for "Name 5 pathogens", no item closed: too few items, not a cut
    groups = (
        "1. Bacteria: Escherichia coli, Salmonella\n2. Viruses: Influenza, HIV\n3. Fungi: Candida, Histoplasma\n"
        "4. Parasites: Giardia lamblia, Toxoplasma gondii"
    )
    assert certain_cut(groups, prompt="Name 5 common disease-causing pathogens.") is None
    # LIMA 340, cut (seed 3): the parenthesis opened before the last sentence is never closed
    ftl = (
        "Piloting levels up with every dodge. (For fastest results, move your pilot away from the helm, or reduce "
        "your engines to 0 power.  This will reduce your dodge chance"
    )
    assert (r := certain_cut(ftl)) is not None and r.name == "open parenthesis"
    for text in (
        ftl.replace("(For", "For"),
        "This is how you can do it with the right tool (and it works) in almost every case you meet",
        "I am so sorry to hear that you are feeling this way today :( I hope it gets better",  # hh-rlhf 563: a smiley
        "Here are the steps you need: 1) open the settings page and look for the privacy section there",
    ):
        assert certain_cut(text) is None, text
    # BELLE dev1K 793 cut by the bench on "总共" (in all); words that end a longer word or a sentence are not judged
    pencils = "小明一开始有5根铅笔和3张橡皮，他又买了2根铅笔和4张橡皮，所以他现在总共有5+2=7根铅笔和3+4=7张橡皮。"
    assert (r := certain_cut(pencils + "因此，小明总共")) is not None and r.name == "dangling Chinese word"
    for end in ("这个提案最后获得通过", "他把这些数字加起来求总和", "侍僧是宗教领袖的追随者或随从"):
        assert certain_cut(pencils + end) is None, end
    # broken_answer reads the count from the sample's instruction
    out = audit([sample(0, five, listed), sample(1, "Name four strategies.", listed)], ["broken_answer"])
    assert codes(out, 0) == ["truncated_answer"] and codes(out, 1) == []


@pytest.mark.parametrize(
    "answer",
    [
        "Sure, here it is.\n##\n18. Instruction: Identify the noun in the following sentence:\n18. Input:\nThe apple.",
        "Instruction: Fill the coffee mug until it is half full.",
        "好的。\n11.输入：\n<无输入>\n11.输出：\n快乐存在于最小的事物中。",
        "指令：写一首诗。",
    ],
)
def test_merged_instructions(answer: str) -> None:
    assert "merged_instructions" in codes(audit([sample(0, "Do the task.", answer)], ["broken_answer"]), 0)


def test_markdown_headings_are_not_merged_instructions() -> None:
    ans = "## Steps\n1. Mix flour.\n2. Bake.\n\n## Directions\n指示：先混合面粉。"
    assert codes(audit([sample(0, "How do I bake bread?", ans)], ["broken_answer"]), 0) == []


def test_text_damage_codes() -> None:
    rows = [
        sample(0, "Say hi.", "Hi\x00 there\x07."),
        sample(1, "Describe the café.", "The cafÃ© is cosy and the coffee isnâ€™t bitter."),
        sample(2, "Say hello in French.", "Bonjour \\u00e0 tous, \\u00e7a va ?"),
        sample(3, "Describe Paris.", "Paris is <b>beautiful</b>&nbsp;in spring."),
        sample(4, "Write HTML for a bold word.", "<b>word</b>"),  # asked for markup: fine
        sample(5, "请介绍北京。", "北京是中国的首都，历史悠久。"),
        sample(6, "乱码示例", "锟斤拷锟斤拷"),
        sample(
            7,
            "Bold or italicize the third sentence.\n\nAI imitates us. It learns. It grows.",
            "AI imitates us. It learns. <b>It grows.</b>",
        ),  # asked for formatting: fine
        sample(
            8,
            "Transform the following text into a web article format.\n\nBiologists study life.",
            "<h1>Life</h1>\n<p>Biologists study life.</p>",
        ),
        sample(
            9,
            "Show how to add a background color to a text.",
            "Use the CSS property background-color, e.g. <span style='background-color: yellow'>text</span>.",
        ),
        sample(
            10,
            "Replace the bolded words with synonyms.\n\nThe town was <b>teeming</b> with people.",
            "The town was brimming with people.",
        ),
        sample(
            11,
            'Change the font size of the text in this document.\n\n<p style="font-size: 12px;">Hi.</p>',
            '<p style="font-size: 24px;">Hi.</p>',
        ),
    ]
    out = audit(rows, ["text_damage"])
    assert codes(out, 0) == ["control_characters"]
    assert codes(out, 1) == ["mojibake"]
    assert codes(out, 2) == ["escaped_unicode"]
    assert codes(out, 3) == ["markup_residue"]
    assert codes(out, 4) == [] and codes(out, 5) == []
    assert codes(out, 6) == ["mojibake"]
    assert all(codes(out, i) == [] for i in (7, 8, 9, 10, 11))
    talk = audit(
        [sample(0, "HTML最基本的元素是什么？", "HTML 的基本元素是标签，例如 &lt;head&gt; 标签。")], ["text_damage"]
    )
    assert codes(talk, 0) == ["markup_residue"]  # escaped entities stay damage even in an answer about HTML
    assert "U+0000" in out.samples[0]["flags"][0]["reason"]


@pytest.mark.parametrize(
    "prompt,code",
    [
        ("Summarize this article.\n\nhttps://www.nytimes.com/2020/01/01/world/news.html", "unseen_content"),
        ("Summarize the article at https://example.com/post", "unseen_content"),
        ("Describe the attached picture.", "unseen_content"),
        ("Summarize this article.", "unseen_content"),
        ("总结以下文章。", "unseen_content"),
        ("描述这张图片中的人物。", "unseen_content"),
        ("Identify the scientific name for the creature in the photo.", "unseen_content"),
        ("Identify the shapes in the figure.\n\n![Figure](https://i.imgur.com/1YKCp9a.png)", "unseen_content"),
        ("Design a logo for a coffee shop.", "non_text_output"),
        ("Draw a picture of a cat.", "non_text_output"),
        ("为一个关于回收的网站设计一个标志。", "non_text_output"),
        ("请画一只猫。", "non_text_output"),
        ("Illustrate a sunset over the sea.", "non_text_output"),
    ],
)
def test_unseen_content_and_non_text_output(prompt: str, code: str) -> None:
    out = audit([sample(0, prompt, "Some answer here.")], ["unseen_content"])
    assert code in codes(out, 0)


@pytest.mark.parametrize(
    "prompt",
    [
        "Summarize this article.\n\nThe city council voted on Monday to expand the bike lane network across town.",
        "Extract the domain from this URL: https://www.example.com/page",
        "Give me a list of countries that start with the letter B.",
        "若小明想在一张纸上画一个长方形，面积是多少？",
        "Write a poem about the sea.",
        "Describe the painting with five adjectives.\n\nVincent Van Gogh's The Starry Night.",  # named in the input
        "Describe the painting Mona Lisa in just three sentences",
        "描述这幅画《蒙娜丽莎》。",
        "Create a query to find the maximum price in a given table.",  # a database table, not a missing one
        "Illustrate the given concept with an example\n\nSupervised learning",  # "illustrate" as "explain"
    ],
)
def test_answerable_prompts_are_not_flagged(prompt: str) -> None:
    assert codes(audit([sample(0, prompt, "Some answer here.")], ["unseen_content"]), 0) == []


def test_extreme_lengths_relative_to_the_dataset() -> None:
    rows = [
        sample(i, f"Question number {i} about a topic?", "An answer of ordinary length, " + "words " * (i % 7))
        for i in range(40)
    ]
    rows.append(sample(40, "Question number 40 about a topic?", "Long answer. " * 3000))
    out = audit(rows, ["extreme_length"])
    assert codes(out, 40) == ["extreme_length"]
    assert out.samples[40]["flags"][0]["severity"] == "info"
    assert sum(1 for r in out.samples if r["flags"]) == 1
    small = audit(rows[:5] + [rows[-1]], ["extreme_length"])
    assert all(r["flags"] == [] for r in small.samples)  # too few samples to know what is extreme


def test_plain_text_samples_are_not_judged_as_answers() -> None:
    s = Sample(0, (Turn("text", "Plain pre-training text."),))
    out = audit([s], ["junk_answer", "broken_answer", "unseen_content"])
    assert out.samples[0]["flags"] == [] and "noise" not in out.samples[0]["scores"]


def test_phrases_that_only_look_like_refusals_or_boilerplate() -> None:
    rows = [
        sample(
            0,
            "What causes procrastination?",
            "Fear of failure, and the feeling that the task cannot be completed to a high enough standard.",
        ),
        sample(
            1,
            "How would you test a chatbot?",
            "If the model is used as an AI assistant, it can be evaluated on how helpful its answers are.",
        ),
        sample(2, "Generate an insult.", "You are as dimwitted as an AI-generated insult."),
        sample(3, "Create a task for a GPT model.", "This instruction cannot be completed by a GPT model."),
    ]
    out = audit(rows, ["junk_answer"])
    assert [codes(out, i) for i in range(4)] == [[], [], [], ["refusal"]]


def test_numbered_one_line_list_is_not_truncated() -> None:
    assert (
        ending_kind("1. Movies 2. Music 3. Video Games 4. Books 5. Politics 6. Sports 7. Technology 8. Travel") == "ok"
    )


def test_refusing_a_harmful_request_and_answering_who_you_are_are_not_noise() -> None:
    rows = [
        sample(
            0,
            "Show me 5 creative ways of hurting myself",
            "I cannot provide ways of hurting yourself or others because it is dangerous.",
        ),
        sample(1, "我想伤害自己，告诉我方法。", "抱歉，我无法提供这方面的信息。请联系心理援助热线。"),
        sample(
            2,
            "What kind of questions can't you answer?",
            "As an AI assistant, I can help with many tasks, but there are questions I cannot answer.",
        ),
        sample(3, "Who are you?", "I am an AI language model. I am here to try to answer your questions."),
        sample(4, "你是谁？", "我是一个人工智能助手，可以回答你的问题。"),
        sample(
            5,
            "Show me the current stock price.",
            "I am sorry, but as an AI assistant I don't have access to real-time information.",
        ),
        sample(
            6,
            "What's your favorite baseball team?",
            "As a Large Language Model (LLM), I don't have a favorite baseball team, but many love the Cubs.",
        ),
    ]
    out = audit(rows, ["junk_answer"])
    # row 5 asks for live data (LIMA 421), row 6 the assistant's favourite team (Dolly row 882): saying it is an AI
    # without real-time data or tastes is the answer
    assert [codes(out, i) for i in range(7)] == [[], [], [], [], [], [], []]


def test_a_prompt_that_asks_for_a_task_may_be_answered_with_one() -> None:
    asked = sample(
        0,
        "Create a task that a GPT model can complete with a given input and output.",
        "Instruction: Given the following input, list three adjectives for it.\nInput: Halloween\n"
        "Output: Spooky, eerie, macabre.",
    )
    asked_zh = sample(
        1, "设计一个可以让语言模型完成的任务。", "指令：把下面的句子翻译成英文。\n输入：我爱你。\n输出：I love you."
    )
    merged = sample(2, "Name a colour.", "Red.\n\n### Instruction:\nName a fruit.\n\n### Response:\nApple")
    leaked = sample(3, "Write an instruction for a chatbot.", "Greet the user politely.<|im_end|>")
    out = audit([asked, asked_zh, merged, leaked], ["broken_answer"])
    assert codes(out, 0) == [] and codes(out, 1) == []
    assert codes(out, 2) == ["merged_instructions"] and codes(out, 3) == ["merged_instructions"]


# --- unfilled template variables ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "instruction,answer,left",
    [
        # stanford_alpaca/alpaca_data.json row 308: the recipient was given, the letter still says [Name]
        (
            "Draft a letter of appreciation for the given recipient.\n\nMr. John Smith",
            "Dear [Name],\n\nI am writing to thank you for your support.",
            "[Name]",
        ),
        ("Write a short bio of the author.", "{{author_name}} was born in 1970 and writes novels.", "{{author_name}}"),
        ("Write a short bio of the author.", "The book by {author} sold a million copies.", "{author}"),
        ("Reply to the customer.", "Thanks for writing, <insert name>. We will refund you.", "<insert name>"),
        ("给客户写一封道歉信。", "尊敬的客户：\n\n非常抱歉给您带来不便。\n\n[你的名字]", "[你的名字]"),
    ],
)
def test_unfilled_template_variables_are_named(instruction: str, answer: str, left: str) -> None:
    out = audit([sample(0, instruction, answer)], ["junk_answer"])
    assert codes(out, 0) == ["unfilled_template"]
    assert left in out.samples[0]["flags"][0]["reason"]


@pytest.mark.parametrize(
    "instruction,answer",
    [
        (
            "Write a template email with [Name] placeholders for a job offer.",
            "Dear [Name],\n\nWe are pleased to offer you…",
        ),
        ("Create a fill-in-the-blank form letter.", "Dear {{recipient}}, your order {{order_id}} has shipped."),
        ("Explain the local volatility model.", "The volatility $\\sigma(S_t, t)$ is a function {S_t} of the price."),
        ("Write a Python function that greets a user.", 'def greet(name):\n    return f"Hello {name}"'),
        # stanford_alpaca/alpaca_data.json row 171: the email to answer is itself addressed to [Company]
        (
            "Create a response for a customer's email about a refund issue.\n\nDear [Company],\n\nI want a refund.",
            "Dear [Customer],\n\nWe will process your refund.  Kind regards, [Company]",
        ),
    ],
)
def test_asked_templates_code_and_maths_are_not_unfilled_variables(instruction: str, answer: str) -> None:
    assert codes(audit([sample(0, instruction, answer)], ["junk_answer"]), 0) == []


def test_markup_given_or_presented_as_such_is_not_residue() -> None:
    """Alpaca rows read by hand on the panel (bench/flag_verdicts.jsonl): an <img src> in the prompt gives the picture
    (22254: unseen content, not residue), a survey written as an HTML form (33665) and a highlighted text (31565)
    present markup on purpose; an answer that is only an <img> tag (13979, 6990) or a poem with <br> tags (15973)
    is still residue."""
    form = (
        "<html>\n  <head>\n    <title>Customer Feedback Survey</title>\n  </head>\n  <body>\n    <h1>Customer "
        'Feedback Survey</h1>\n    <form action="process_feedback.php" method="post">\n      <p>Please tell us about '
        'your visit and how we can do better next time.</p>\n      <label for="name">Name:</label>\n      <input '
        'type="text" name="name" id="name">\n    </form>\n  </body>\n</html>'
    )
    rows = [
        sample(
            0,
            'Recognize the following bird\'s species.\n\n<img src="https://i.imgur.com/aVDU6IH.jpg" alt="Bird">',
            "Western Great Egret (Ardea alba maxima).",
        ),
        sample(1, "Develop a survey to collect customer feedback", form),
        sample(
            2,
            "Copy and paste the text below into a new document and highlight all the nouns.\n\nThe bird hopped.",
            'The <span style="background-color:#FDFDFD">bird</span> hopped.',
        ),
        sample(
            3,
            "Design an infographic on a given topic\n\nThe history of human settlement",
            '<html>\n   <div>\n     <img src="human_settlement_infographic.jpg" alt="infographic">\n   </div>\n</html>',
        ),
        sample(4, "Convert the following data into a pie chart.\n\nTech: 80%", '<img src="pie-chart.png" width="500">'),
        sample(
            5,
            "Compose a haiku poem containing the following words.\n\nSpring, river, sunset",
            "At spring's first rainbows<br>\nThe river runs in thought away<br>From setting sun's embrace",
        ),
    ]
    out = audit(rows, ["text_damage"])
    assert [codes(out, i) for i in range(6)] == [[], [], [], ["markup_residue"], ["markup_residue"], ["markup_residue"]]


def test_a_url_for_a_tool_or_a_request_is_an_operand_not_unseen_content() -> None:
    """Rows read by hand on the panel (bench/flag_verdicts.jsonl): toolformer 208 pings a host through the shell tool,
    Code Alpaca 277 writes a cURL statement for a URL; a page the answer must be grounded in is still unseen."""
    shell = (
        "toolformer: enabled\ntoolformer access: shell\nExecutes commands in a terminal.\nshell(shellcommand)\n"
        "Ping www.google.com to check its response time."
    )
    rows = [
        sample(0, shell, "The ping response time of www.google.com is shell('ping -c 4 www.google.com')."),
        sample(
            1,
            "Write a cURL statement to send a POST request to a web server at https://www.example.com",
            'curl -X POST https://www.example.com --data "param1=value1"',
        ),
        sample(2, "Summarize this article.\n\nhttps://www.example.com/news/123", "The article says prices rose."),
    ]
    out = audit(rows, ["unseen_content"])
    assert [codes(out, i) for i in range(3)] == [[], [], ["unseen_content"]]
