"""How an answer ends: finished, cut off, or a last sentence left without its full stop.

:func:`ending_kind` sorts an answer's ending into

* ``"fence"``: a ``` code block is opened and never closed;
* ``"strong"``: the text stops where no finished text stops: inside an open bracket, quotation or HTML
  block; on a comma, colon, bare list marker or `` =``; on a word no phrase ends on ("the", "and",
  "they", "… because it"); on a sentence just begun (". In", ". This young"); in a list item that lacks
  the punctuation every earlier item of its list has;
* ``"unclosed"``: the last paragraph holds finished sentences (or follows one), and then a sentence
  stops without its full stop; in Chinese also a sentence of clauses (``，``) that never reaches its
  ``。`` in an answer that uses it.  What that means depends on the dataset's habits, which
  :func:`closes_sentences` measures;
* ``"weak"``: one long sentence that stops without punctuation (weaker still);
* ``"ok"``: finished, or unpunctuated in a way finished text is — the table :data:`FINISHED` (titles and
  names, "key: value" lines, hashtags, attributions, URLs, worked computations…), and quotations, table rows,
  headings and a letter's signature.

English and Chinese are covered; everything is a character test or a regular expression.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Sequence

from scorers.text.code import looks_like_code, strip_code, unclosed_fence
from scorers.text.cues import SONG, items_asked
from scorers.text.lists import BARE_MARKER, LIST_ITEM, list_block
from scorers.text.rules import Rule, Seen
from scorers.text.script import is_cjk
from scorers.text.sentences import ANY_END, sentence_ends, sentence_size

TERMINAL = set(".!?。！？…\"”’'»」』）)]}>*`|~$%_=#;/\\")
STRONG_CUT = set(",，、:：-–—([{（【《“‘")
FUNCTION_WORDS = frozenset(
    "a an the and or but of to in on at by for with from as into about than that which who whose whom "
    "is are was were be been being has have had do does did will would can could should may might must "
    "this these those their its his her our your my if when while because so such not no very more most "
    "also then there where how what why they we".split()
)
#: function words no short line (a list item, a heading) ends on either ("- Bulbs of", "3. Use the")
NEVER_LAST = frozenset(
    "a an the and or but of to with from into than whose their its his our your my because he she we they".split()
)
#: "it" / "you" after one of these is the subject of a clause that never came ("… because it", "… when you")
_CLAUSE_OPENERS = frozenset("because when while if since although though until whether unless".split())
PRONOUNS = frozenset("i you he she it we they one".split())
_INLINE_ITEM = re.compile(r"(?:^|\s)\d{1,2}[.)]\s")  # "1. Movies 2. Music 3. …" on one line
_TABLE_RULE = re.compile(r"[|:\-\s]+")
_HTML_BLOCK = re.compile(r"<(/?)(html|body|table|ul|ol|div|svg|form|select|head)\b[^<>]*>", re.I)
_ELISION = re.compile(r"(?<!\w)'(?:em|cause|til|tis|twas|n'?|bout|round|s)\b|\b(?:rock|n)'|'\d|\w+in'(?=\s|$)", re.I)
_OPEN_DOUBLE = re.compile(r'(?:^|[\s(\[])"\w[^"]*$')
_SINGLE_QUOTE = re.compile(r"(?<![A-Za-z])'|'(?![A-Za-z])")
_OPEN_SINGLE = re.compile(r"(?:^|\s)'[A-Za-z][^']*$")
_WORKED = re.compile(r"=\s*[$€£¥]?\d")  # a worked computation line ("85 - 22 = 63 marbles")
_RESULT = re.compile(r"\d\S*(?:\s+\S+){0,3}$")  # a number among the last words


def _trimmed(answer: str) -> str:
    return answer.rstrip().rstrip("\u200b\u200c\u200d\ufeff").rstrip()


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def unbalanced(text: str) -> str | None:
    """The first bracket left open at the end of the text (quotes and code ignored), if any."""
    pairs = {")": "(", "]": "[", "}": "{", "）": "（", "】": "【", "》": "《"}
    opens = set(pairs.values())
    stack: list[str] = []
    for ch in text:
        if ch in opens:
            stack.append(ch)
        elif ch in pairs:
            if stack and stack[-1] == pairs[ch]:
                stack.pop()
            else:  # a stray closer (smileys, "1) first"): give up on this text
                return None
    return stack[-1] if stack else None


def open_quote(line: str) -> bool:
    """A quotation opened in the line and never closed (“…, or an odd number of straight quotes the last
    of which opens a quotation rather than marking inches; "Stayin'" and "rock 'n' roll" are elisions)."""
    if line.count("\u201c") > line.count("\u201d"):
        return True
    if line.count('"') % 2 == 1 and _OPEN_DOUBLE.search(line):
        return True
    line = _ELISION.sub("", line)
    quotes = _SINGLE_QUOTE.findall(line)  # single quotes that are not apostrophes
    return len(quotes) % 2 == 1 and bool(_OPEN_SINGLE.search(line))


def unclosed_html_block(answer: str) -> bool:
    """An HTML block element (``<table>``, ``<ul>``, ``<div>``…) opened more often than it is closed."""
    depth: dict[str, int] = {}
    for m in _HTML_BLOCK.finditer(answer):
        tag = m.group(2).lower()
        depth[tag] = depth.get(tag, 0) + (-1 if m.group(1) else 1)
    return any(d > 0 for d in depth.values())


def ends_punctuated(text: str) -> bool:
    ch = text[-1]
    return ch in TERMINAL or unicodedata.category(ch)[0] == "S" or ch.isdigit()


def sign_off(line: str) -> bool:
    """A letter's closing line ("Sincerely,", "此致，")."""
    return line[-1] in ",，" and len(line.split()) <= 3 and len(line) <= (6 if is_cjk(line) else 20)


def not_prose(line: str) -> bool:
    """A quotation (``> …``), a table row or a heading."""
    return line[0] in "#>|" or line.count("|") >= 2 or " | " in line


def final_segment(lines: list[str]) -> str | None:
    """The text after the last finished sentence of the last paragraph, when that paragraph is prose
    that holds one (or follows a paragraph that ends with a full stop); else ``None``.

    ``""`` means the last sentence is closed.  Lists, headings, quotes and table rows are not prose.
    """
    last = lines[-1]
    item = LIST_ITEM.match(last)
    if not_prose(last):
        return None
    cjk = is_cjk(last)
    body = last.rstrip()
    closed = ends_punctuated(body)
    if closed:
        body = body[:-1]
    ends = sentence_ends(body, cjk)
    if item:  # a list item holding several sentences, in a list whose items close theirs
        items = list_block(lines)
        if not (ends and ends[0].start() > item.end() and items and all(ln[-1] in ".!?。！？" for ln in items)):
            return None
        return "" if closed else last[ends[-1].end() :].strip()
    if ends:
        return "" if closed else last[ends[-1].end() :].strip()
    prev = lines[-2] if len(lines) > 1 else ""
    if (
        prev
        and (prev[-1] in ".!?。！？" or _WORKED.search(prev))
        and not LIST_ITEM.match(prev)
        and prev[0] != "#"
        and not sign_off(prev)
    ):
        # a new paragraph after a closed one (or after a worked computation), or the next line of a sentence
        return "" if closed else last
    if cjk and "，" in body and any(ln[-1] in "。！？" for ln in lines[:-1]):
        return "" if closed else last  # a sentence of clauses, in an answer that ends its sentences with 。
    return None


#: endings without punctuation that finished text has (each read on the last segment of an answer)
FINISHED: tuple[Rule, ...] = (
    Rule(
        "attribution",
        re.compile(r"\s[-–—―~]+\s*[A-Z\u4e00-\u9fff](?:\s[A-Z]\.|[^.!?,，]){0,40}$|^[-–—―~]"),
        "a quotation's author after a dash ('\"…\" – Steve Jobs', '—— 鲁迅')",
        Seen("stanford_alpaca/alpaca_data.json", 2300, " - Winston Churchill"),
    ),
    Rule(
        "hashtag or mention",
        re.compile(r"[#＃@＠]\s?[\w-]+\W*$"),
        "hashtags and mentions closing a post",
        Seen("stanford_alpaca/alpaca_data.json", 164, "#refreshing"),
    ),
    Rule(
        "address or file name",
        re.compile(r"(?:https?://|www\.)\S+$|\w[./][\w-]+$|\d$"),
        "a URL, a file name or a number as the last word (example.com, main.py, 3.14)",
        Seen("alpagasus/dolly_3k.json", 980, "https://en.wikipedia.org/wiki/Three-body_problem"),
    ),
    Rule(
        "worked computation",
        _WORKED,
        "a worked computation line ('85 - 22 = 63 marbles')",
        Seen("gsm8k_alpaca_format/gsm_8k_train.json", 0, "48+24 = 72 clips altogether"),
    ),
)


#: a comma list of capitalised items: titles and names, whatever word the last one ends on ("Let it be")
TITLE_LIST = Rule(
    "list of titles",
    re.compile(r"^(?:[\"“'‘]?[A-Z0-9][^,]{0,60},\s*){2,}[\"“'‘]?[A-Z0-9][^,]{0,60}$"),
    "a comma list of capitalised items (song or book titles, names): its last word is a title's",
    Seen("alpagasus/dolly_3k.json", 1102, "Y.M.C.A, Let's Get it On, I'll be there and Let it be"),
)


def _label_end(line: str) -> int:
    """Where the label of a "label: text" line ends (0 if the line has none)."""
    colon = max(line.find(":"), line.find("："))
    return colon if 0 < colon < max(12, len(line) / 2) else 0


def _key_value(line: str, cjk: bool) -> bool:
    colon = _label_end(line)
    value = line[colon + 1 :].strip()
    return colon > 0 and (len(value) <= 15 if cjk else len(value.split()) <= 6)


def _title_case(segment: str) -> bool:
    worded = [w for w in segment.split() if any(c.isalpha() for c in w)]
    return bool(worded) and sum(1 for w in worded if w[0].isupper()) >= 0.6 * len(worded)


def looks_finished(segment: str, cjk: bool, earlier: Sequence[str] = ()) -> bool:
    """Unpunctuated endings that are not cuts: the :data:`FINISHED` rules, "key: value" lines (unless such
    lines close elsewhere in the answer) and, in Latin script, titles and lists of names."""
    if not segment.split() or any(r.search(segment) for r in FINISHED):
        return True
    if _key_value(segment, cjk) and not any(_label_end(ln) and ln[-1] in ".!?。！？" for ln in earlier):
        return True  # a "key: value" line of a table-like answer ("答案：2颗糖果"), unless such lines close here
    return not cjk and _title_case(segment)


def ending_kind(answer: str, *, verse: bool = False) -> str:
    """``"fence"``, ``"strong"``, ``"unclosed"``, ``"weak"`` or ``"ok"`` (see the module docstring).

    Code (:data:`CODE_ENDS`) is cut only inside an open fence or bracket; verse (``verse``: the prompt asks for
    a poem or a song) needs no full stop, so only strong signs count there."""
    # entity-escaped markup ends where its unescaped form does (Chinese Alpaca rows 6225, 8202: "&lt;/html&gt;")
    a = _trimmed(html.unescape(answer) if "&lt;" in answer or "&gt;" in answer else answer)
    if unclosed_fence(a):
        return "fence"
    lines = _lines(a)
    if not lines or len(a) < (15 if is_cjk(a) else 40):
        return "ok"
    if looks_like_code(a):
        return "strong" if unbalanced(a[-2000:]) is not None or unclosed_html_block(a) else "ok"
    kind = _ending(a, lines)
    return "ok" if verse and kind in ("unclosed", "weak") else kind


#: why an answer that is code is judged only by its fences and brackets
CODE_ENDS = Rule(
    "code ends anywhere",
    re.compile(r"\breturn \w+$|;\s*$"),
    "code ends on any statement ('return a', 'export default X;'): only an open fence or bracket is a cut",
    Seen("codealpaca/code_alpaca_2k.json", 1732, "return a"),
)


def html_left_open(lines: Sequence[str]) -> bool:
    """Markup that stops inside a ``<table>``, ``<ul>``, ``<div>``… it opened: the last line is a tag line and, in the
    markup (from the first line that opens with a tag; code spans and fences aside), a block element is opened more
    often than it is closed.  Prose before it that names a tag ("the <head> tag is not closed", Alpaca row 19048)
    is not markup.  Markup whose tags were translated (``</表格>`` closing a ``<form>``, Chinese Alpaca rows 2482,
    6755) cannot be paired, so it is not judged; nor one that ends on ``</html>``, a document closed.  ``lines``: the
    answer's non-empty lines, stripped (``_lines``)."""
    if not lines or not lines[-1].startswith("<") or lines[-1].lower().endswith("</html>"):
        return False
    start = next(k for k, ln in enumerate(lines) if ln.startswith("<"))
    markup = strip_code("\n".join(lines[start:]))
    return not _TRANSLATED_TAG.search(markup) and unclosed_html_block(markup)


#: a tag whose name is not ASCII: machine-translated markup ("<正文>", "</表格>")
_TRANSLATED_TAG = re.compile(r"</?[^\x00-\x7f\s<>/][^\s<>]*>")


def _ending(a: str, lines: list[str]) -> str:
    if html_left_open(lines):
        return "strong"  # markup that stops inside a <table>, <ul>, <div>…
    last = lines[-1]
    if next_item_left_empty(lines):
        return "strong"  # the next item was started and nothing written
    if open_equation(lines):
        return "strong"  # an equation without its right-hand side
    ch = last[-1]
    if ch in TERMINAL or unicodedata.category(ch)[0] == "S" or unicodedata.category(ch) in ("Pe", "Pf"):
        return "ok"
    if "|" in last and _TABLE_RULE.fullmatch(last):
        return "ok"  # a table's header rule (a table with no rows yet is a schema, not a cut)
    if _stops_mid_phrase(a, lines):
        return "strong"
    if sign_off(last) or not_prose(last):
        return "ok"  # "Sincerely,"; a quotation, a table row or a heading need no full stop
    return _unpunctuated(a, lines)


def _stops_mid_phrase(a: str, lines: list[str]) -> bool:
    """Strong signs of a cut: an open bracket or quotation, a comma or colon, a word no phrase ends on,
    a list item without the punctuation of its list."""
    last = lines[-1]
    if unbalanced(strip_code(a)[-2000:]) is not None or open_quote(strip_code(last)):
        return True
    if last[-1] in STRONG_CUT and not sign_off(last):
        return True
    words = last.split()
    if (
        not is_cjk(last)
        and len(words) >= 2
        and (
            words[-1].lower() in NEVER_LAST
            or words[-1] == "I"
            or words[-2:] == ["and", "it"]
            or (words[-1].lower() in ("it", "you") and words[-2].lower().strip(",") in _CLAUSE_OPENERS)
        )
    ):
        return True
    if LIST_ITEM.match(last):  # every earlier item of this list was punctuated, this one is not
        items = list_block(lines)
        # (items that end on commas are clauses of one sentence: the last one closes it)
        return len(items) >= 2 and (
            all(o[-1] in TERMINAL or o[-1] in "。！？" for o in items) or all(o[-1] in ",;，；" for o in items)
        )
    return False


def _unpunctuated(a: str, lines: list[str]) -> str:
    """An ending on a plain word: ``"unclosed"`` after finished sentences, ``"weak"`` for one long
    sentence, ``"strong"`` on a function word, ``"ok"`` when it looks finished."""
    last = lines[-1]
    cjk = is_cjk(last)
    words = last.split()
    segment = final_segment(lines)
    if segment:
        said = [w.lower().strip("\"'(,") for w in segment.split()]
        if not cjk and len(said) <= 2 and (said[0] in FUNCTION_WORDS or said[0] in PRONOUNS):
            return "strong"  # a sentence begun and stopped at once (". In", ". This young", ". He")
        if (
            looks_finished(segment, cjk, lines[:-1])
            or (not cjk and words[-1][0].isupper() and words[-1] != "I")
            or (not cjk and _RESULT.search(segment) and _WORKED.search(a))
        ):
            return "ok"  # also a sentence that ends on a name ("… in Vermont"), a solution's result ("… 28 buttons")
        if cjk or len(said) >= 3:
            return "strong" if not cjk and said[-1] in FUNCTION_WORDS else "unclosed"
    size = len(last) if cjk else len(words)
    if looks_finished(last, cjk, lines[:-1]) or size < (12 if cjk else 8) or last[-1].isdigit():
        return "ok"
    if not cjk and TITLE_LIST.search(last):
        return "ok"
    if not cjk and words[-1].lower().strip("\"'") in FUNCTION_WORDS:
        return "strong"
    if LIST_ITEM.match(last) and any(o[-1] not in TERMINAL for o in lines[:-1] if LIST_ITEM.match(o)):
        return "ok"  # a list whose items carry no full stops is a style, not a cut
    if len(_INLINE_ITEM.findall(last)) >= 3:
        return "ok"  # a numbered list written on one line
    # one long sentence, or a shorter one in an answer that punctuates elsewhere
    if not ANY_END.search(a[: len(a) - len(last)] + last[:-1]) and size < (40 if cjk else 15):
        return "ok"
    return "weak"


def closes_sentences(answer: str) -> bool | None:
    """Whether an answer whose last paragraph holds several sentences closes the last one; ``None`` when
    it holds only one (or is a list, a heading, code).  The dataset-level share of ``True`` tells whether
    its writers close their sentences, i.e. whether an ``"unclosed"`` ending means anything there."""
    a = _trimmed(answer)
    if len(a) < (15 if is_cjk(a[-200:]) else 40) or unclosed_fence(a):
        return None
    lines = _lines(a)
    segment = final_segment(lines)
    if segment is None:
        return None
    if segment == "":
        return True
    return None if looks_finished(segment, is_cjk(lines[-1]), lines[:-1]) else False


def final_fragment(answer: str) -> str:
    """The unclosed last sentence of an ``"unclosed"`` answer ("" when there is none)."""
    lines = _lines(_trimmed(answer))
    return (final_segment(lines) or "") if lines else ""


def fragment_size(fragment: str) -> int:
    return sentence_size(fragment)


# --- certain cuts --------------------------------------------------------------------------------------------------
#: a word no finished English sentence ends on: articles, prepositions, conjunctions, auxiliaries, determiners
#: (object pronouns, "be" and "though" end finished sentences: "get her", "Let it be", "…, though")
DANGLING_WORDS = frozenset(
    "a an the and or but nor of to in on at by for with from into onto than as that which whose "
    "is are was were been being am has have had do does did will would can could should may might must shall "
    "if because although while whereas unless until since so such very more most any some every each "
    "my your their its our this these those not no".split()
)

#: Chinese conjunctions and adverbs no finished sentence ends on ("因为", "总共"); none of one character, which may end
#: a longer word ("总和", "随从"), nor one that ends a sentence as a verb ("通过": passed) or an idiom ("不知所以")
ZH_DANGLING_WORDS = tuple(
    "因为 由于 虽然 尽管 但是 如果 假如 而且 并且 以及 或者 例如 比如 包括 总共 一共 为了 关于 使得 因此".split()
)

#: the endings that are a cut whatever the dataset's habits: where a writer cannot have stopped (issue #12: of the
#: truncation flags people read, the ones right were these; the ones wrong were lists, code, computations, verse
#: and Chinese clauses that only lacked their final full stop)
CERTAIN_CUTS: tuple[Rule, ...] = (
    Rule(
        "open code block",
        None,
        "a ``` block is opened and never closed (no panel row has one; the injected cuts of bench/noise_detection do)",
    ),
    Rule(
        "open HTML element",
        None,
        "markup whose last line is a tag stops inside a <table>, <ul>, <div>… it opened (html_left_open; no panel "
        "row has one; an injected cut of bench/noise_detection, claude_t45 row 826, stops inside a table)",
    ),
    Rule(
        "open brace block",
        None,
        "code with a line that opens a block on '{' stops with more '{' than '}': inside a function, loop or object "
        "it opened (no panel row has one; an injected cut of bench/noise_detection, claude_t45 row 732, stops inside "
        "a C for-loop)",
    ),
    Rule(
        "dangling word",
        None,
        "English prose whose last word is one no sentence ends on (an article, preposition, conjunction, "
        "auxiliary or determiner), lower-case, after at least six words",
        Seen("stanford_alpaca/alpaca_data.json", 50884, "with the symbol Ca and atomic number of"),
    ),
    Rule(
        "unfinished list item",
        None,
        "a list item whose last word is an article, a conjunction or a possessive ('5. Reduce and', '- Bulbs of the'); "
        "a preposition may end an item ('…people to connect with', Alpaca 5759), so prepositions do not count here; "
        "or a list that stops on a bare marker after an item",
    ),
    Rule(
        "open equation",
        None,
        "the last line stops on '=' or '==' after a space, with nothing on its right ('C =', 'i.e. if a =='); not a "
        "worksheet whose every line ends so ('5 x 9 x 1 x 1 =', Alpaca 16734)",
        Seen("codealpaca/code_alpaca_2k.json", 1402, "around the comparator operator, i.e. if a =="),
    ),
    Rule(
        "sentence left at its first word",
        None,
        "English prose whose last sentence, begun after a full stop, is only its first word, a pronoun, article, "
        "conjunction, auxiliary or preposition ('… against anything it encounters. And'; 2 panel rows, both HH-RLHF "
        "replies cut; an injected cut of bench/noise_detection, '… for creating budgets.  You')",
        Seen("hh_rlhf/harmless-base/test.jsonl.gz", 942, "against anything it encounters. And"),
    ),
    Rule(
        "dangling Chinese word",
        None,
        "Chinese prose that stops on a conjunction or adverb no sentence ends on (ZH_DANGLING_WORDS: '因为', "
        "'总共'): of the flag panel's 1,189 unpunctuated Chinese answers one ends so, '我选择去是因为' (Chinese "
        "Alpaca 2562, an edit asked to add 'because', unfinished; shorter than the 40 characters judged); an "
        "injected cut of bench/noise_detection, BELLE dev1K 793, '…因此，小明总共'",
    ),
    Rule(
        "list short of the count asked",
        None,
        "a numbered list that stops on item k of the N the prompt asks for, every earlier item closed by a full stop "
        "or semicolon and the last one not (no panel row has one; injected cuts of bench/noise_detection: 'Name five "
        "business strategies' cut at '4. Invest in research and development', '列出…五个优点' cut at '4. 针对不同类型"
        "的应用程序')",
    ),
    Rule(
        "open parenthesis",
        None,
        "English prose whose last line opens a '(' before a word and stops at least four words later without closing "
        "it (no panel row has one; an injected cut of bench/noise_detection, LIMA row 340, '(For fastest results, … "
        "This will reduce your dodge chance')",
    ),
    Rule(
        "dangling comma",
        None,
        "English prose of at least six words that stops on a comma, with no number or '=' in its last words "
        "(a computation ending 'x=12 peaches,' is finished)",
        Seen("alpagasus/dolly_3k.json", 2075, "the name of the Roman goddess of the dawn,"),
    ),
)


#: the last word of a list item that is never the last word of one (prepositions are: "…to connect with")
ITEM_NEVER_LAST = frozenset("a an the and or nor but their its his our your my whose because than".split())


def next_item_left_empty(lines: list[str]) -> bool:
    """The text stops on a bare list marker ("4.", "-") right after a list item: the next item was begun."""
    return bool(BARE_MARKER.match(lines[-1])) and len(lines) > 1 and bool(LIST_ITEM.match(lines[-2]))


def _unfinished_item(lines: list[str]) -> bool:
    last = lines[-1]
    if BARE_MARKER.match(last):
        return next_item_left_empty(lines)
    m = LIST_ITEM.match(last)
    if not m or is_cjk(last):
        return False
    words = last[m.end() :].split()
    return len(words) >= 2 and words[-1].isalpha() and words[-1].islower() and words[-1] in ITEM_NEVER_LAST


_BLOCK_OPENER = re.compile(r"\{\s*(?://.*|/\*.*)?$")  # a line ending on "{" (a comment after it aside)


def brace_block_open(text: str, lines: Sequence[str]) -> bool:
    """Code that stops inside a ``{ … }`` block it opened: a line ends on "{" and the text has more "{" than "}"
    ("for(i=0;i<n;i++){ … fish_count++;").  A one-line "{ … }" and CSS closing on "0.7; }" are balanced."""
    return text.count("{") > text.count("}") and any(_BLOCK_OPENER.search(ln) for ln in lines)


_NUMBERED = re.compile(r"^\s*(\d{1,2})(?:\.(?!\d)|[)、])")
_ITEM_CLOSED = set(".。!！?？;；")


def list_short_of_count(lines: Sequence[str], prompt: str) -> bool:
    """A numbered list that stops on item k of the N the prompt asks for ("Name five…" and "4. Invest in research
    and development"), every earlier item closed by a full stop or semicolon and the last one not: the writer
    closed each item and promised more, so the list was cut inside its k-th item.  A list that gives fewer items
    than asked but closes its last one, or whose items are never closed, is not judged (too few items is
    ``item_count_mismatch``'s finding, not a cut: Alpaca 22866 gives four groups of pathogens for "Name 5")."""
    m = _NUMBERED.match(lines[-1])
    asked = items_asked(prompt, gap=True) if m and prompt else None
    if asked is None or m is None:
        return False
    k = int(m.group(1))
    earlier = list(reversed(list_block(list(lines))))
    numbers = [int(n.group(1)) if (n := _NUMBERED.match(ln)) else 0 for ln in earlier]
    return (
        2 <= k < asked[0]
        and numbers == list(range(1, k))
        and all(ln.rstrip()[-1] in _ITEM_CLOSED for ln in earlier)
        and lines[-1].rstrip()[-1] not in _ITEM_CLOSED
        and not ends_punctuated(lines[-1].rstrip())
    )


_OPEN_PAREN = re.compile(r"(?:^|\s)\([A-Za-z][^()]*$")


def paren_left_open(line: str) -> bool:
    """Prose whose last line opens a parenthesis before a word and stops at least four words later without closing
    it ("(For fastest results, move your pilot away …  This will reduce your dodge chance"); brackets closed by
    something else ("1) first", smileys) leave the line unjudged."""
    m = _OPEN_PAREN.search(line)
    return m is not None and unbalanced(line) == "(" and len(line[m.start() :].split()) >= 5


def certain_cut(answer: str, *, verse: bool = False, prompt: str = "") -> Rule | None:
    """The :data:`CERTAIN_CUTS` rule an answer's ending matches, or ``None``.  Code, lists, tables, headings,
    letters' sign-offs, verse and Chinese are never judged here: their endings need no punctuation — except a
    numbered list that stops short of the count the prompt asks for, inside an item left unclosed."""
    a = _trimmed(html.unescape(answer) if "&" in answer else answer)
    if unclosed_fence(a):
        return _rule("open code block")
    lines = _lines(a)
    if html_left_open(lines):
        return _rule("open HTML element")
    if brace_block_open(a, lines):
        return _rule("open brace block")
    if verse or not lines or len(a) < 40 or looks_like_code(a):
        return None
    if len(lines) > 1 and _unfinished_item(lines):
        return _rule("unfinished list item")
    if len(lines) > 2 and list_short_of_count(lines, prompt):
        return _rule("list short of the count asked")
    last = lines[-1]
    if open_equation(lines):
        return _rule("open equation")
    words = last.split()
    if is_cjk(last) and not (LIST_ITEM.match(last) or not_prose(last)) and last.endswith(ZH_DANGLING_WORDS):
        return _rule("dangling Chinese word")
    if (
        is_cjk(last)
        or LIST_ITEM.match(last)
        or not_prose(last)
        or sign_off(last)
        or len(words) < 6
        or any(ch.isdigit() for ch in last[-30:])
        or "=" in last
    ):
        return None
    if last[-1] == ",":
        return _rule("dangling comma")
    w = words[-1]
    if w.isalpha() and w.islower() and w in DANGLING_WORDS:
        return _rule("dangling word")
    if _FIRST_WORD_LEFT.search(last):
        return _rule("sentence left at its first word")
    if paren_left_open(last):
        return _rule("open parenthesis")
    return None


#: a sentence begun after a full stop and left at its first word, one no sentence is made of: a capitalised dangling
#: word or a subject pronoun ("… it encounters. And", "… to keep them in?   Is"); not "I" or "A" (a name, an option)
_FIRST_WORD_LEFT = re.compile(
    r"[.!?][\"”’)]?\s+(?:"
    + "|".join(sorted({w.capitalize() for w in DANGLING_WORDS | {"you", "we", "they", "he", "she", "it"}} - {"A"}))
    + r")$"
)


#: an equation or comparison without its right-hand side
_OPEN_EQUATION = re.compile(r"\s==?$")


def open_equation(lines: Sequence[str]) -> bool:
    """The last line stops on " =" or " ==" ("C =", "i.e. if a =="), and no line before it ends on "=" (a worksheet
    of open sums, Alpaca 16734, is finished)."""
    return bool(_OPEN_EQUATION.search(lines[-1])) and not any(ln.endswith("=") for ln in lines[:-1])


# --- endings a language model is not asked about -------------------------------------------------------------------
_LABEL = re.compile(r"^[^,:：]{1,40}?(?:\s[-–—]\s|[:：]\s*)")  # "Insects - ", "Non-EU Countries: ", "红色："
_ENUM_SPLIT = re.compile(r"\s*[,，、;；]\s*|\s+(?:and|or)\s+")


def _items(value: str) -> list[str]:
    return [p for p in _ENUM_SPLIT.split(value) if p.strip()]


def enumeration(lines: Sequence[str]) -> bool:
    """The last line is a bare list of short items, after an optional label ("Fish - salmon, rohu, carp, pike, cod"):
    four or more items, none over eight words (CJK: twenty characters), at most four (six) at the median and in the
    last one (or three items of at most four words, with a comma), and the line does not stop on a separator.  A
    list ends wherever its last item ends, so a cut after an item and the finished list read the same.  An item
    does not run across a sentence end, so when the line holds one its last sentence must be such a list too."""
    last = lines[-1]
    if last[-1] in ",，、;；:：":  # a list does not stop on a separator
        return False
    value = _LABEL.sub("", last, count=1)
    cjk = is_cjk(value)
    if cjk and re.search(r"[。！？]", value):  # sentences, not items
        return False
    if not _bare_items(value, cjk):
        return False
    # "… Hisui and Paldea. Certain Pokemon" (a noise bench cut of Dolly 41) ends on a sentence begun, not on an item
    ends = [] if cjk else sentence_ends(value, cjk=False)
    return not ends or _bare_items(value[ends[-1].end() :], cjk)


def _bare_items(value: str, cjk: bool) -> bool:
    """``value`` is a bare list of short items (:func:`enumeration`'s test of a line's text, its label removed)."""
    if cjk and "、" in value and "、" not in value.split("，")[-1]:
        return False  # "…包含字母、大小写字母、数字和符号的组合，并且是该": a clause after the list, not an item of it
    if not cjk and _dangles(value):
        return False  # "…; his wide vocal range, which": an item does not end on a word no phrase ends on
    if not cjk and _joined_before_the_end(value):
        return False  # "… better sound quality and battery life, as they are larger and can fit more parts": prose
    sizes = [len(p) if cjk else len(p.split()) for p in _items(value)]
    short, most = (6, 20) if cjk else (4, 8)
    if len(sizes) == 3:  # three items, all short, with a comma ("Jogging, walking the dog, and jumping rope")
        return max(sizes) <= short and bool(re.search(r"[,，、]", value))
    return (
        len(sizes) >= 4 and max(sizes) <= most and sorted(sizes)[len(sizes) // 2] <= short and sizes[-1] <= short
    )  # "… as well as to be able to use this understanding to make": prose


_SEPARATOR = re.compile(r"\s*[,;]\s*(?:(?:and|or)\s+)?|\s+(?:and|or)\s+")


def _joined_before_the_end(value: str) -> bool:
    """An English line whose "and"/"or" joins pieces before its last comma: a list joins only its last two items so
    ("A, B, C and D"); "… quality and battery life, as they are larger and can fit more parts" (a Dolly answer cut)
    is a sentence.  An "and" between capitalised words is a title's or a name's own ("…, High and Low, Tenet",
    Dolly 418).  Lines without a comma are not judged here."""
    found = list(_SEPARATOR.finditer(value))
    commas = [i for i, m in enumerate(found) if "," in m.group(0) or ";" in m.group(0)]
    if not commas:
        return False
    for m in found[: commas[-1]]:
        before, after = value[: m.start()].split()[-1:], value[m.end() :].split()[:1]
        titled = bool(before and after and before[0][:1].isupper() and after[0][:1].isupper())
        if m.group(0).strip(" ,;") in ("and", "or") and not titled:  # "High and Low": a title's own "and"
            return True
    return False


def form_lines(lines: Sequence[str]) -> bool:
    """The last two lines are "label: value" lines with short values ("Genre: Action Movie" / "Favorite Movie: The
    Dark Knight", "Fibrous proteins: collagen, myosin" / "Globular proteins: hemoglobin"): a form or a sorting task's
    answer, which ends after any field."""
    if len(lines) < 2:
        return False

    def field(line: str) -> bool:
        m = _LABEL.match(line)
        if not m:
            return False
        value = line[m.end() :]
        if re.search(r"[。！？]|[.!?](?:\s|$)", value):  # "第 4 步：发送消息并等待响应。": a step, not a field
            return False
        return len(value) <= 30 if is_cjk(value) else len(value.split()) <= 8

    return field(lines[-1]) and field(lines[-2])


def unpunctuated_list(lines: Sequence[str]) -> bool:
    """The last line is an item of a list (or a numbered list written on one line) whose items mostly carry no final
    punctuation ("7. Security of payment processing"; an "etc." or "(GDP)" among them aside): the list's style,
    which gives no sign of where it was meant to stop — unless that item stops on a word no phrase ends on."""
    last = lines[-1]
    if len(_INLINE_ITEM.findall(last)) >= 3:
        return True  # "1. Cryptocurrency  2. Bitcoin … 19. NFT"
    m = LIST_ITEM.match(last)
    if not m:
        return False
    items = list_block(list(lines))
    if len(items) < 2 or sum(1 for o in items if o[-1] in ".!?。！？") > len(items) / 3:
        return False
    # … unless the last item stops on "of", "the" ("- Bulbs of").  A short last item is no sign: "- Overwhelm",
    # "7. Closing", "10. 岛" close real lists (read on the panel), as "3. The Rise" closes a cut one
    text = last[m.end() :].strip()
    return is_cjk(text) or not _dangles(text)


def _dangles(text: str) -> bool:
    """The text's last word is one no phrase ends on (:data:`DANGLING_WORDS`: "of", "the", "which")."""
    words = text.split()
    return bool(words) and words[-1] in DANGLING_WORDS


_WORDS = re.compile(r"\w+")


def copied_ending(answer: str, prompt: str) -> bool:
    """The answer ends as a line of the prompt ends (case and list markers aside): its last line is one of the
    prompt's lines ("4. Pour milk" for "- Pour milk": a list reordered and numbered, Alpaca 22386), or its last three
    words (CJK: four characters) close one.  It reproduces or edits text it was given (a form filled in, a list
    reordered, a poem with its gap filled, a phrase with words deleted), which ends where the given text does."""
    lines = _lines(answer)
    given = [ln.lower() for ln in _lines(prompt)]
    if not lines or not given:
        return False
    last = lines[-1].lower()
    if last in given or _unmarked(last) in {_unmarked(g) for g in given}:
        return True
    if is_cjk(last):
        tail = re.sub(r"\s+", "", last)[-4:]
        return len(tail) == 4 and any(re.sub(r"\s+", "", g).endswith(tail) for g in given)
    words = _WORDS.findall(last)[-3:]
    if len(words) < 3 or len(" ".join(words)) < 10:
        return False
    end = re.compile(r"\W+".join(map(re.escape, words)) + r"\W*$")
    return any(end.search(g) for g in given)


def _unmarked(line: str) -> str:
    """A line without its list marker ("4. ", "- ")."""
    m = LIST_ITEM.match(line)
    return line[m.end() :].strip() if m else line


def worked_result(lines: Sequence[str]) -> bool:
    """The last line closes on a computed result ("… * 6 months = 14400 pieces", "x=12 peaches,", "40*2=$80 on gas
    every month,", GSM8K 3894): at most five words after its last "= number" (not "x = 7.5. This means that 2x = 15,
    and 5 is added to make the equation equal to")."""
    return _RESULT_LAST.search(lines[-1]) is not None


_RESULT_LAST = re.compile(r"=\s*[$€£¥]?\d[\d,.]*(?:\s+\S+){0,5}\W*$")


def title_line(lines: Sequence[str]) -> bool:
    """A one-line answer in title case of at most twelve words (a headline, a title)."""
    words = lines[-1].split()
    return len(lines) == 1 and len(words) <= 12 and not is_cjk(lines[-1]) and _title_case(lines[-1])


def signature(lines: Sequence[str]) -> bool:
    """A name after a letter's sign-off ("Sincerely," / "Jen", "真挚地，" / "仁"); not one that stops on a word no
    name ends on ("The Team at")."""
    if len(lines) < 2 or not sign_off(lines[-2]):
        return False
    last = lines[-1]
    if is_cjk(last):
        return len(last) <= 4 and last[-1] not in "在的和与及或"
    words = last.split()
    return len(words) <= 4 and words[-1].lower() not in DANGLING_WORDS


#: answers ``answer_ending`` does not ask the language model about: endings a cut and a finished answer share that the
#: model cannot tell apart, and text it cannot read (issue #12: of 25 flags on the noise bench's untouched rows, 16 were
#: mojibake, 7 lists)
LM_NOT_ASKED: tuple[Rule, ...] = (
    Rule(
        "enumeration",
        None,
        "the last line is a bare list of short items: a list can stop after any item, and the model gives a finished "
        "one ('adult cartoons: big mouth, inside job, king of the hill, south park', Dolly 827) no more chance to stop "
        "than a cut item",
        Seen("alpagasus/dolly_3k.json", 1121, "Mr. Garrison, Mr. Hat, Craig Tucker"),
    ),
    Rule(
        "copied ending",
        None,
        "the answer ends on words of the prompt (case aside): it reproduces text it was given, which ends there",
        Seen("stanford_alpaca/alpaca_data.json", 14082, "So various, so beautiful, shall we find brand new"),
    ),
    Rule(
        "worked result",
        None,
        "the last line states a computed result ('= 14400 pieces'): the solution ends there",
        Seen("gsm8k_alpaca_format/gsm_8k_train.json", 6496, "2400 pieces/month * 6 months = 14400 pieces"),
    ),
    Rule(
        "link or tag",
        re.compile(r"(?:https?://|www\.)\S+$|[#＃@＠][\w-]+\W*$"),
        "a URL, hashtag or mention closes the answer (a post, a source)",
        Seen("alpaca_chinese_carbonz0/zh-data-part-00.json", 88, "#homemade #delicious #salttw"),
    ),
    Rule(
        "code",
        None,
        "the answer is code: it ends on any statement, and only an open fence or bracket is a cut (certain_cut)",
        Seen("alpaca_chinese_carbonz0/zh-data-part-00.json", 17, "返回阶乘"),
    ),
    Rule(
        "damaged text",
        None,
        "the answer holds mojibake: the model reads noise, not the text (text_damage flags it)",
    ),
)

#: answers ``answer_ending`` asks under a stricter bar (``structured_stop_below``): structured endings — a list item, a
#: form's field, a table row or heading, a title, a name after a sign-off, a line of verse — close without punctuation
#: after any item, so only an item the model finds no way to stop at all is a cut ("3. The Rise", "4.安装", "5.驱").
#: On the noise bench's bases the finished ones read above -3.3 (forms), -1.8 (lists), the injected cuts below -5.3.
#: A form's field has a stricter bar still (``form_stop_below``): its value may be any word ("鹰：鸟" read -6.9)
LM_STRUCTURED: tuple[Rule, ...] = (
    Rule(
        "form",
        None,
        "the last two lines are 'label: value' fields (a form, a sorting task's answer); read under form_stop_below",
        Seen("stanford_alpaca/alpaca_data.json", 38966, "Favorite Movie: The Dark Knight"),
    ),
    Rule(
        "unpunctuated list",
        None,
        "the last line is an item of a list none of whose items is punctuated",
        Seen("stanford_alpaca/alpaca_data.json", 1321, "7. Security of payment processing"),
    ),
    Rule(
        "table, heading or quotation",
        None,
        "the last line is a table row, a heading or a quotation (not_prose): they end without punctuation",
        Seen("stanford_alpaca/alpaca_data.json", 7768, "6 - 7 hours"),
    ),
    Rule(
        "title",
        None,
        "a one-line answer in title case (a headline, a title)",
        Seen("stanford_alpaca/alpaca_data.json", 45207, "Deep Learning: The Future of Medical Imaging Performance"),
    ),
    Rule(
        "signature",
        None,
        "a name after a letter's sign-off; not one that stops on a word no name ends on ('The Team at')",
        Seen("alpaca_chinese_carbonz0/zh-data-part-00.json", 2163, "真挚地，\n仁"),
    ),
    Rule(
        "verse",
        None,
        "the prompt asks for a poem, song or rap (cues.SONG): a line of verse needs no full stop",
        Seen("stanford_alpaca/alpaca_data.json", 27416, "Everybody know money is the art"),
    ),
)


def _ending_checks(answer: str, prompt: str) -> dict[str, Callable[[], bool]] | None:
    """Each rule of :data:`LM_NOT_ASKED` and :data:`LM_STRUCTURED` as a check of this answer, computed only when asked
    (``None`` for an empty answer)."""
    from scorers.text.damage import mojibake

    a = _trimmed(answer)
    lines = _lines(a)
    if not lines:
        return None
    last = lines[-1]
    checks: dict[str, Callable[[], bool]] = {
        "enumeration": lambda: enumeration(lines),
        "copied ending": lambda: bool(prompt) and copied_ending(a, prompt),
        "worked result": lambda: worked_result(lines),
        "link or tag": lambda: _rule("link or tag").search(last) is not None,
        "code": lambda: looks_like_code(a),
        "damaged text": lambda: mojibake(a) is not None,
        "form": lambda: form_lines(lines),
        "unpunctuated list": lambda: unpunctuated_list(lines),
        "table, heading or quotation": lambda: not_prose(last),
        "title": lambda: title_line(lines),
        "signature": lambda: signature(lines),
        "verse": lambda: bool(SONG.search(prompt)),
    }
    assert list(checks) == [r.name for r in LM_NOT_ASKED + LM_STRUCTURED]
    return checks


def _first_rule(answer: str, prompt: str, rules: Sequence[Rule]) -> Rule | None:
    """The first of ``rules`` whose check holds for this answer (each check computed only until one holds)."""
    checks = _ending_checks(answer, prompt)
    return None if checks is None else next((rule for rule in rules if checks[rule.name]()), None)


def lm_not_asked(answer: str, prompt: str = "") -> Rule | None:
    """The :data:`LM_NOT_ASKED` rule that keeps an answer's ending from the language model, or ``None`` (the rules
    are tried in the table's order, each only until one holds)."""
    return _first_rule(answer, prompt, LM_NOT_ASKED)


def lm_structured(answer: str, prompt: str = "") -> Rule | None:
    """The :data:`LM_STRUCTURED` rule an answer's ending matches (the model is asked under the stricter bar), or
    ``None``: prose, asked under the plain one."""
    return _first_rule(answer, prompt, LM_STRUCTURED)


def lm_ending_rule(answer: str, prompt: str = "") -> Rule | None:
    """How ``answer_ending`` treats this ending, in one pass: an :data:`LM_NOT_ASKED` rule (not read), else an
    :data:`LM_STRUCTURED` rule (read under the stricter bar), else ``None`` (prose, read under the plain bar)."""
    return _first_rule(answer, prompt, LM_NOT_ASKED + LM_STRUCTURED)


def _rule(name: str) -> Rule:
    """A rule of this module's tables by name."""
    return next(r for r in CERTAIN_CUTS + LM_NOT_ASKED + LM_STRUCTURED if r.name == name)
