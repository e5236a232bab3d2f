"""How an answer ends: the truncation signals read by ``broken_answer`` (not a scorer module).

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
* ``"ok"``: finished, or unpunctuated in a way finished text is: titles and names, "key: value" lines,
  hashtags, attributions, URLs, worked computations and their results, quotations, table rows,
  headings, a letter's signature.

English and Chinese are covered; everything is a character test or a regular expression.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Sequence

from scorers._noise_text import cjk_ratio, strip_code

TERMINAL = set(".!?。！？…\"”’'»」』）)]}>*`|~$%_=#;/\\")
STRONG_CUT = set(",，、:：-–—([{（【《“‘")
FUNCTION_WORDS = frozenset(
    "a an the and or but of to in on at by for with from as into about than that which who whose whom "
    "is are was were be been being has have had do does did will would can could should may might must "
    "this these those their its his her our your my if when while because so such not no very more most "
    "also then there where how what why they we".split())
#: function words no short line (a list item, a heading) ends on either ("- Bulbs of", "3. Use the")
NEVER_LAST = frozenset("a an the and or but of to with from into than whose their its his our your my "
                       "because he she we they".split())
#: "it" / "you" after one of these is the subject of a clause that never came ("… because it", "… when you")
_CLAUSE_OPENERS = frozenset("because when while if since although though until whether unless".split())
PRONOUNS = frozenset("i you he she it we they one".split())
_ABBREVIATIONS = frozenset("mr mrs ms dr st vs etc inc ltd jr sr no fig approx co corp mt ft oz lb lbs dept "
                           "gen col sgt rev prof ca cf al".split())
# a sentence end inside a line: ". " / "! " / "? " after a lowercase word, a number or a closing quote,
# followed by a capital or a number (so "Mr. Smith", "U.S. Army", "e.g. this" are not sentence ends)
_SENTENCE_END_EN = re.compile(r"(?<=[a-z0-9%)\"”’'])[.!?]+[\"”’')\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9])")
_SENTENCE_END_CJK = re.compile(r"[。！？!?]+[”’」』）)]*|(?<=[\u4e00-\u9fff])\.(?!\d)")
_ANY_SENTENCE_END = re.compile(r"(?<!\b\d)(?<!\b\d\d)[.!?](?:\s|$)|[。！？]")  # not "2." of a list
_INLINE_ITEM = re.compile(r"(?:^|\s)\d{1,2}[.)]\s")  # "1. Movies 2. Music 3. …" on one line
# list markers, with the "A。" / "4。" of machine-translated Chinese lists
_LIST_ITEM = re.compile(r"^\s*(?:[-*•·]\s+|\d{1,3}[.)、。]\s*|[a-zA-Z](?:[.)]\s+|。)|[一二三四五六七八九十]{1,3}[、。.])")
_BARE_MARKER = re.compile(r"^\s*(?:[-*•·+]|\d{1,3}[.)、]|[a-zA-Z][.)])\s*$")
_FENCE_LINE = re.compile(r"^\s*```")
_TABLE_RULE = re.compile(r"[|:\-\s]+")
_HTML_BLOCK = re.compile(r"<(/?)(html|body|table|ul|ol|div|svg|form|select|head)\b[^<>]*>", re.I)


def _trimmed(answer: str) -> str:
    return answer.rstrip().rstrip("\u200b\u200c\u200d\ufeff").rstrip()


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def unclosed_fence(answer: str) -> bool:
    """An odd number of ``` fence lines.  Inline ```x``` pairs (common in converted StackExchange
    text) and a stray ``` at the end of a prose line are not fences."""
    fences = [ln for ln in answer.splitlines() if _FENCE_LINE.match(ln) and "```" not in ln.lstrip()[3:]]
    return len(fences) % 2 == 1


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


_ELISION = re.compile(r"(?<!\w)'(?:em|cause|til|tis|twas|n'?|bout|round|s)\b|\b(?:rock|n)'|'\d", re.I)


def open_quote(line: str) -> bool:
    """A quotation opened in the line and never closed (“…, or an odd number of straight quotes the last
    of which opens a quotation rather than marking inches)."""
    if line.count("\u201c") > line.count("\u201d"):
        return True
    if line.count('"') % 2 == 1 and re.search(r'(?:^|[\s(\[])"\w[^"]*$', line):
        return True
    line = _ELISION.sub("", line)
    quotes = re.findall(r"(?<![A-Za-z])'|'(?![A-Za-z])", line)  # single quotes that are not apostrophes
    return len(quotes) % 2 == 1 and bool(re.search(r"(?:^|\s)'[A-Za-z][^']*$", line))


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


def _is_cjk(text: str) -> bool:
    return cjk_ratio(text) > 0.3


def _marker_class(line: str) -> str:
    m = _LIST_ITEM.match(line)
    if not m:
        return ""
    mark = m.group(0).strip()
    return "bullet" if mark[0] in "-*•·" else "number" if mark[0].isdigit() else "letter"


def _list_block(lines: list[str]) -> list[str]:
    """The earlier items of the list the last line belongs to (same kind of marker, no other line between)."""
    kind = _marker_class(lines[-1])
    block: list[str] = []
    for ln in reversed(lines[:-1]):
        if _marker_class(ln) != kind:
            break
        block.append(ln)
    return block


def _sentence_ends(body: str, cjk: bool) -> list[re.Match[str]]:
    if cjk:
        return list(_SENTENCE_END_CJK.finditer(body))
    out = []
    for m in _SENTENCE_END_EN.finditer(body):
        before = body[: m.start()]
        word = re.search(r"(\w+)$", before)  # "Mr.", "etc.", "e.g.", an initial, "2." of an inline list
        if word and (len(word.group(1)) == 1 or word.group(1).lower() in _ABBREVIATIONS
                     or re.search(r"\b(?:e\.g|i\.e)$|(?:^|\s)\d{1,2}$", before)):
            continue
        out.append(m)
    return out


def sign_off(line: str) -> bool:
    """A letter's closing line ("Sincerely,", "此致，")."""
    return line[-1] in ",，" and len(line.split()) <= 3 and len(line) <= (6 if _is_cjk(line) else 20)


def not_prose(line: str) -> bool:
    """A quotation (``> …``), a table row or a heading."""
    return line[0] in "#>|" or line.count("|") >= 2 or " | " in line


def final_segment(lines: list[str]) -> str | None:
    """The text after the last finished sentence of the last paragraph, when that paragraph is prose
    that holds one (or follows a paragraph that ends with a full stop); else ``None``.

    ``""`` means the last sentence is closed.  Lists, headings, quotes and table rows are not prose.
    """
    last = lines[-1]
    item = _LIST_ITEM.match(last)
    if not_prose(last):
        return None
    cjk = _is_cjk(last)
    body = last.rstrip()
    closed = ends_punctuated(body)
    if closed:
        body = body[:-1]
    ends = _sentence_ends(body, cjk)
    if item:  # a list item holding several sentences, in a list whose items close theirs
        items = _list_block(lines)
        if not (ends and ends[0].start() > item.end() and items and all(ln[-1] in ".!?。！？" for ln in items)):
            return None
        return "" if closed else last[ends[-1].end():].strip()
    if ends:
        return "" if closed else last[ends[-1].end():].strip()
    prev = lines[-2] if len(lines) > 1 else ""
    if (prev and (prev[-1] in ".!?。！？" or _WORKED.search(prev)) and not _LIST_ITEM.match(prev) and prev[0] != "#"
            and not sign_off(prev)):
        # a new paragraph after a closed one (or after a worked computation), or the next line of a sentence
        return "" if closed else last
    if cjk and "，" in body and any(ln[-1] in "。！？" for ln in lines[:-1]):
        return "" if closed else last  # a sentence of clauses, in an answer that ends its sentences with 。
    return None


# '"…" – Steve Jobs', '- Franklin D. Roosevelt', "—— 鲁迅"
_ATTRIBUTION = re.compile(r"\s[-–—―~]+\s*[A-Z\u4e00-\u9fff](?:\s[A-Z]\.|[^.!?,，]){0,40}$|^[-–—―~]")
_TAGGED = re.compile(r"[#＃@＠]\s?[\w-]+\W*$")  # hashtags and mentions closing a post
_NAME_LIKE = re.compile(r"\w[./]\w+$|\d$")  # example.com, main.py, 3.14
_RESULT = re.compile(r"\d\S*(?:\s+\S+){0,3}$")  # a number among the last words
_WORKED = re.compile(r"=\s*[$€£¥]?\d")  # a worked computation line ("85 - 22 = 63 marbles")


def _label_end(line: str) -> int:
    """Where the label of a "label: text" line ends (0 if the line has none)."""
    colon = max(line.find(":"), line.find("："))
    return colon if 0 < colon < max(12, len(line) / 2) else 0


def _key_value(line: str, cjk: bool) -> bool:
    colon = _label_end(line)
    value = line[colon + 1:].strip()
    return colon > 0 and (len(value) <= 15 if cjk else len(value.split()) <= 6)


def _looks_finished(segment: str, cjk: bool, earlier: Sequence[str] = ()) -> bool:
    """Unpunctuated endings that are not cuts: titles and names, key: value lines, hashtags, attributions,
    URLs and file names, worked computations."""
    words = segment.split()
    if (not words or _ATTRIBUTION.search(segment) or _TAGGED.search(segment) or _NAME_LIKE.search(words[-1])
            or _WORKED.search(segment)):
        return True
    if _key_value(segment, cjk) and not any(_label_end(ln) and ln[-1] in ".!?。！？" for ln in earlier):
        return True  # a "key: value" line of a table-like answer ("答案：2颗糖果"), unless such lines close here
    if not cjk:
        worded = [w for w in words if any(c.isalpha() for c in w)]
        if worded and sum(1 for w in worded if w[0].isupper()) >= 0.6 * len(worded):
            return True  # a title or a list of names
    return False


def ending_kind(answer: str) -> str:
    """``"fence"``, ``"strong"``, ``"unclosed"``, ``"weak"`` or ``"ok"`` (see the module docstring)."""
    a = _trimmed(answer)
    if unclosed_fence(a):
        return "fence"
    lines = _lines(a)
    if not lines or len(a) < (15 if _is_cjk(a) else 40):
        return "ok"
    last = lines[-1]
    if last.startswith("<") and unclosed_html_block(strip_code(a)):
        return "strong"  # markup that stops inside a <table>, <ul>, <div>…
    if _BARE_MARKER.match(last) and len(lines) > 1 and _LIST_ITEM.match(lines[-2]):
        return "strong"  # the next item was started and nothing written
    if last.endswith(" ="):
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
    if not _is_cjk(last) and len(words) >= 2 and (
            words[-1].lower() in NEVER_LAST or words[-1] == "I" or words[-2:] == ["and", "it"]
            or (words[-1].lower() in ("it", "you") and words[-2].lower().strip(",") in _CLAUSE_OPENERS)):
        return True
    if _LIST_ITEM.match(last):  # every earlier item of this list was punctuated, this one is not
        items = _list_block(lines)
        # (items that end on commas are clauses of one sentence: the last one closes it)
        return len(items) >= 2 and (all(o[-1] in TERMINAL or o[-1] in "。！？" for o in items)
                                    or all(o[-1] in ",;，；" for o in items))
    return False


def _unpunctuated(a: str, lines: list[str]) -> str:
    """An ending on a plain word: ``"unclosed"`` after finished sentences, ``"weak"`` for one long
    sentence, ``"strong"`` on a function word, ``"ok"`` when it looks finished."""
    last = lines[-1]
    cjk = _is_cjk(last)
    words = last.split()
    segment = final_segment(lines)
    if segment:
        said = [w.lower().strip("\"'(,") for w in segment.split()]
        if not cjk and len(said) <= 2 and (said[0] in FUNCTION_WORDS or said[0] in PRONOUNS):
            return "strong"  # a sentence begun and stopped at once (". In", ". This young", ". He")
        if (_looks_finished(segment, cjk, lines[:-1]) or (not cjk and words[-1][0].isupper() and words[-1] != "I")
                or (not cjk and _RESULT.search(segment) and _WORKED.search(a))):
            return "ok"  # also a sentence that ends on a name ("… in Vermont"), a solution's result ("… 28 buttons")
        if cjk or len(said) >= 3:
            return "strong" if not cjk and said[-1] in FUNCTION_WORDS else "unclosed"
    size = len(last) if cjk else len(words)
    if _looks_finished(last, cjk, lines[:-1]) or size < (12 if cjk else 8) or last[-1].isdigit():
        return "ok"
    if not cjk and words[-1].lower().strip("\"'") in FUNCTION_WORDS:
        return "strong"
    if _LIST_ITEM.match(last) and any(o[-1] not in TERMINAL for o in lines[:-1] if _LIST_ITEM.match(o)):
        return "ok"  # a list whose items carry no full stops is a style, not a cut
    if len(_INLINE_ITEM.findall(last)) >= 3:
        return "ok"  # a numbered list written on one line
    # one long sentence, or a shorter one in an answer that punctuates elsewhere
    if not _ANY_SENTENCE_END.search(a[: len(a) - len(last)] + last[:-1]) and size < (40 if cjk else 15):
        return "ok"
    return "weak"


def closes_sentences(answer: str) -> bool | None:
    """Whether an answer whose last paragraph holds several sentences closes the last one; ``None`` when
    it holds only one (or is a list, a heading, code).  The dataset-level share of ``True`` tells whether
    its writers close their sentences, i.e. whether an ``"unclosed"`` ending means anything there."""
    a = _trimmed(answer)
    if len(a) < (15 if _is_cjk(a[-200:]) else 40) or unclosed_fence(a):
        return None
    lines = _lines(a)
    segment = final_segment(lines)
    if segment is None:
        return None
    if segment == "":
        return True
    return None if _looks_finished(segment, _is_cjk(lines[-1]), lines[:-1]) else False


def final_fragment(answer: str) -> str:
    """The unclosed last sentence of an ``"unclosed"`` answer ("" when there is none)."""
    lines = _lines(_trimmed(answer))
    return (final_segment(lines) or "") if lines else ""


_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|[。！？]|\n+")


def median_sentence_size(answers: Sequence[str], sample: int = 5000) -> float:
    """The median length of the dataset's sentences (of its first ``sample`` answers): words, or
    characters for Chinese/Japanese; sentences under three words (headings, labels) are not counted."""
    sizes = []
    for a in answers[:sample]:
        for sent in _SENTENCE_SPLIT.split(a):
            size = len(sent.strip()) if _is_cjk(sent) else len(sent.split())
            if size >= 3:
                sizes.append(size)
    return statistics.median(sizes) if sizes else 0.0


def fragment_size(fragment: str) -> int:
    return len(fragment) if _is_cjk(fragment) else len(fragment.split())
