"""Refusals and AI-assistant boilerplate in an answer, and when they are the right answer.

* :data:`REFUSAL` / :data:`REFUSAL_OPENING` — the answer refuses or says the task cannot be done;
* :data:`BOILERPLATE` — "As an AI language model, I…" in an answer;
* :func:`refuses` / :func:`boilerplate` — the two checks with their exemptions (:data:`NOT_A_REFUSAL`): refusing a
  harmful request is the lesson; "who are you?" or "what do you like?" is answered by saying what the assistant
  is; and an honest limit followed by help ("I can't check the weather, but here is how") is an answer.
"""

from __future__ import annotations

import re

from scorers.text.cues import about_the_assistant, harmful_ask
from scorers.text.rules import Rule, Seen

REFUSAL = re.compile(
    "|".join(
        [
            r"\bI(?:'m| am)\s+(?:sorry|afraid)\b[^.!?\n]{0,80}?\b(?:can(?:no|')t|can not|unable|not able|won't|will not|"
            r"don't|do not)\b",
            r"\b(?:I|we)\s+(?:cannot|can't|can not|am unable to|'m unable to|am not able to|'m not able to|"
            r"won't be able to|will not be able to|am not capable of)\s+(?:\w+\s+){0,2}?(?:provide|help|assist|answer|"
            r"fulfil|fulfill|complete|comply|generate|create|write|do|perform|access|browse|open|see|view|watch|listen|draw|"
            r"paint|display|show|play|process|determine|give|make|share|offer|produce|read|visit|predict|know|physically)",
            r"\bI\s+(?:do not|don't)\s+(?:have|possess)\s+(?:access|the ability|the capability|personal|real-time|"
            r"any (?:information|data|way)|enough information|the means|eyes|a physical|opinions|feelings)",
            r"(?:抱歉|对不起|很遗憾|不好意思)[，,。！\s]*(?:但是?)?(?:我|作为)[^。！？\n]{0,30}?(?:无法|不能|没有办法|做不到|不可以)",
            r"我(?:无法|不能|没有能力|没办法)(?:为您|为你|帮您|帮你)?(?:提供|回答|完成|帮助|访问|浏览|查看|观看|收听|打开|"
            r"生成|绘制|画|执行|满足|预测|获取|理解)",
        ]
    ),
    re.I,
)
# "This instruction cannot be completed by a GPT model": only as the opening of an answer
REFUSAL_OPENING = re.compile(
    r"^\W*(?:this|that|the)\s+(?:task|request|instruction)\s+(?:is|cannot be)\s+"
    r"(?:not\s+)?(?:possible|completed|fulfilled|beyond)",
    re.I,
)
BOILERPLATE = re.compile(
    "|".join(
        [
            r"\bas an? (?:AI|artificial intelligence|large language model|language model|LLM|AI language model|"
            r"AI assistant|virtual assistant|chatbot)\b(?!-)[^.!?\n]{0,40}?\b(?:I|me|my)\b",
            r"\bI(?:'m| am) (?:just |only )?an? (?:AI|artificial intelligence|language model|large language model|"
            r"AI language model|AI assistant|computer program)\b",
            r"\bmy (?:training data|knowledge cut-?off)\b",
            r"作为一?(?:个|名)?(?:AI|人工智能|语言模型|AI语言模型|AI助手|大语言模型|聊天机器人|虚拟助手)",
            r"我(?:只)?是一?(?:个|名)(?:AI|人工智能|语言模型|AI语言模型|AI助手|计算机程序)",
        ]
    ),
    re.I,
)


#: a limit of access the request needed: browsing, real-time data, going online
_ACCESS_LIMIT = re.compile(
    r"\b(?:browse|browsing|internet|online|real[- ]time|live data|look up|check|search|"
    r"access (?:to )?(?:the internet|current|live|external))|联网|上网|实时|查询|访问|互联网|网络|官网",
    re.I,
)
_SENTENCE_END = re.compile(r"[.!?。！？\n]")
#: after stating a limit of access, the answer helps anyway: it offers a way, a pointer or the answer itself
HELPS_AFTER = Rule(
    "an honest limit, then help",
    re.compile(
        r"\b(?:but|however|instead|though)\b[^.!?\n]{0,60}?\b(?:you can|you could|I can|here(?:'s| is| are)|"
        r"try|check|visit|use)\b|但(?:是)?(?:我)?(?:能|可以)|不过|您可以|你可以|建议您|建议你|可以(?:使用|通过|访问|前往)|"
        r"如何查询|以下是",
        re.I,
    ),
    "an answer that states it cannot go online or look something up, and then helps (a way to do it, where to "
    "look), answers the request: it is neither a refusal nor boilerplate",
    Seen("llama_factory/oaast_sft_zh.json", 183, "您可以自行前往www.12306.cn"),
)


def _honest_limit(answer: str, m: re.Match[str]) -> bool:
    """The limit stated at ``m`` is one of access, and help follows it."""
    end = _SENTENCE_END.search(answer, m.end())
    stated = answer[m.start() : end.end() if end else len(answer)]
    return (
        bool(_ACCESS_LIMIT.search(stated))
        and HELPS_AFTER.pattern is not None
        and bool(HELPS_AFTER.pattern.search(answer, m.end()))
    )


#: prompts whose answer may say "I can't" as its content: a rewritten sentence, a joke, a dialogue, a poem, a
#: translation (Alpaca rows 15445, 16723, 10581; Chinese Alpaca 7914, a Frost stanza "抱歉我不能同时旅行")
CONTENT_NOT_REFUSAL = Rule(
    "the refusal words are the content asked for",
    re.compile(
        r"\b(?:rewrite|rephrase|paraphrase|reword|rearrange|reorder|restructure|translate|edit|correct|convert|"
        r"change|transform|improve|fix|make (?:it|this|the sentence)|"
        r"joke|pun|riddle|dialog(?:ue)?|conversation|script|story|poem|song|lyrics|skit|role-?play|character|"
        r"advert\w*|slogan|tweet|quote|recite|stanza|verse)\b|改写|重写|翻译|笑话|对话|故事|诗|歌词|剧本|朗诵|背诵",
        re.I,
    ),
    "when the prompt asks for a rewritten sentence, a joke, a dialogue, a poem or a translation, 'I can't…' in the "
    "answer is the content, not a refusal",
    Seen("stanford_alpaca/alpaca_data.json", 16723, "Add a joke at the end of the sentence."),
)
#: a prompt that asks for a refusal: a reply declining an invitation, the line an assistant says when it cannot help
ASKED_TO_DECLINE = Rule(
    "a refusal is what was asked for",
    re.compile(
        r"\b(?:declin(?:e|es|ed|ing)(?! in\b| of\b)|refus\w*|reject\w*|turn(?:s|ing)? down|apolog\w*|say(?:ing)? no)\b|"
        r"\b(?:can(?:no|')t|(?:is|are) (?:not )?(?:un)?able to) (?:do|help|answer|fulfil)|婉拒|拒绝|道歉",
        re.I,
    ),
    "when the prompt asks for a text that declines, refuses or apologises (a reply turning down an invitation, what "
    "an assistant says when it cannot do something), the refusal in the answer is the content asked for",
    Seen(
        "stanford_alpaca/alpaca_data.json",
        45307,
        "Create a response that could be used by an AI assistant when it is asked to do something it cannot do.",
    ),
)
#: a refusal that names what it refuses: the request, the task, the question (not a sentence of the content)
_NAMES_THE_REQUEST = re.compile(
    r"\b(?:help|assist)(?: you)? with (?:that|this|your)|\b(?:that|this|your) (?:request|task|"
    r"question|instruction)|\bthe task\b|\bprovide (?:an answer|that|this|the)|\bdo that\b|"
    r"\bcomplete (?:this|the|that)\b|\bfulfil+\b|\baccess (?:that|the internet|real-time)|\bbrowse\b|"
    r"这个任务|这个问题|这方面|无法回答|不能回答|无法完成|访问互联网",
    re.I,
)
#: an honest "I can't" to a request no text can fulfil (play a song, make an image, build a physical object)
IMPOSSIBLE_ASK = Rule(
    "a request no text can fulfil",
    re.compile(
        r"\b(?:play|sing|record|draw|paint|sketch|photograph|film|build|make|create|design|generate|render|"
        r"bake|cook|deliver|send|call|buy|order|assemble)\b[^.?!\n]{0,40}?\b(?:song|music|video|audio|image|"
        r"picture|photo|visual|drawing|painting|logo|poster|sculpture|puzzle|cake|meal|package|email to|phone|"
        r"physical)\b|"
        r"(?:画|绘制|播放|唱|拍)(?:一|出|个|张|幅|首)",
        re.I,
    ),
    "declining a request for a picture, a sound or a physical act is the honest answer; the prompt is the defect "
    "(non_text_output)",
    Seen("stanford_alpaca/alpaca_data.json", 27866, "Create a visual of the solar system"),
)


#: a request for live data (today's weather, a current stock price): "I have no real-time data" is the honest answer
LIVE_DATA_ASK = Rule(
    "a request for live data",
    re.compile(
        r"\b(?:current|today'?s|latest|live|real[- ]time|right now|at the moment|this (?:week|morning|evening))\b"
        r"[^.?!\n]{0,30}?\b(?:price|prices|stock|stocks|weather|forecast|news|score|scores|exchange rate|rate|"
        r"traffic|time|temperature)\b|\b(?:price|stock|weather|news|score|exchange rate|temperature)\b[^.?!\n]{0,20}?"
        r"\b(?:today|right now|now|currently)\b|实时|(?:今天|现在|目前|当前|最新)的?[^。？！\n]{0,8}?(?:天气|股价|价格|新闻|汇率|比分)",
        re.I,
    ),
    "saying it has no real-time data is the honest answer to a request for live prices, weather or news",
    Seen("llama_factory/lima.json", 421, "Show me the current stock price."),
)
#: the refusal words are spoken by someone in the content: a dialogue line, a quoted reply ("- Agent: I'm sorry…")
SPEAKER_LINE = Rule(
    "a line of dialogue",
    re.compile(r"(?:^|\n)\s*(?:[-*>]\s*)?[A-Z][\w .']{0,24}:\s*[\"“]?(?=[^\n]*$)"),
    "'I'm sorry, we can't' after a speaker's label ('Agent:', 'Customer:') is a line of the dialogue asked for",
    Seen("stanford_alpaca/alpaca_data.json", 50994, "- Agent: I'm sorry, but we are unable to fulfill your request."),
)
_SENTENCE_BREAK = re.compile(r"[.!?。！？](?=\s|$)|[。！？]|\n")


def opens_with(answer: str, m: re.Match[str]) -> bool:
    """The refusal at ``m`` is the answer's own opening: in its first two sentences and 150 characters, not a
    line of dialogue, and not a title in Title Case ("All the Light We Cannot See")."""
    before = answer[: m.start()]
    if m.start() > 150 or len(_SENTENCE_BREAK.findall(before)) > 1:
        return False
    if SPEAKER_LINE.search(before):
        return False
    words = [w for w in m.group(0).split() if w[:1].isalpha()]
    return not (len(words) >= 2 and all(w[0].isupper() for w in words))


def _answered_about_itself(prompt: str, instruction: str) -> bool:
    """Saying what the assistant is or cannot do is the right answer: a harmful ask, a question about the assistant,
    a request for live data."""
    return (
        harmful_ask(prompt) is not None
        or about_the_assistant(instruction) is not None
        or LIVE_DATA_ASK.search(instruction) is not None
    )


def refuses(answer: str, prompt: str, instruction: str) -> bool:
    """The answer refuses (or says it cannot do) a task that is not harmful and not about the assistant, and does
    not go on to help."""
    if _answered_about_itself(prompt, instruction) or IMPOSSIBLE_ASK.search(instruction):
        return False
    if ASKED_TO_DECLINE.search(instruction):
        return False  # "Write a reply declining the invitation": the refusal is the content
    if CONTENT_NOT_REFUSAL.search(instruction) and not _NAMES_THE_REQUEST.search(answer[:300]):
        return False  # "I can't help but feel…" in a joke, "I can't do this" in a rewritten sentence
    # the answer opens by refusing: "I am unable to complete it" in the middle of a letter asked for is its content
    m = REFUSAL_OPENING.match(answer) or REFUSAL.search(answer[:300])
    if not m or not opens_with(answer, m):
        return False
    return not _honest_limit(answer, m)


def boilerplate(answer: str, prompt: str, instruction: str) -> bool:
    """AI-assistant boilerplate in an answer to a question that is not about the assistant, unless it only states
    a limit and then helps."""
    if _answered_about_itself(prompt, instruction):
        return False
    m = BOILERPLATE.search(answer)
    if not m:
        return False
    return not _honest_limit(answer, m)
