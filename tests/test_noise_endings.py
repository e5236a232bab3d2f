import pytest

from scorers.text.endings import closes_sentences, ending_kind, final_fragment
from scorers.text.sentences import median_sentence_size


@pytest.mark.parametrize(
    "answer",
    [
        # English: a sentence begun after finished ones
        "Exercise improves sleep. It also lowers stress and helps people feel better every single day",
        "The island is quiet in winter. Two unique aspects of the island are that all visitors",
        "Sea levels are rising.\n\nCoastal towns are building walls and moving roads further",
        # Chinese: the line after a closed one, a clause that never reaches its 。
        "我们需要用减法来解决这个问题，即减去小明送给小红的糖果。\n12 - 3 = 9\n因此，小明还剩9个",
        "第 4 步：发送消息 – 发送消息并等待响应。\n\n第 5 步：根据需要跟进——如果",
        "1. 在大平底锅中用中火加热油。\n2. 加入葱、蒜和姜。煮至洋葱呈半",
        "小明有6颗糖果，平分给3个朋友。\n我们可以用除法来计算：6 ÷ 3 = 2。\n所",
    ],
)
def test_unclosed_last_sentence(answer: str) -> None:
    assert ending_kind(answer) == "unclosed"


@pytest.mark.parametrize(
    "answer",
    [
        "The formula for the area is A = (1/2) * b * h, where b is the base. In",
        "Microsoft Excel or Google Sheets are popular choices for creating budgets. You",
        "The sound of an acoustic guitar is fuller, while the sound of an electric guitar is sharper and it",
        "Activities for the trip include coloring, reading books, and playing I",
        "The equation to calculate the circumference of a circle given the radius is:\nC =",
        'Some good resources include "Battle Cry of Freedom: The Civil War',
        "Be kind to others\nWork hard\nKeep your promises\nAlways say 'I",
        "The Mountains:\n* Mount Everest. Height: 8,849 meters\n* K2. Height: 8,611 meters\n*",
        "A planet is a body that:\n- orbits the Sun,\n- is nearly round,\n- has cleared the neighbourhood around",
        "<table>\n  <tr>\n    <th>Name</th>\n  </tr>\n  <tr>\n    <td>John</td>",
        "Poisonous plants for cats:\n- lilies can cause kidney failure\n- Bulbs of",
    ],
)
def test_strong_signs_of_a_cut(answer: str) -> None:
    assert ending_kind(answer) == "strong"


@pytest.mark.parametrize(
    "answer",
    [
        # a sentence that ends on a name, a quotation, an attribution, hashtags
        "Jay Peak is close to Canada. The ski conditions make it an ideal mountain for a ski vacation in Vermont",
        "Git refuses a merge in that case:\n> Refuse to merge unless the merge can be resolved as a fast-forward",
        '"Design is not just what it looks like and feels like. Design is how it works" - Steve Jobs',
        '"The only limit to our realization of tomorrow will be our doubts of today." - Franklin D. Roosevelt',
        "Designed with sustainable materials, this bottle keeps drinks cool. #SustainableLiving #EcoFriendly",
        "Thank you for everything you have done for me this year.\n\nBest regards,\nJohn Smith",
        # a worked solution's result, a key: value answer line, a Chinese letter's signature
        "He gained 160*.1=16 kg.\nSo he lifted 160+16=176 kg per hand\nThat means he lifted a total of 352 kg",
        "小明有五颗糖果，他把其中两颗给了小红。\n因此，小红现在一共有2颗糖果。\n答案：2颗糖果",
        "亲爱的未来的我，\n\n我希望你一切都好，你是快乐和充实的。\n\n小心，\n过去的自己",
        # machine-translated list markers ("A。"), table rows, inline ```code``` pairs
        "排序步骤：\nA。将指针设置为低\nb.将指针设置为高\nF。对子数组中的元素进行排序\nG。重复直到子数组完全排序",
        "任务 | 开始日期 | 结束日期\n创建一个网站 | 2021 年 1 月 1 日 | 2021 年 2 月 28 日",
        "Use ```checkout``` here, while ```cherry-pick``` applies the diff of the commit from its parent.",
        "Emergency numbers:\n- Fire department: 911\n- Poison Control: 1-800-222-1222\n- Domestic Violence Hotline: "
        "1-800-799-7233",  # items that end on numbers are not punctuated items
        "Stray fence after prose.```\n\n```\nprint(1)\n```\n\nThe output is 1.",
        "Table: Floral Sets\n\nName | Image | Type | Price\n-----|-------|------|------",  # a schema: no rows yet
        "1. Streaming movies and shows 2. Video chatting with friends 3. Baking 4. At-home workout routines",
        # a list whose items do not close theirs: its last item holding two sentences need not either
        "Wet skin is dangerous:\n* current flows through cuts\n* The body is sensitive. Small currents stop a heart",
    ],
)
def test_finished_endings(answer: str) -> None:
    assert ending_kind(answer) == "ok"


def test_closes_sentences_measures_multi_sentence_answers_only() -> None:
    assert closes_sentences("It rains a lot here. The streets are wet most of the year.") is True
    assert closes_sentences("It rains a lot here. The streets are wet most of the year and the") is False
    assert closes_sentences("A single sentence that runs on without any stop at all") is None
    assert closes_sentences("- a list item\n- another list item here") is None
    assert closes_sentences("今天一整天都在下雨。街道很湿，行人很少。") is True
    assert closes_sentences("今天一整天都在下雨。街道很湿，行人很少") is False


def test_fragment_and_median_sentence() -> None:
    assert final_fragment("It rains here. The streets are wet and") == "The streets are wet and"
    answers = ["One two three four. Five six seven eight nine.", "Ants bees cats dogs eels fish. Goats hens ibis."]
    assert median_sentence_size(answers) == 4.5  # sentences of 4, 5, 6 and 3 words
    assert median_sentence_size(["今天下雨了。街道很湿。外面很冷。"]) == 4  # characters: 5, 4, 4
