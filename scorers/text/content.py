"""Content words: the words of a text that say what it is about (not function words, not generic ask words).

* :func:`content_stems` — stemmed English content words (4+ letters) and acronyms;
* :func:`content_bigrams` — Chinese character pairs of the content left after function and ask words go.

Read by the completeness checks (is an ask addressed?) and by the duplicate checks (is it the same question?).
"""

from __future__ import annotations

import re

_STOP = set(
    "the a an of to in on for and or is are was were be what which who whom how why when where does do did "
    "can could would should will with that this these those it its your you me my i we our they their about "
    "from by as at into than then there here please give tell explain describe some any also well "
    "example examples reason reasons way ways thing things something more detail details each other "
    "provide list name suggest propose include state mention discuss identify write make create brief briefly "
    "following given answer question questions part".split()
)
#: function words and generic ask words removed before Chinese content bigrams are taken.
_ZH_STOP = re.compile(
    "什么|怎么样|怎么|怎样|如何|为什么|为何|哪里|哪些|哪个|哪儿|多少|是否|是不是|可以|能否|能不能|可能|应该|需要|"
    "我们|你们|他们|它们|她们|自己|这个|那个|这些|那些|一个|一些|一下|以下|下面|下列|如下|上述|给定|问题|回答|"
    "告诉|说明|解释|描述|介绍|列出|列举|给出|提供|简要|简单|详细|具体|分别|另外|此外|同时|并且|以及|然后|还要|"
    "还需|并请|也请|谈谈|说说|请你|各自|有关|关于|因为|所以|如果|但是|或者|还是|进行|怎么办|咋办|咋么办|咋么|咋|该|知道|"
    # single characters only where they are hardly ever part of a content word (not 都 of 首都, 中 of 中国)
    "[的了吗呢吧啊呀嘛是请你我他她它？?，。！!、：:；;（）()“”\"'《》\\s]"
)
#: characters that carry no content on their own: a pair of two of them ("都能", "还会", "别的") is no content word.
_ZH_FUNCTION = set(
    "的了吗呢吧啊呀嘛是请你我他她它在有和与及或也都就还要会能把被对从这那给让为于以等各每个种之而并且但该可做别其些么哪多"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_EN_WORD = re.compile(r"[a-z][a-z'’-]{3,}")
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s")


def _stem(w: str) -> str:
    for suf in _SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            w = w[: -len(suf)]
            break
    return w[:6]


_ACRONYM = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]{1,5}(?=s?(?![A-Za-z0-9]))")


def content_stems(text: str) -> set[str]:
    """Stemmed English content words (4+ letters, not function or generic ask words) and acronyms (UDP, JWT).

    Three-letter words are left out: the few that carry a topic ("cat", "tax") are outnumbered by those that
    do not ("fun", "eat", "buy"), which raised false alarms on conversational data."""
    words = (re.split(r"['’]", w, maxsplit=1)[0] for w in _EN_WORD.findall(text.lower()))  # "how's" → "how"
    return {_stem(w) for w in words if len(w) >= 4 and w not in _STOP} | {a.lower() for a in _ACRONYM.findall(text)}


def content_bigrams(text: str) -> set[str]:
    """Chinese character pairs (adjacent, and one apart) of the content left after function and generic ask
    words are removed."""
    if not _CJK.search(text):
        return set()
    out: set[str] = set()
    for run in _ZH_STOP.split(text):
        run = "".join(ch for ch in run if _CJK.match(ch))
        out.update(run[i : i + 2] for i in range(len(run) - 1))
        out.update(run[i] + run[i + 2] for i in range(len(run) - 2))  # "分下类" still finds "分类"
    return {g for g in out if not (g[0] in _ZH_FUNCTION and g[1] in _ZH_FUNCTION)}  # "都能", "还会": no content
