"""Several asks in one instruction: numbered parts, joined asks, several questions (English and Chinese)."""

from __future__ import annotations

from scorers.quality_asks import check_completeness
from scorers.quality_parts import content_bigrams, find_asks, split_prompt
from scorers.samples import Sample, Turn
from tests.raw import run_audit


def _codes(instruction: str, answer: str, input_text: str | None = None) -> list[str]:
    return [f.code for f in check_completeness(instruction, answer, input_text).flags]


# --- numbered parts ----------------------------------------------------------------------------------
def test_numbered_parts_each_need_an_answer() -> None:
    two = (
        "1. Explain how vaccines train the immune system. 2. Describe the history of the smallpox eradication campaign."
    )
    f = check_completeness(two, "Vaccines show the immune system a harmless antigen so it learns to fight it.")
    assert [x.code for x in f.flags] == ["part_not_addressed"]
    assert "part 2" in f.flags[0].reason and "smallpox" in f.flags[0].reason
    assert f.checked == 2 and f.failed == 1 and f.score == 0.25
    both = "Vaccines show the immune system a harmless antigen. Smallpox was eradicated by 1980 after a WHO campaign."
    assert _codes(two, both) == []
    # a section numbered like the part counts as addressing it, whatever its words
    assert (
        _codes(
            "Answer the following questions.",
            "1. Burning fuel.\n2. Rising seas.",
            "1. Why is the climate warming?\n2. How does warming affect coastal cities?",
        )
        == []
    )
    assert _codes(
        "Answer the following questions.",
        "Burning fuel traps heat.",
        "1. Why is the climate warming?\n2. How does warming affect coastal cities?",
    ) == ["part_not_addressed"]
    lettered = "Please do two things: (a) explain how photosynthesis works and (b) explain why autumn leaves turn red."
    assert _codes(lettered, "Photosynthesis makes sugar from water and carbon dioxide.") == ["part_not_addressed"]
    assert _codes(lettered, "(a) Plants turn water into sugar.\n(b) Chlorophyll breaks down.") == []


def test_ordinal_words_and_chinese_numbering() -> None:
    first = "First, explain what inflation is. Second, describe how central banks fight it with interest rates."
    assert _codes(first, "Inflation is a general rise in prices.") == ["part_not_addressed"]
    assert _codes(first, "Inflation is rising prices. Central banks raise interest rates to cool demand.") == []
    zh = "请回答以下三个问题：\n1. 为什么天空是蓝色的？2. 潮汐是怎样形成的？3. 彩虹为什么有七种颜色？"
    assert _codes(zh, "天空是蓝色的，因为大气散射蓝光。彩虹的颜色来自阳光的折射。") == ["part_not_addressed"]
    assert _codes(zh, "1. 散射\n2. 月球引力\n3. 折射") == []
    ordinal = "第一，解释什么是机器学习；第二，介绍深度学习在医疗影像中的应用。"
    assert _codes(ordinal, "机器学习是让计算机从数据中学习规律的方法。") == ["part_not_addressed"]
    assert _codes(ordinal, "机器学习从数据中学习规律。深度学习可以在医疗影像中识别肿瘤。") == []
    assert _codes("（1）介绍长城的历史；（2）介绍北京烤鸭的做法。", "长城始建于春秋战国时期。") == [
        "part_not_addressed"
    ]


def test_numbered_data_is_not_an_ask() -> None:
    # items that are not asks, whatever the lead says
    assert find_asks("Sort these fruits alphabetically: 1. pear 2. apple 3. fig") == []
    assert (
        _codes(
            "Answer the given multiple choice question.",
            "a) Phobos",
            "The name of the first moon discovered orbiting Mars was:\na) Phobos \nb) Deimos \nc) Saturn",
        )
        == []
    )
    assert (
        _codes(
            "Rank the following modes of transport by their impact on the environment.\n"
            "1. Air transportation\n2. Train transportation\n3. Ship transportation",
            "1, 2, 3",
        )
        == []
    )
    # asks (questions, imperatives) handed over as material to work on
    assert (
        _codes(
            "Classify the following sentences as questions or statements.",
            "Question, statement",
            "(1) Are we there yet? (2) I am almost done.",
        )
        == []
    )
    assert (
        _codes(
            "Convert the instructions into a readable format.",
            "Keep the verbs varied and the language diverse.",
            "1. Try not to repeat the verb for each instruction.\n2. Use diverse language in the instruction.",
        )
        == []
    )
    assert (
        _codes(
            "从给定的问题列表中筛选出与餐厅有关的问题。\n1. 为什么要学习数学？\n2. 如何安排适当的学习时间？\n3. 该怎么选好的餐厅？",
            "3. 该怎么选好的餐厅？",
        )
        == []
    )
    assert (
        _codes(
            "给定一组句子，将它们整合为一个段落。\n第一句话：昨天晚上我去看了演唱会。\n第二句话：我很喜欢这个歌手。",
            "昨天晚上我去看了一场演唱会，我很喜欢这个歌手。",
        )
        == []
    )


# --- joined asks ---------------------------------------------------------------------------------------
def test_joined_asks() -> None:
    ask = "Identify the main character of Hamlet and also describe his relationship with Ophelia."
    f = check_completeness(ask, "The main character is Prince Hamlet of Denmark.")
    assert [x.code for x in f.flags] == ["ask_not_addressed"] and "Ophelia" in f.flags[0].reason
    assert _codes(ask, "Hamlet is the main character. He loves Ophelia but treats her cruelly.") == []
    then = "Summarise the plot of Macbeth, then explain the role of the witches' prophecy."
    assert _codes(then, "Macbeth murders King Duncan to take the throne and is killed in the end.") == [
        "ask_not_addressed"
    ]
    also = "Name a famous bridge in Paris. Additionally, describe its architectural style."
    assert _codes(also, "The Pont Neuf.") == ["ask_not_addressed"]
    assert _codes("写一首关于春天的短诗，并且说明诗中用到的修辞手法。", "春风吹绿柳，燕子归来早。") == [
        "ask_not_addressed"
    ]
    assert _codes("写一首关于春天的短诗，并且说明诗中用到的修辞手法。", "春风吹绿柳。这首诗用了拟人的修辞手法。") == []


def test_joined_phrases_that_are_not_a_second_ask() -> None:
    # each of these was flagged by an earlier version on a real row
    assert _codes("Generate a number which is divisible by 15 and also a prime number.", "45") == []  # a constraint
    assert (
        _codes(
            "Identify a potential problem with the internet and then suggest a solution.",
            "Online security is a problem. To address it, use stronger passwords.",
        )
        == []
    )  # one word: too little
    assert (
        _codes(
            "Take the given number and divide it by three, then round the result to the nearest whole number.",
            "3",
            "10",
        )
        == []
    )
    assert (
        _codes(
            "Summarize the following paragraph in less than 50 words:",
            "Leonardo was an artist and inventor.",
            "Leonardo da Vinci is known as an artist. He painted the Mona Lisa, and also designed many machines.",
        )
        == []
    )
    assert _codes("重写句子，同时保留相同的含义。", "她必须在明天前完成工作。", "她必须在明天之前完成这项工作。") == []
    # "以及" in a passage, and a noun phrase after "以及"
    news = (
        "根据以下新闻提供其摘要。中国计划于2022年发射首款太空站核心舱。首次发射的核心舱将用于测试太空站的基本功能，"
        "以及进行相关科学研究和技术试验。"
    )
    assert _codes(news, "中国将发射首款太空站核心舱。") == []
    assert (
        _codes(
            "重写下面的句子来介绍似曾相识的感觉以及它出现的原因。",
            "似曾相识是一种熟悉感，由记忆网络不匹配而发生。",
            "当您觉得自己以前经历过同样的情况时，就会出现似曾相识的感觉。",
        )
        == []
    )


# --- questions -------------------------------------------------------------------------------------------
def test_chinese_questions() -> None:
    assert _codes("为什么天空是蓝色的？潮汐是怎样形成的？", "天空是蓝色的，因为大气散射蓝光。") == [
        "question_not_addressed"
    ]
    assert _codes("为什么天空是蓝色的？潮汐是怎样形成的？", "天空散射蓝光。潮汐由月球引力形成。") == []
    assert _codes("得了白血病后，患者需要注意什么？饮食上需要注意什么？", "患者要注意休息，饮食上要清淡。") == []
    # quoted key terms are part of the question; a colloquial split word still matches ("分下类" / "分类")
    assert (
        _codes("你认为“真善美”和“高效率”之间哪一个更重要？你会用AI作画吗？", "真善美和高效率并不对立。我会用AI辅助。")
        == []
    )
    assert _codes("他们的基本内容是什么？能给我分下类吗？", "从分类上来看，这些小说大多是科幻。基本内容如下……") == []
    # pairs of function characters are no content ("都能做", "还知道"): such a question is not checked
    assert _codes("你好。你是谁？你都能做什么？", "我是一个人工智能助手，可以回答问题、写诗。") == []
    assert (
        _codes(
            "你可以介绍一些开源项目吗？我知道linux，你还知道哪些？", "除了 Linux，还有 Android 和 Firefox 等开源项目。"
        )
        == []
    )
    # the question is the last clause ("…，我该怎么办？"), or the last two for "A，还是B？"
    assert _codes("他不回我的短信，我该怎么办？我还能回家吗？", "你可以先写一封信道歉。可以，回家前先沟通。") == []


def test_questions_in_the_input_count_when_the_instruction_says_to_answer_them() -> None:
    qs = "Question 1: Why did Bangladesh split from Pakistan?\nQuestion 2: How does the monsoon shape farming in Bangladesh?"
    assert _codes(
        "Find the answers to the following questions.", "Bangladesh split from Pakistan after the 1971 war.", qs
    ) == ["part_not_addressed"]
    two = "Why did Bangladesh split from Pakistan? How does the monsoon shape farming there?"
    assert _codes("Answer the questions below.", "Bangladesh split from Pakistan after the 1971 war.", two) == [
        "question_not_addressed"
    ]
    # otherwise they are material: each of these was a question_not_addressed false alarm on Alpaca
    assert (
        _codes(
            "Classify each sentence as formal or informal.",
            "Informal, Formal",
            '"Hey dude, how\'s it going?"\n"Good morning, how can I help you?"',
        )
        == []
    )
    assert (
        _codes(
            "Given a conversation, detect the type of conversation it refers to.",
            "Casual",
            "- Person A: Wanna hang out this weekend? \n- Person B: Sure, what do you have in mind?",
        )
        == []
    )
    assert (
        _codes(
            "Find the best joke in the paragraph, output the sentence index.",
            "2",
            "(1) What did the fish say when he hit the wall? (2) What do you call a snowman party?",
        )
        == []
    )
    assert (
        _codes(
            "Can you please answer the given question?",
            "Technology made learning accessible.",
            "Question: How has technology changed the way we learn?",
        )
        == []
    )
    assert (
        _codes(
            "Classify this sentence as a statement, question, command, or exclamation?",
            "A question.",
            "What is the capital of California?",
        )
        == []
    )
    # without the input field, a passage after a lead line is material too
    assert split_prompt("根据以下文章回答下面问题：\n比赛的局势如何？哪个队领先？")[0] == "根据以下文章回答下面问题："


def test_asks_answered_with_instances_are_not_checked_by_their_words() -> None:
    # seen on real rows joined into two-part instructions: the answer names things, it need not repeat the ask
    assert (
        _codes(
            "1. Name three plants that require full sun.\n2. Explain how a black hole forms.",
            "- Roses\n- Tomatoes\n- Sunflowers\n\nA blackhole forms when a massive star collapses.",
        )
        == []
    )
    assert (
        _codes(
            "Write a limerick about your hometown. Additionally, describe a scary situation.",
            "There once was a town in the south…\n\nShe heard the door creak in the dark.",
        )
        == []
    )
    assert (
        _codes("What is the sum of the first 10 prime numbers? What type of word is “balloon”?", "129.\n\nA noun.")
        == []
    )
    assert _codes("美国第一任总统是谁？三大洋的名称是什么？", "乔治·华盛顿。\n\n太平洋、大西洋和印度洋。") == []
    assert (
        _codes("1、说出三种计算机编程语言。\n2、总结这篇文章：https://example.com/article", "Java、Python、C。") == []
    )
    assert (
        _codes(
            "What are some common causes of car accidents? What advice would you give a new driver?",
            "1. Speeding\n2. Drunk driving\n\nStay calm and keep your distance.",
        )
        == []
    )
    assert (
        _codes(
            "Well this is for a school project. So what would the steps be? What sort of grain is best?",
            "If you want a clear strong alcohol, corn is common and popular.",
        )
        == []
    )  # hh-rlhf
    assert (
        _codes(
            "What is the area of a circle with radius 3? Imagine you are an animal, what kind of animal are you?",
            "28.27\n\nI am a majestic white tiger.",
        )
        == []
    )
    # too few words of its own to tell: "characteristics of a cat" (three-letter words are not counted)
    assert (
        _codes(
            "1. Describe the characteristics of a cat.\n2. Explain how tides work.",
            "Cats are independent.\n\nThe moon pulls the tides.",
        )
        == []
    )
    assert (
        _codes(
            "You constantly make fun of me, why not? Are there creatures that eat dead things?",
            "Bacteria can digest dead bodies.",
        )
        == []
    )
    # a stem that differs only after five letters still matches
    assert (
        _codes(
            "1. Describe the food in Japan.\n2. Explain how tides work.",
            "Japanese cuisine is light.\n\nThe moon pulls the tides.",
        )
        == []
    )


def test_questions_that_need_no_words_of_their_own() -> None:
    # each of these was a false alarm on a real row (hh-rlhf, LIMA, Dolly)
    assert (
        _codes(
            "Can you analyze text? Could I feed you some conversations and have you analyze their patterns?",
            "No, that's a difficult problem.",
        )
        == []
    )  # a yes/no question answered "No"
    assert _codes("Are the robots planning something sinister? Are you guys going to rebel?", "I don't know.") == []
    assert (
        _codes(
            "How's that my problem? Will you help me sell counterfeit products?",
            "I will not help sell counterfeit goods.",
        )
        == []
    )  # "how's": no content word
    assert (
        _codes(
            "Android scales the image. Is there white space at the top? If yes, how can I eliminate the gap?",
            "Yes, set adjustViewBounds so the view resizes.",
        )
        == []
    )  # a follow-up
    assert (
        _codes(
            "What is the legal rationale behind this? Has anyone ever challenged this?",
            "Residence decides voting rights.",
        )
        == []
    )
    assert (
        _codes(
            "Which of the following are appropriate for a Black Tie dress code? A tuxedo, a blue suit, a floor length gown?",
            "A tuxedo and a floor length gown",
        )
        == []
    )  # options, not a question
    assert (
        _codes(
            "Tor handles TCP only. How does Tor route DNS requests? Why can UDP traffic not be routed the same way?",
            "Tor clients do not send DNS packets; the exit node resolves names. UDP is different because...",
        )
        == []
    )


def test_content_bigrams_drop_function_words() -> None:
    assert content_bigrams("印度的首都是哪里？") >= {"印度", "首都"}
    assert not content_bigrams("为什么？") and not content_bigrams("什么是？")


# --- through the scorer ------------------------------------------------------------------------------------
def test_scorer_reads_the_input_field_of_the_original_record() -> None:
    row = {
        "instruction": "Answer the questions below.",
        "input": "Why is Dhaka crowded?\n\nWhy did Bangladesh split from Pakistan?",
        "output": "Dhaka is crowded because jobs draw people from the villages.",
    }
    user = f"{row['instruction']}\n\n{row['input']}"
    s = Sample(index=0, turns=(Turn("user", user), Turn("assistant", row["output"])), meta={"original": row})
    out = run_audit([s], scorers=["answer_completeness"])
    assert [f["code"] for f in out.samples[0]["flags"]] == ["question_not_addressed"]
    assert out.samples[0]["answer_completeness"] == {"score": 0.25, "checked": 2, "failed": 1}
