"""Task cues: what an instruction asks for, read from its words (English and Chinese).

* :data:`TASK_CUES` — the task type named by cue words (coding, maths, rewriting, summarisation, extraction,
  classification, creative writing, brainstorming, chat), tried in order; :mod:`scorers.task_mix` labels the
  task mix with them;
* :func:`task_type` — the instruction's first word, plus ``+long`` when it asks for a long-form piece
  (answers of "classify" are short, answers of "write an essay" long): the groups answer lengths are compared
  within;
* single cues read by several scorers: :data:`LONG_FORM`, :data:`CREATIVE`, :data:`SONG`, :data:`OPEN_ENDED`,
  :data:`LANGUAGE_TASK`, :data:`ASKS_FOR_A_TASK`, :data:`HARMFUL_ASKS`, :data:`ABOUT_THE_ASSISTANT` (tables),
  :data:`ABOUT_CODE_OR_MARKUP`, :data:`COMPUTE`, :data:`MATHS`.
"""

from __future__ import annotations

import re

from scorers.text.rules import Rule, Seen
from scorers.text.script import HAN

_I = re.IGNORECASE | re.ASCII  # ASCII \b: "用Python" still has a word boundary before "Python"

#: Cue patterns, tried in this order; the first that matches decides.
TASK_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "coding",
        re.compile(
            r"```|\b(python|javascript|java|c\+\+|c#|sql|html|css|regex|bash|code|coding|function|program|algorithm|script|compile|api|json)\b|代码|编程|程序|函数|算法",
            _I,
        ),
    ),
    (
        "math_reasoning",
        re.compile(
            r"\b(calculate|compute|solve|equation|arithmetic|probability|percent(age)?|how many|how much (money|did|does|will|would)|sum of|average of)\b|\d+\s*[-+*/×÷^=]\s*\d+|计算|多少|方程|求解|数学|概率|几个|几天",
            _I,
        ),
    ),
    (
        "rewriting",
        re.compile(
            r"\b(translate|rewrite|re-write|paraphrase|rephrase|reword|proofread|correct (the|this|any)|edit (the|this)|convert (the|this) .{0,40}(in)?to|make (it|this|the \w+) (more|less|sound)|change .{0,40} (to|into) (the )?(passive|active|past|future|present))\b|翻译|改写|润色|重写|改成|转换成",
            _I,
        ),
    ),
    (
        "summarisation",
        re.compile(
            r"\b(summari[sz]e|summary|tl;?dr|main (points?|idea)|key (points|takeaways)|in (one|a|two|three) sentences?)\b|总结|概括|摘要",
            _I,
        ),
    ),
    (
        "extraction",
        re.compile(
            r"\b(extract|pull out|find all|list (all|the|every) [\w ]{0,30}(mentioned|from|in (the|this))|comma[- ]separated|bullet(ed)? list of (the )?[\w ]{0,20}(from|in))\b|提取|抽取|找出",
            _I,
        ),
    ),
    (
        "classification",
        re.compile(
            r"\b(classify|categori[sz]e|which (of (these|the following)|one) |identify which|(tell me )?whether (these|each|the following|this|it)|(is|are) (it|this|that|these|they) [\w ]{1,30} or |is (it|this|that) (a|an) [\w ]{1,30} or |sentiment|positive or negative|true or false|label (each|the|these))\b|分类|属于哪|判断",
            _I,
        ),
    ),
    (
        "creative_writing",
        re.compile(
            r"\b(write|compose|create|craft|generate|imagine)\b[\w ,'-]{0,40}?\b(poems?|story|stories|song|haiku|limerick|essay|letter|tweet|script|dialogue|speech|slogan|lyrics|tale|joke|fiction|rap|review|blog post|paragraph|description|advert\w*|ad)\b|\bpretend (you are|to be)\b|写一首|写一篇|诗|故事|小说|作文|歌词",
            _I,
        ),
    ),
    (
        "brainstorming",
        re.compile(
            r"\b(brainstorm|ideas?|suggest(ions)?|list (some|\d+|a few|three|five|ten|several)|give me (some|\d+|a few)|ways to|tips|recommend|what are (some|\d+|a few|several|lots of|different)|good (way|ways|places?|things) to)\b|建议|列出|想法|点子|推荐",
            _I,
        ),
    ),
    (
        "chat",
        re.compile(
            r"^\s*(hi|hello|hey|how are you|thanks|thank you|good (morning|night)|goodbye|bye|who are you|what is your name)\b|^\s*(你好|谢谢|再见|你是谁)",
            _I,
        ),
    ),
)
TASK_CUE = dict(TASK_CUES)

#: a long-form piece is asked for (essay, story, code, a list of five or more…)
LONG_FORM = re.compile(
    r"\b(?:essays?|story|stories|articles?|papers?|reports?|letters?|blog|speech|script|program|code|function|"
    r"algorithm|recipe|plan|paragraphs|poems?|lyrics|dialog(?:ue)?|conversation|proposal|guide|tutorial|"
    r"(?:list|give|name|generate|provide|suggest) (?:of )?(?:\d{2}|\d\b|five|six|seven|eight|nine|ten))\b|"
    r"文章|故事|作文|代码|程序|方案|计划",
    re.I,
)
#: creative writing, where hedges and repetition are style
CREATIVE = re.compile(
    r"\b(?:dialog(?:ue)?|conversation|script|story|poem|lyrics|song|role-?play|character|scene|play)\b|"
    r"对话|故事|剧本|诗",
    re.I,
)
#: songs, chants and rhymes repeat by design
SONG = re.compile(r"\b(?:songs?|lyrics|chants?|anthem|jingle|nursery rhyme|rap|poems?|rhymes?)\b|歌|诗", re.I)
#: tasks whose answer may be about anything: writing a sentence, a poem, a pun, an example
OPEN_ENDED = re.compile(
    r"^\W*(?:please\s+)?(?:write|generate|create|compose|make up|make|come up with|devise|invent|produce|"
    r"construct|give|provide|think of|suggest)\b[^.?!\n]{0,60}?\b(?:sentences?|poems?|haikus?|limericks?|puns?|"
    r"jokes?|stor(?:y|ies)|slogans?|taglines?|tweets?|examples?|riddles?|metaphors?|similes?|phrases?|quotes?|"
    r"titles?|headlines?|prompts?|lines?|verses?|rhymes?|analog(?:y|ies)|idioms?|insults?|compliments?)\b"
    r"|^\W*(?:请)?(?:写|生成|创作|编|造|想)(?:一|几|两|三|五)?(?:个|首|句|段|则|条)?(?:句子|诗|笑话|故事|口号|标语|例子|谜语|比喻)",
    re.I,
)
#: the task itself is about languages: a translation, an answer in a named language
LANGUAGE_TASK = re.compile(
    r"translat|transliterat|翻译|译成|译为|\b(?:in|into|to|from)\s+(?:english|chinese|mandarin|cantonese|french|"
    r"spanish|german|italian|japanese|korean|russian|portuguese|arabic|hindi|dutch|latin|greek|swedish|turkish|"
    r"vietnamese|thai|polish|hebrew|pinyin)\b|(?:英|中|汉|法|日|德|俄|韩|西班牙|意大利|葡萄牙|阿拉伯|拉丁)(?:文|语)|"
    r"拼音|pinyin|\b(?:different|another|other|foreign|target|second) language\b|其他语言|另一种语言|外语",
    re.I,
)
#: the prompt asks for a task or an instruction ("Create a task that a GPT model can complete…")
ASKS_FOR_A_TASK = re.compile(
    r"\b(?:create|write|generate|design|make|come up with|provide|give|compose|construct)\b[^.?!\n]{0,40}?"
    r"\b(?:task|instruction|prompt)s?\b|(?:创建|编写|生成|设计|写|给出)[^。？！\n]{0,20}?(?:任务|指令)",
    re.I,
)
#: requests whose refusal is the right answer: each kind of harm one rule
HARMFUL_ASKS: tuple[Rule, ...] = (
    Rule(
        "self-harm",
        re.compile(
            r"\b(?:hurt|harm|kill|cut|starve|injure)(?:ing)?\s+(?:myself|yourself|himself|herself|"
            r"themselves)\b|\bsuicid|\bself[- ]harm|\bend my (?:own )?life\b|自杀|自残|伤害自己",
            re.I,
        ),
        "a request to hurt oneself: declining it is the lesson",
    ),
    Rule(
        "weapons",
        re.compile(
            r"\b(?:make|build|assemble|create)\s+(?:a |an |my own )?(?:bomb|explosive|pipe bomb|"
            r"molotov|bioweapon|nerve agent|poison)\b|制作炸弹|制造炸弹",
            re.I,
        ),
        "a request to make a weapon or a poison",
    ),
    Rule(
        "crimes against others",
        re.compile(
            r"\bhow (?:to|do i|can i|could i|would i)\s+(?:kill|murder|poison|stab|"
            r"kidnap|rob|steal|shoplift|hack into|break into|stalk|launder)\b|"
            r"\bhack(?:ing)?\s+into\b|杀人|怎么偷|如何偷|黑进",
            re.I,
        ),
        "a request for how to harm, rob or break into someone or something",
    ),
    Rule(
        "someone's private data",
        re.compile(
            r"\bsocial security number|\bSSNs?\b|\b(?:home )?address of\b|\bphone number (?:of|for)\b|"
            r"\b(?:someone|somebody|my (?:boss|neighbou?r|ex|dean|teacher))'?s? (?:home address|address|"
            r"phone number)\b|身份证号|住址|家庭地址|人肉|肉搜",
            re.I,
        ),
        "a request for a person's private data (HH-RLHF: a dean's phone number, social security numbers; "
        "OASST zh 298: 人肉搜索, doxxing a driver)",
    ),
    Rule(
        "drugs",
        re.compile(r"\b(?:fentanyl|heroin|cocaine|meth(?:amphetamine)?)\b|毒品|冰毒|制毒", re.I),
        "a request about making or getting hard drugs",
    ),
    Rule(
        "forgery",
        re.compile(
            r"\b(?:forge|forged|forging|fake|counterfeit)\s+(?:a |an |my |the )?(?:id|passport|"
            r"signature|medical|money|bill|prescription|document|card)|伪造",
            re.I,
        ),
        "a request to forge documents or money",
    ),
    Rule(
        "breaking someone's device",
        re.compile(
            r"\bbrick(?:ing)?\s+(?:a|my|his|her|their|someone'?s?)\s+(?:phone|"
            r"computer|laptop)",
            re.I,
        ),
        "a request to disable someone's device",
    ),
)
#: questions about the assistant itself, whose honest answer says it is an AI and what it cannot do
ABOUT_THE_ASSISTANT: tuple[Rule, ...] = (
    Rule(
        "who the assistant is",
        re.compile(
            r"^\W*(?:who|what) are you\b|\bare you (?:an? )?(?:ai|human|robot|bot|"
            r"real person|sentient|conscious|machine)\b|\bintroduce yourself\b|你是谁|"
            r"你是什么|介绍一下?你自己",
            re.I,
        ),
        "'Who are you?' is answered by 'I am an AI…'",
    ),
    Rule(
        "what the assistant can do",
        re.compile(
            r"\byour (?:limitations|capabilities|limits|restrictions|rules)\b|"
            r"\bwhat (?:kinds? of |sorts? of )?(?:questions|things|tasks) "
            r"(?:can't|cannot|can not|are) you\b|你的(?:局限|限制|禁忌)|"
            r"你(?:输出|回答)的内容",
            re.I,
        ),
        "a question about the assistant's limits and rules",
        Seen("llama_factory/oaast_sft_zh.json", 175, "你输出的内容"),
    ),
    Rule(
        "the assistant's likes and feelings",
        re.compile(
            r"\b(?:do|did) you (?:like|love|prefer|enjoy|feel|dream|eat|sleep|want|get bored)\b|"
            r"\b(?:would|could|can) you (?:like|love|prefer|enjoy|feel|dream)\b|"
            r"\byour (?:favou?rite|preferences?|feelings?|hobbies)\b|\bwhat makes you\b|\bwhat are you doing\b|"
            r"你(?:最)?喜欢|让你感到|你感到|你(?:在)?(?:干|做)什么|你的(?:喜好|感受|看法|爱好|感情)|"
            r"^\W*你(?:平时|每天)?(?:吃|喝)(?:什么|饭|东西)|"
            r"你(?:会|能)(?:不会)?(?:思考|感到|有感情)",
            re.I,
        ),
        "a question about the assistant's own likes, feelings or doings",
        Seen("llama_factory/oaast_sft_zh.json", 25, "你最喜欢以上哪一首"),
    ),
    Rule(
        "the assistant compared",
        re.compile(
            r"\bhow (?:are|do) you differ\b|\bdifference between you and\b|"
            r"你和.{1,20}(?:有什么)?(?:区别|异同|不同)",
            re.I,
        ),
        "a question comparing the assistant with another system",
        Seen("llama_factory/oaast_sft_zh.json", 371, "你和Perplexity AI有什么异同"),
    ),
)


def harmful_ask(text: str) -> Rule | None:
    """The kind of harm a request asks for, if any."""
    return next((r for r in HARMFUL_ASKS if r.search(text)), None)


def about_the_assistant(text: str) -> Rule | None:
    """What of the assistant itself a question asks about, if anything."""
    return next((r for r in ABOUT_THE_ASSISTANT if r.search(text)), None)


#: the prompt is about code, markup, encodings or formatting: escape sequences and tags are its subject
ABOUT_CODE_OR_MARKUP = re.compile(
    r"\b(?:html|xml|css|markup|tag|tags|web ?page|website|web (?:article|format|page)|javascript|python|java|json|"
    r"regex|regular expression|unicode|escape|code|program|script|function|sql|latex|markdown|svg|encode|decode|"
    r"c\+\+|php|string|bold|bolded|italic|italics|italicize|italicized|underline|underlined|boldface|"
    r"strikethrough|font|fonts|react|angular|vue|jsx|component|template|xpath|selector|form|modal|hyperlinks?|"
    r"links?|styl(?:e|es|ing)|email template|newsletter|highlight\w*|embed\w*)\b|代码|编程|函数|网页|程序|"
    r"加粗|斜体",
    re.I,
)
#: the prompt asks to repeat something: a repeated sentence or a restated instruction is the answer
REPEAT_ASKED = Rule(
    "repetition asked for",
    re.compile(
        r"\brepeat\b|\bsay (?:it|this|that) (?:again|back)|\b(?:twice|(?:two|three|four|five|ten|\d+) times)\b|"
        r"\becho\b|重复|复述|再说一遍|说[一两二三四五六七八九十\d]+遍|[一两二三四五六七八九十\d]+遍",
        re.I,
    ),
    "the prompt asks to repeat a text: the repetition is what was asked",
    Seen("llama_factory/oaast_sft_zh.json", 306, "重复3遍"),
)
#: the prompt asks for a long or detailed answer
LENGTH_ASKED = Rule(
    "length asked for",
    re.compile(
        r"\b(?:detailed|in detail|comprehensive|thorough(?:ly)?|in[- ]depth|elaborate|long|lengthy|full|"
        r"at least \d+ (?:words|paragraphs|pages)|\d{3,} words|(?:two|three|four|five|\d+) paragraphs|essay|"
        r"step[- ]by[- ]step)\b|详细|具体|深入|全面|字以上|\d{3,}\s*字|不少于|至少.{0,4}字|展开|论文|文章",
        re.I,
    ),
    "the prompt asks for a long, detailed or multi-paragraph answer: a long answer is what it asked",
    Seen("llama_factory/oaast_sft_zh.json", 192, "1500字"),
)
#: the prompt asks to make a text shorter: a summary or a shortening is met by fewer words than a length it names
SHORTER_ASKED = Rule(
    "a shorter text asked for",
    re.compile(r"\b(?:shorten|summar\w*|condense|reduce|cut|trim|abridge|compress)\b|缩短|概括|总结|摘要", re.I),
    "a summary or a shortening 'to N words' is met by fewer words (a 70-word article summarised in 90 words for "
    "'200 words'): only a piece to write falls short of the length it asks",
    Seen("stanford_alpaca/alpaca_data.json", 28214, "Shorten the following sentence from 96 to 50 words."),
)
#: the prompt is about a database (a "table" there is a SQL table, not a format)
DATABASE = re.compile(r"\b(?:sql|query|queries|database|mysql|postgres\w*|sqlite|schema)\b|查询|数据库", re.I)

#: the instruction asks to compute something
COMPUTE = re.compile(
    r"\b(calculate|compute|evaluate|what is|what's|find|solve|result of|value of|answer to|add|"
    r"subtract|multiply|divide|sum of|product of)\b",
    re.I,
)

#: a maths problem: the one cue that says an answer's final number is a result to be derived
MATHS = Rule(
    "maths problem",
    re.compile(
        r"\b(?:calculate|compute|solve|how many|how much|how long|how far|how old|what (?:is|was) the "
        r"(?:total|sum|product|difference|average|mean|median|probability|percentage|area|volume|perimeter|"
        r"cost|price|speed|rate|ratio|value)|find the|what percent(?:age)?|mean and standard deviation|"
        r"standard deviation|average|equation|word problem|math(?:s|ematics)?)\b|\d\s*[+*/×÷^=]\s*\d|\d\s+-\s+\d|"
        r"计算|多少|几[个天只块元岁次本人年]|求解|求出|求和|方程|平均数|百分之|数学|应用题",
        re.I,
    ),
    "the instruction asks for a computation (a word problem, a quantity): its answer's last number is a result",
    Seen("llama_factory/lima.json", 804, "What percent"),
)


def task_type(instruction: str) -> str:
    """The instruction's first word, plus ``+long`` when it asks for a long-form piece (essay, code, list of 5…)."""
    text = instruction.strip().lower()
    suffix = "+long" if LONG_FORM.search(instruction) else ""
    m = re.match(r"[a-z]+", text)
    if m:
        return m.group(0) + suffix
    cjk = HAN.findall(text[:4])
    return ("".join(cjk[:2]) if cjk else "_other") + suffix


# --- item counts asked for -----------------------------------------------------------------------------------------

NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "a": 1,
    "single": 1,
    "a single": 1,
}
_ZH_NUMERALS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
#: a count in an ask, as a regex group: digits or an English number word
NUMBER = r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty)"
_ITEM_VERBS = r"(?:list|give|name|provide|suggest|generate|write|create|come up with|identify|state|mention|recommend|share|offer|outline|brainstorm|find|propose|compose|make)"
#: "list 5 fruits", "name three organic compounds": the count (group 1) and the items (group 2)
COUNT_ASK = re.compile(
    rf"\b{_ITEM_VERBS}\s+(?:me\s+|us\s+)?(?:at least\s+|exactly\s+|the\s+|top\s+)?{NUMBER}\s+(?!words?\b|sentences?\b|characters?\b|paragraphs?\b|syllables?\b|lines?\b|times?\b|years?\b|minutes?\b|hours?\b|days?\b|-)((?:[\w'-]+\s+){{0,3}}?[\w'-]+s)\b",
    re.I,
)
#: "列出5个", "举出五个": the count (group 1)
ZH_COUNT_ASK = re.compile(
    r"(?:列出|列举|给出|写出|提供|举出|说出|写|给我)\s*(\d{1,2}|[一二两三四五六七八九十])\s*(?:个|条|种|点|项|句|首|道|件|位|本)"
)
#: "列出使用太阳能的五个优点": the same with words between the verb and the count (read only where a list must be
#: numbered up to the count too: :func:`items_asked` ``gap``)
_ZH_COUNT_ASK_GAP = re.compile(
    r"(?:列出|列举|给出|写出|提供|举出|说出)[^。！？\n]{1,12}?(\d{1,2}|[一二两三四五六七八九十])\s*(?:个|条|种|点|项)"
)
#: a count ask about the participants of one piece ("写两个…男孩之间的友谊故事": one story about two boys)
_ZH_PARTICIPANTS = re.compile(r"之间|之中|两人|二人")


def number_value(tok: str) -> int:
    """The value of a count as :data:`NUMBER` or :data:`ZH_COUNT_ASK` read it ("5", "five", "十")."""
    t = tok.lower()
    if t.isdigit():
        return int(t)
    if t in NUMBER_WORDS:
        return NUMBER_WORDS[t]
    return sum(_ZH_NUMERALS.get(ch, 0) for ch in tok) if tok not in _ZH_NUMERALS else _ZH_NUMERALS[tok]


def items_asked(text: str, *, gap: bool = False) -> tuple[int, str] | None:
    """How many items a prompt asks for, and of what ("Name 5 fruits" -> (5, "fruits"); "列出5个" -> (5, "列出5个")),
    or ``None``: no count asked, or a count per group ("10 words for each type") or of a piece's participants
    ("写两个…男孩之间的友谊故事").  ``gap``: also a Chinese ask with words between its verb and its count
    ("列出使用太阳能的五个优点")."""
    m = COUNT_ASK.search(text)
    if m:
        if re.search(r"\b(?:each|per|every)\b", text[m.end() : m.end() + 60], re.I):
            return None
        return number_value(m.group(1)), m.group(2)
    z = ZH_COUNT_ASK.search(text) or (_ZH_COUNT_ASK_GAP.search(text) if gap else None)
    if z is None or _ZH_PARTICIPANTS.search(text[z.end() : z.end() + 30]):
        return None
    return number_value(z.group(1)), z.group(0)
