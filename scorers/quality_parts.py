"""Several asks in one instruction: numbered parts, asks joined by "and also", several questions.

The prompt is read as a *head* — what the user asks — and *material* — what the head works on: the
alpaca ``input``, or a passage after a first line or sentence such as "Answer the questions below:"
or "根据以下文章回答问题：".  Numbered items, joined asks and questions count only where they read as
asks:

* **numbered or lettered parts** ("1. … 2. …", "(a) … (b) …", "Part 1", "First, … Second, …",
  "1、…", "（1）…", "第一，…第二，…"): every item must read as an ask (an imperative verb, a question,
  a request), and the lead into the list must not point at it as data ("Sort these:", "Classify the
  following questions", "从给定的问题列表中筛选…") unless it says to answer it ("answer the
  following", "回答以下问题"); a list in the input counts only after such an answer lead;
* **joined asks** ("X and also explain Y", "X, then describe Y", "Additionally, …", "并且说明…"): the
  joined part must start with a verb that asks for more content; a constraint ("and also a prime
  number") or a step ("then round the result") is not a second ask;
* **questions**: those of the head, and those of the material when the head says to answer them.

An ask is addressed when the answer has a section with its number, or one of its content words
(stemmed; for Chinese, a character pair of its content) appears in the answer.  A part or a joined
ask is compared on the words it does not share with the rest of the instruction.  Not checked by
words: an ask with fewer than two content words of its own, and an ask answered with instances
rather than a discussion ("Name three plants", "Who …", "What is the sum of …", "说出…", "谁/哪/几"),
whose words need not come back in the answer.  Quoted sentences, speaker turns ("Person A: …",
"客服：…"), URLs and questions that point back ("Is this the right approach?") are never asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scorers.text.content import content_bigrams, content_stems

# --- words: content stems and Chinese content bigrams are read by scorers.text.content --------------------
_CJK = re.compile(r"[\u4e00-\u9fff]")


# --- the prompt: head and material ----------------------------------------------------------------------
_LEAD_LINE = re.compile(r"[:：]\s*$|\b(?:following|below)\b|以下|下面|下列|如下|给定|这篇|这段|这句", re.I)
_QUOTES = re.compile(
    r"\"([^\"\n]{0,400})\"|“([^”\n]{0,400})”|「([^」\n]{0,400})」|『([^』\n]{0,400})』|`([^`\n]{0,200})`"
)


def _unquote(text: str) -> str:
    """``text`` with quoted sentences ("How's it going?") blanked out: they are material, not asks.
    A short quoted term ("真善美", "yes or no") keeps its words: it is part of the ask."""

    def repl(m: re.Match[str]) -> str:
        inner = next(g for g in m.groups() if g is not None)
        return " " if len(inner) > 30 or re.search(r"[.?!。？！]", inner) else inner

    return _QUOTES.sub(repl, text)


#: a speaker's turn in a dialogue ("Person A: …", "客服：…"), not a label such as "Question: …".
_SPEAKER = re.compile(
    r"^\s*[-*]?\s*(?!(?:Questions?|Q|Tasks?|Note|Context|Problem|Query|Prompt|Part|Step|Input|Text|Example|"
    r"问题|题目|要求|任务|注意|背景)\b)(?:[A-Z][\w .]{0,20}|[\u4e00-\u9fff\w]{1,8})\s*[:：]\s*\S",
    re.M,
)


_LEAD_SENTENCE = re.compile(r"^[^\n]{4,200}?(?:[:：]|[.。](?=\s*\S))", re.S)


def split_prompt(instruction: str, material: str = "") -> tuple[str, str]:
    """(head, material): an instruction whose first line or sentence leads into what follows
    ("…the following questions:", "根据以下新闻提供其摘要。中国计划…") keeps only that lead as its head."""
    text = instruction.strip()
    lines = text.split("\n", 1)
    lead = lines[0] if len(lines) == 2 and lines[1].strip() else None
    if lead is None or not _LEAD_LINE.search(lead):
        m = _LEAD_SENTENCE.match(text)
        lead = m.group(0) if m and _LEAD_LINE.search(m.group(0)) and len(text) > m.end() + 10 else None
    if lead is None or not _LEAD_LINE.search(lead):
        return instruction, material
    rest = text[len(lead) :].strip()
    return lead, (rest + ("\n\n" + material if material.strip() else "")).strip()


# --- numbered parts --------------------------------------------------------------------------------------
_ZH_NUM = "一二三四五六七八九十"
_EN_ORD = {
    "first": 1,
    "firstly": 1,
    "second": 2,
    "secondly": 2,
    "third": 3,
    "thirdly": 3,
    "fourth": 4,
    "fifth": 5,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
}
_MARKERS = re.compile(
    r"(?P<digit>(?:^|(?<=[\s:：;；。.,，?？!！]))[（(]?(?P<d>\d{1,2})(?:[.．](?!\d)|[)）、]))"
    r"|(?P<letter>[（(](?P<l>[a-h])[)）]|(?:^|(?<=\s))(?P<l2>[a-h])\)(?=\s)|^[ \t]*(?P<l3>[a-h])\.(?=\s))"
    r"|(?P<label>\b(?:Part|Question|Task|Step|Q)\s*(?P<n>\d{1,2}|[A-D]|one|two|three|four)\b\s*[:.)]?)"
    r"|(?P<word>(?:^|(?<=[.!?:;]\s)|(?<=\n))(?P<w>First|Firstly|Second|Secondly|Third|Thirdly|Fourth|Fifth)\s*,)"
    r"|(?P<zh>(?:^|(?<=[\s：:；;。，,？?！!]))(?:第(?P<z1>[一二三四五六七八九十])(?=[，、：:,.．]|部分|题|个问题|点)|[（(](?P<z2>[一二三四五六七八九十])[)）]|(?P<z3>[一二三四五六七八九十])[、．]))",
    re.M,
)


@dataclass(frozen=True)
class Ask:
    """One ask found in the instruction: its kind, how the reason names it, its text, its number."""

    kind: str  # "part" | "joined" | "question"
    label: str
    text: str
    ordinal: int | None = None


def _ordinal(m: re.Match[str]) -> tuple[str, int]:
    """(family, ordinal) of a list marker."""
    if m.group("digit"):
        return "digit", int(m.group("d"))
    if m.group("letter"):
        return "letter", ord((m.group("l") or m.group("l2") or m.group("l3")).lower()) - 96
    if m.group("label"):
        n = m.group("n")
        return "label", int(n) if n.isdigit() else _EN_ORD.get(n.lower(), ord(n.upper()) - 64 if len(n) == 1 else 0)
    if m.group("word"):
        return "word", _EN_ORD[m.group("w").lower()]
    z = m.group("z1") or m.group("z2") or m.group("z3")
    return "zh", _ZH_NUM.index(z) + 1


def _runs(text: str) -> list[tuple[int, int, int]] | None:
    """The longest run of list markers numbered 1, 2, 3, … in one style: (start, end, ordinal) each."""
    by_family: dict[str, list[tuple[int, int, int]]] = {}
    for m in _MARKERS.finditer(text):
        fam, k = _ordinal(m)
        by_family.setdefault(fam, []).append((m.start(), m.end(), k))
    best: list[tuple[int, int, int]] = []
    for marks in by_family.values():
        for i, (s, e, k) in enumerate(marks):
            if k != 1:
                continue
            run = [(s, e, k)]
            for s2, e2, k2 in marks[i + 1 :]:
                if k2 == run[-1][2] + 1:
                    run.append((s2, e2, k2))
            if len(run) > len(best):
                best = run
    return best if len(best) >= 2 else None


_ASK_VERBS_EN = (
    r"explain|describe|give|provide|list|name|suggest|propose|justify|discuss|include|state|mention|identify|"
    r"recommend|outline|compare|contrast|predict|offer|tell|share|cite|define|illustrate|elaborate|detail|"
    r"analy[sz]e|evaluate|assess|highlight|summari[sz]e|write|create|design|generate|calculate|compute|find|"
    r"determine|show|prove|solve|choose|select|translate|rewrite|convert|classify|make|draft|compose|plan|"
    r"develop|research|argue|imagine|consider|brainstorm|estimate|derive|draw|construct|sketch|rank|review|"
    r"answer|reply|respond|add|come up with|talk about|walk me through|help me"
)
_ASK_ITEM_EN = re.compile(
    rf"^(?:please\s+|(?:can|could|would|will) you\s+(?:please\s+)?|i (?:want|need|would like)\b|now\s+|then\s+|also\s+|"
    rf"briefly\s+)?(?:{_ASK_VERBS_EN})\b|^(?:what|why|how|when|where|who|whom|which|whose|is|are|was|were|do|does|did|can|"
    rf"could|should|would|will|has|have)\b|\?\s*$",
    re.I,
)
_ZH_ASK_VERBS = (
    "说明|解释|描述|介绍|给出|提供|列出|列举|举例|举出|分析|比较|推荐|建议|讨论|指出|阐述|总结|概括|谈谈|说说|"
    "告诉|写出|写一|写|概述|预测|评价|补充|计算|设计|翻译|求|证明|判断|找出|回答|制定|规划|整理|编写|创作|说出|讲讲|讲述"
)
_ASK_ITEM_ZH = re.compile(
    rf"^(?:请|请你|你能|能否|可否|可以|帮我|给我|再|也|还)?(?:{_ZH_ASK_VERBS})|[？?]|[吗呢][。.]?\s*$|为什么|为何|如何|怎么|怎样|什么|"
    r"哪|是否|多少|几[个种条]"
)
#: a lead that hands the list over as asks: "answer the following", "回答以下问题", "I have three questions".
_ANSWER_LEAD = re.compile(
    r"\b(?:answers?|respond(?:ing)? to|reply to|address|tackle|work through|do|complete|solve)\b(?:\s+[\w-]+){0,4}?\s+"
    r"(?:the\s+)?(?:following|these|below|each|all|both|next|questions?|tasks?|parts?|prompts?)\b"
    r"|\bI have (?:a few|some|several|a couple of|two|three|four|five|\d) questions\b|\bmy questions (?:are|:)"
    r"|回答|解答|作答|答复|完成(?:以下|下列|下面|如下)|问题如下|以下(?:几个)?问题[：:]|下列问题[：:]|下面(?:的|几个)?问题[：:]",
    re.I,
)
#: a lead that points at the list as something to work on ("the following", "these", "以下", "给定").
_DATA_LEAD = re.compile(
    r"\b(?:following|given|below|above|these|this list|the list|options?|choices?)\b|以下|下面|下列|如下|"
    r"给定|上述|这些|这几|其中|选项|列表",
    re.I,
)


def _is_ask_item(item: str) -> bool:
    t = item.strip().strip("*_#").strip()
    if not t:
        return False
    return bool(_ASK_ITEM_ZH.search(t) if _CJK.search(t[:12]) else _ASK_ITEM_EN.search(t))


def numbered_parts(instruction: str, input_text: str) -> tuple[list[Ask], tuple[int, int] | None]:
    """The numbered parts that read as asks, and the span of a list found in the instruction.

    A list in the instruction is led by the sentence or two before it; a list in the input by the
    whole instruction, and it holds asks only when that says to answer them."""
    for where, text in (("instruction", instruction), ("input", input_text)):
        run = _runs(text) if text else None
        if not run:
            continue
        span = (run[0][0], len(text)) if where == "instruction" else None
        if where == "instruction":
            sentences = re.split(r"(?<=[.!?。！？\n])\s*", text[: run[0][0]].strip())
            lead = " ".join(sentences[-2:])
        else:
            lead = instruction
        items = []
        for j, (_, e, k) in enumerate(run):
            end = run[j + 1][0] if j + 1 < len(run) else len(text)
            item = text[e:end]
            if j + 1 == len(run):
                item = re.split(r"\n\s*\n", item, maxsplit=1)[0]
            items.append((k, item.strip(" \t\n;；,，")))
        # the answer options of one question ("a) Phobos b) Deimos") follow "answer the question" too:
        # every item must read as an ask whatever the lead says
        if not all(_is_ask_item(it) for _, it in items):
            return [], span
        lead = _unquote(lead)
        if not _ANSWER_LEAD.search(lead) and (
            _DATA_LEAD.search(lead) or where == "input" or "?" in lead or "？" in lead
        ):
            return [], span  # "Classify the following questions: 1. … 2. …": the items are data
        return [Ask("part", f"part {k}", it, k) for k, it in items], span
    return [], None


# --- asks joined to another --------------------------------------------------------------------------------
_CONTENT_VERBS_EN = (
    r"explain|describe|give|provide|list|name|suggest|propose|justify|discuss|include|state|mention|identify|"
    r"recommend|outline|compare|contrast|predict|offer|tell|share|cite|define|illustrate|elaborate|detail|"
    r"analy[sz]e|evaluate|assess|note|point out|highlight"
)
_JOINED_EN = re.compile(
    rf"(?:,?\s+and also\s+|\s+as well as\s+(?=(?:{_CONTENT_VERBS_EN})(?:ing)?\b)|(?:,|;)\s*(?:and\s+)?then\s+|\s+and then\s+"
    rf"|(?:^|(?<=[.!?])\s+)(?:also|additionally|in addition|furthermore|moreover|besides)\s*,?\s+)",
    re.I,
)
_JOINED_Y_EN = re.compile(
    rf"^(?:please\s+|be sure to\s+|make sure to\s+|you should\s+|you must\s+)?(?:{_CONTENT_VERBS_EN})(?:ing)?\b", re.I
)
_JOINED_ZH = re.compile(r"[，,；;。]?\s*(?:并且|同时|另外|此外|还要|还需要?|以及|然后|接着|并请|也请|再请)")
_JOINED_Y_ZH = re.compile(rf"^[，,]?\s*(?:请|也|还|再|要|需要|并|你)?(?:{_ZH_ASK_VERBS})")


def joined_asks(head: str) -> list[Ask]:
    """Asks joined to an earlier ask in the head: the text after "and also", "then explain", "并且说明"…"""
    text = _unquote(head)
    out = []
    for sentence in re.split(r"(?<=[.!?。！？\n])\s*", text):
        core = re.sub(
            r"^(?:also|additionally|in addition|furthermore|moreover|besides)\s*,?\s*", "", sentence, flags=re.I
        )
        if sentence.rstrip().endswith(("?", "？")) or _SPEAKER.match(sentence) or not _is_ask_item(core):
            continue  # a question is checked as a question; a passage's sentence or a speaker's turn is no ask
        zh = bool(_CJK.search(sentence))
        splitter = _JOINED_ZH if zh else _JOINED_EN
        for m in splitter.finditer(sentence):
            before, after = sentence[: m.start()], sentence[m.end() :]
            after = re.split(
                r"[.!?。！？]|,?\s+and (?:also|then)\b|(?:,|;)\s*then\b|[，,；;]\s*(?:并且|同时|然后|接着|以及)", after
            )[0]
            conn = m.group(0).strip(" ,;，；。")
            # a second ask starts with a verb: "divisible by 15 and also a prime number" is one ask with a
            # constraint, and "以及它出现的原因" is too often worded differently in the answer to check
            if not (_JOINED_Y_ZH if zh else _JOINED_Y_EN).match(after.strip()):
                continue
            if not before.strip(" ,.;，。；") and not _has_earlier_ask(text, sentence):
                continue  # "Additionally, give me a story" with nothing before: the only ask, not a joined one
            out.append(Ask("joined", f"the ask after {conn!r}", after.strip(" ,.;，。；"), None))
    return out


def _has_earlier_ask(text: str, sentence: str) -> bool:
    return bool(text[: text.find(sentence)].strip())


# --- questions ----------------------------------------------------------------------------------------------

#: an English question reads as one ("A tuxedo, a blue suit, a gown?" is a list of options).
_EN_QUESTION = re.compile(
    r"\b(?:what|why|how|when|where|who|whom|which|whose)\b|^(?:(?:and|but|or|so|also|then|now|and if so),?\s+)?"
    r"(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|had|may|might|must|shall|isn't|"
    r"aren't|don't|doesn't|didn't|can't|won't)\b",
    re.I,
)


#: a question that points back ("Is this the right approach?", "这是为什么？") follows up the ask before it:
#: it is answered by answering that one, in words of its topic, not its own.
_ANAPHORA = re.compile(
    r"\b(?:this|it|its|they|them|these|those|such|the same|the inverse|the opposite)\b|"
    r"^(?:and\s+)?if (?:so|yes|not|no)\b|[这那它]",
    re.I,
)


def _question_sentences(text: str) -> list[str]:
    if "?" not in text and "？" not in text:
        return []
    text = _unquote(text)
    out = []
    for line in text.split("\n"):
        if _SPEAKER.match(line) or "http" in line or "www." in line:
            continue  # a speaker's turn in a dialogue, or a URL: material, not an ask
        for q in re.split(r"(?<=[.?!。？！．])", line):
            q = q.strip()
            q = re.split(r"[:：]", q)[-1].strip() or q
            if _CJK.search(
                q
            ):  # "…短信不回，我该怎么办？": the question is the last clause ("A，还是B？": the last two)
                clauses = [c for c in re.split(r"[，,]", q) if c.strip()] or [q]
                q = "，".join(
                    clauses[-2:] if len(clauses) > 1 and clauses[-1].strip().startswith("还是") else clauses[-1:]
                ).strip()
            if (
                q.endswith(("?", "？"))
                and len(q) > 3
                and not _DATA_LEAD.search(q)
                and not _ANAPHORA.search(q)
                and (_CJK.search(q) or _EN_QUESTION.search(q))
            ):
                out.append(q)
    return out


def questions(head: str, material: str, skip: str = "") -> list[Ask]:
    """The head's questions, and the material's when the head says to answer them (minus ``skip`` text)."""
    head_qs = [q for q in _question_sentences(head) if q not in skip]
    # "Answer the given question.", "How would you respond to this user question?" hand the input's questions over
    answer_material = bool(_ANSWER_LEAD.search(_unquote(head)))
    qs = head_qs + ([q for q in _question_sentences(material) if q not in skip] if answer_material else [])
    return [Ask("question", "question", q) for q in qs]


# --- the answer's side ---------------------------------------------------------------------------------------
class AnswerText:
    """What the answer offers to match asks against: its section numbers, stemmed words, text."""

    def __init__(self, answer: str) -> None:
        self.text = answer
        self._stems: set[str] | None = None
        self._ordinals: set[int] | None = None

    @property
    def stems(self) -> set[str]:
        if self._stems is None:
            self._stems = content_stems(self.text)
        return self._stems

    @property
    def prefixes(self) -> set[str]:
        """First five letters of each stem: "Japan" meets "Japanese", "blackhole" meets "black hole"."""
        return {w[:5] for w in self.stems}

    @property
    def ordinals(self) -> set[int]:
        if self._ordinals is None:
            self._ordinals = {_ordinal(m)[1] for m in _MARKERS.finditer(self.text)}
        return self._ordinals


#: a yes/no question: "Can you analyze text?", "你会有自己的思想吗？"
_POLAR_EN = re.compile(
    r"^(?:(?:and|but|or|so|also|then|now),?\s+)?(?:is|are|was|were|do|does|did|can|could|should|would|will|"
    r"has|have|had|may|might|must|shall|isn't|aren't|don't|doesn't|didn't|can't|won't)\b",
    re.I,
)
_POLAR_ZH = re.compile(r"[吗么][？?]?\s*$|是不是|能不能|会不会|有没有|可不可以|要不要")
#: an answer that opens with a yes, a no or a don't-know has answered a yes/no question in one word.
_POLAR_REPLY = re.compile(
    r"^\W{0,3}(?:yes|yeah|yep|no|nope|not|sure|maybe|perhaps|possibly|probably|of course|certainly|absolutely|definitely|"
    r"indeed|correct|right|true|false|it depends|i don['’]?t know|i do not know|i['’]?m not sure|i am not sure|unfortunately|"
    r"是的?|不是|不|没有|可以|不可以|能|不能|会|不会|当然|对|没错|也许|可能|有的?|不一定|这取决于)(?![A-Za-z])",
    re.I,
)


#: an ask answered with instances, not a discussion ("Name three plants" → "Roses, tomatoes"; "Who wrote
#: Hamlet?" → "Shakespeare"; "写一首诗"): its words need not come back, so only a numbered section shows it
#: was answered.
_INSTANCE_ASK_EN = re.compile(
    r"^(?:please\s+|(?:can|could|would|will) you\s+(?:please\s+)?|now\s+|then\s+|also\s+|and\s+)?(?:"
    r"list|name|give|provide|suggest|write|create|generate|compose|come up with|recommend|identify|find|choose|select|"
    r"make|design|draft|brainstorm|propose|offer|share|cite|construct|produce|develop|invent|think of|tell me|pick|"
    r"output|return|convert|translate|rewrite|calculate|compute|sort|rank|classify|edit|correct|fix|add|insert|state|"
    r"(?:describe|explain|imagine) an? |"
    r"who|whom|whose|which|when|where|how (?:many|much|long|old|far|tall|big)|"
    r"how (?:do|would|could|can|should|will) (?:you|i|one|we) (?:say|phrase|write|spell|pronounce|translate|express|greet|"
    r"respond|reply|apologi[sz]e)|"
    r"what(?:['’]s| is| are| was| were| would be| will be)? (?:(?:the|a|an|some|\d+|one|two|three|four|five|six|seven|"
    r"eight|nine|ten)\s+)?(?:[\w-]+\s+){0,2}?(?:type|kind|sort|word|term|phrase|name|title|sum|area|volume|value|number|"
    r"result|answer|syntax|formula|equation|factori[sz]ation|gerund|plural|tense|synonym|antonym|opposite|translation|"
    r"capital|population|temperature|speed|distance|length|height|weight|date|year|time|price|cost|rate|percentage|"
    r"ratio|probability|score|code|output|uses|sources|examples|ways|tips|steps|advice|suggestions?|recommendations?|ideas?|"
    r"denominator|multiple|factor|root|average|mean|median|product|quotient|remainder|percent|conjugation|"
    r"representation|longitude|latitude|coordinates|location|address)s?\b|what (?:are|were) some\b)",
    re.I,
)
_INSTANCE_ASK_ZH = re.compile(
    r"^(?:请|请你|你能|能否|帮我|给我|再|也|还)?(?:说出|列出|列举|举例|举出|写|创作|编写|推荐|建议|找出|给出|提供|生成|设计|"
    r"创建|想出|起|取|翻译|改写|计算|排序|分类|选出|挑选|输出)|谁|哪|几|多少|什么时候|何时|何地|[\d一二两三四五六七八九十]+[个种条项点件]|"
    r"类型|名称|名字|叫什么|术语|单词|词语|过去式|复数|同义词|反义词|翻译|怎么说|如何说|如何表达|如何回应|用什么(?:短语|词)|道歉|"
    r"表示|变位|建议|有哪些"
)


_WH = re.compile(r"(?<=[,;:] )(?:what|who|which|when|where|how)\b", re.I)


def addressed(ask: Ask, answer: AnswerText, other: str = "") -> bool | None:
    """Whether the answer addresses the ask; ``None`` when the ask has too little content to tell.

    ``other`` is text of the same instruction outside this ask (the other parts, or the ask a joined
    ask is joined to): words shared with it show nothing about *this* ask, so only the ask's own
    words count."""
    if ask.ordinal is not None and ask.ordinal in answer.ordinals:
        return True
    if (
        ask.kind == "question"
        and (_POLAR_ZH.search(ask.text) if _CJK.search(ask.text) else _POLAR_EN.match(ask.text))
        and _POLAR_REPLY.match(answer.text.lstrip())
    ):
        return True
    t = ask.text.strip().lstrip("*-• ").strip()
    wh = _WH.search(t)  # "Imagine you are an animal, what kind of animal are you?": the question starts at "what"
    if (
        (
            _INSTANCE_ASK_ZH.search(t)
            if _CJK.search(t[:12])
            else (_INSTANCE_ASK_EN.match(t) or wh and _INSTANCE_ASK_EN.match(t[wh.start() :]))
        )
        or "://" in t
        or "www." in t
    ):
        return None  # answered with instances, or about a page the answer cannot quote
    words = content_stems(ask.text)
    grams = content_bigrams(ask.text)
    if other:
        words -= content_stems(other)
        grams -= content_bigrams(other)
    if len(words) + len(grams) < 2:
        return None  # "suggest a solution": one word is too little to tell whether it was addressed
    if {w[:5] for w in words} & answer.prefixes:
        return True
    return any(g in answer.text for g in grams)


def find_asks(instruction: str, input_text: str = "") -> list[tuple[Ask, str]]:
    """Every ask of the prompt that may be checked, with the text outside it that it is compared against."""
    if not _MAY_HAVE_ASKS.search(instruction + "\n" + input_text):
        return []
    parts, span = numbered_parts(instruction, input_text)
    rest = instruction if span is None else instruction[: span[0]]
    head, material = split_prompt(rest, input_text)
    out: list[tuple[Ask, str]] = [(p, " ".join(o.text for o in parts if o is not p)) for p in parts]
    for a in joined_asks(head):
        out.append((a, head.replace(a.text, " ")))
    part_text = " ".join(p.text for p in parts)
    out += [(q, "") for q in questions(head, material, skip=part_text)]
    return out


_MAY_HAVE_ASKS = re.compile(
    r"[?？]|\d[.)．、]|[（(][\da-h一二三四五六七八九十][)）]|\b[a-h][.)]|第[一二]|[一二]、|\b(?:Part|Question|Task|Step|Q)\s*\d|"
    r"\b(?:First|also|then|as well as|additionally|in addition|furthermore|moreover|besides)\b|"
    r"并且|同时|另外|此外|还要|还需|以及|然后|接着|并请|也请|再请",
    re.I,
)
