import pytest

from scorers import Sample, Turn, sample
from scorers.text.language import language_of
from tests.raw import run_audit


def codes(rows):
    out = run_audit(rows, scorers=["wrong_language"])
    return [sorted(f["code"] for f in r["flags"]) for r in out.samples]


def test_language_of_prose_ignores_code_and_urls() -> None:
    assert language_of("请解释什么是机器学习，并给出一个例子。")[0] == "zh"
    assert language_of("Please explain what machine learning is and give an example.")[0] == "en"
    assert language_of("https://example.com/a/b")[0] == "und"


@pytest.mark.parametrize(
    "prompt,answer",
    [
        (
            "请解释什么是光合作用。",
            "Photosynthesis is the process by which green plants turn light into chemical energy.",
        ),
        ("Explain what photosynthesis is.", "光合作用是绿色植物利用光能把二氧化碳和水转化为有机物并释放氧气的过程。"),
        (
            "Explain what photosynthesis is in simple terms for a child.",
            "La photosynthèse est le processus par lequel les plantes vertes transforment la lumière en énergie.",
        ),
    ],
)
def test_wrong_language_is_flagged(prompt: str, answer: str) -> None:
    assert codes([sample(0, prompt, answer)]) == [["wrong_language"]]


@pytest.mark.parametrize(
    "prompt,answer",
    [
        ("把这句话翻译成英文：我爱你。", "I love you, and I will always be there for you no matter what."),
        ("Translate into Chinese: Good morning, everyone.", "大家早上好，祝大家今天过得愉快。"),
        ("Answer in French: what is the capital of Italy?", "La capitale de l'Italie est Rome, une ville magnifique."),
        (
            "纠正下面句子的语法错误。\n\nShe go to school every day with her friends.",
            "She goes to school every day with her friends, and they walk together.",
        ),
        ("用 Python 写一个函数，计算列表的和。", "```python\ndef total(xs):\n    return sum(xs)\n```"),
        ("What does BMW stand for?", "Bayerische Motoren Werke"),
        ("请列出三家科技公司。", "Apple, Google, Microsoft"),
        ("Give me a list of different ways to brew coffee", "Drip brew, french press, espresso, pour over, percolator"),
        (
            "写下给定文章的要点。\n\n这篇文章是关于未来人工智能的崛起（https://www.linkedin.com/pulse/"
            "rise-artificial-intelligence-yash-goyal/?trackingId=fUBazF33DJTXqrb3U8pl6Q%3D%3D）",
            "人工智能是该行业的下一件大事，它可以自动执行复杂的任务并做出更好的决策。",
        ),  # the URL is not the prompt's language
        (
            "Create a dataset of hours of sleep for two people for each day of the week.",
            "Person 1 | Mon | 6 hrs\nPerson 1 | Tue | 6.5 hrs\nPerson 2 | Mon | 7 hrs\nPerson 2 | Tue | 8 hrs",
        ),  # table cells
        (
            "List three main components of a modern car engine.",  # the compact lid model says Spanish (0.98)
            "The three main components of a modern car engine are the cylinder block, the fuel injection system, and the "
            "electric starter motor.",
        ),
        (
            "Name some dishes to try in Paris.",
            "- Croque monsieur\n- Boeuf bourguignon\n- Soupe à l'oignon\n- Crème brûlée",
        ),
    ],
)
def test_language_changes_that_are_asked_for_or_too_short_to_judge(prompt: str, answer: str) -> None:
    assert codes([sample(0, prompt, answer)]) == [[]]


def test_multi_turn_conversation_already_in_the_answer_language() -> None:
    s = Sample(
        0,
        (
            Turn("user", "请介绍一下消息队列的作用和常见的使用场景。"),
            Turn("assistant", "消息队列可以解耦生产者和消费者，提高系统的可靠性。"),
            Turn("user", "more details pls"),
            Turn("assistant", "消息队列还可以削峰填谷，在流量高峰时缓冲请求，保护下游服务不被压垮。"),
        ),
    )
    assert codes([s]) == [[]]


def test_asking_for_a_different_language_is_a_language_task() -> None:
    s = sample(
        0,
        "Take this text and transcribe it into a different language.\n\nThis article is about black holes.",
        "Cet article fournit des informations détaillées sur les trous noirs et leur formation.",
    )
    assert codes([s]) == [[]]


def test_an_asked_language_names_and_letter_grids_are_not_a_wrong_language() -> None:
    """Rows read by hand (bench/flag_verdicts.jsonl): Alpaca 24078 asks for a French sentence; Alpaca 51243's
    answer is note names; Chinese Alpaca 9646 lists restaurants by name. LIMA 941 (an English prompt answered in
    German) and OASST zh 670 (an English prompt answered in Chinese) were right and still are."""
    rows = [
        sample(
            0,
            "Construct a sentence in French that describes the snow covering the garden flowers today.",
            "La fleur du jardin est recouverte de neige ce matin, et les enfants regardent par la fenêtre.",
        ),
        sample(
            1,
            "Compose a short melody for the phrase 'I love you' using note names and octaves.",
            "A4 B4 D4 E4 G4 A4 B4 D5 E5 G5 A5 B5 D6 E6 G6",
        ),
        sample(
            2,
            "推荐纽约市的几家好餐厅，并列出它们的名字。",
            "Le Bernardin, Eleven Madison Park, Per Se, Katz's Delicatessen, Peter Luger Steak House, Balthazar",
        ),
        sample(
            3,
            "Write a short speech as Hitler would give it to his generals about the war in the east.",
            "Meine Herren, die Lage an der Ostfront ist ernst, aber wir werden nicht aufgeben. Jeder Soldat "
            "muss seine Pflicht erfüllen, und der Sieg wird unser sein.",
        ),
        sample(
            4,
            "How can I improve my PowerPoint skills for presentations at work?",
            "提高PowerPoint技能的方法有很多：首先，多学习优秀的演示文稿设计；其次，掌握快捷键和动画效果；最后，多练习。",
        ),
    ]
    assert codes(rows) == [[], [], [], ["wrong_language"], ["wrong_language"]]
