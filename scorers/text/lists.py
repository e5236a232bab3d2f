"""Lists in text: item markers, the block of items a line belongs to, and counting the items of an answer.

:func:`count_items` reads an answer as a list in the first way that applies — marked items (``1.``, ``-``,
``a)``, ``（1）``, ``一、``), one item per line, items separated by commas (``,``/``、``/``，``/``;``) in one
sentence, two items joined by "and" — and returns every count the text allows (:class:`ItemCount`): an "and"
(Chinese 和/以及/与) may join two items or belong to one title ("Romeo and Juliet", "The Dragon and the Wolf"),
and when both readings are possible both counts are kept, so a check only fails when no reading gives the asked
number.  The rules that decide what is not a countable list are the tables :data:`NOT_COUNTED`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scorers.text.rules import Rule, Seen
from scorers.text.script import is_cjk, word_count
from scorers.text.sentences import sentence_ends

#: a list item's marker: bullets, numbers ("1." "1)" "1、" and the "4。" of machine-translated Chinese lists;
#: not the "1.5" of a decimal), letters ("a." "B)"), "(1)" and Chinese numerals ("一、")
LIST_ITEM = re.compile(
    r"^\s*(?:[-*•·●◦▪]\s+|\d{1,3}(?:\.(?!\d)|[)、。])\s*|[a-zA-Z](?:[.)]\s+|。)|[（(]\d{1,2}[)）]\s*"
    r"|[一二三四五六七八九十]{1,3}[、。.])"
)
BARE_MARKER = re.compile(r"^\s*(?:[-*•·+]|\d{1,3}[.)、]|[a-zA-Z][.)])\s*$")
_NESTED_BULLET = re.compile(r"^[ \t]+[-*•]\s", re.M)
_ITEM_SPLIT = re.compile(r"[,;，、|\n]+|^\s*(?:[-*•]|\d+[.)])\s*", re.M)
_SEPARATORS = re.compile(r"\s*[,，、;；]\s*")
#: the conjunction of a list's last two items ("A, B and C", "A、B和C")
_AND_EN = re.compile(r"\s+(?:and|or|&)\s+")
_AND_ZH = re.compile(r"(?:和|以及|与|及|或)")
_LEADING_AND = re.compile(r"^(?:and|or|&)\s+|^(?:和|以及|与|及|或)")
#: a sentence leading into its items: "Three beaches in X are A, B and C", "…包括：", "…是A、B和C"
_LEAD_EN = re.compile(
    r"^(?P<lead>.{0,160}?\b(?:are|is|include|includes|including|were|was|such as|like)\b\s*:?\s*)", re.I
)
_LEAD_ZH = re.compile(r"^(?P<lead>[^。！？]{0,60}?(?:是|有|包括|包含|为|：|:))")
_PUNCT_END = re.compile(r"[.。!！?？;；]+$")
_INLINE_NUMBERS = re.compile(r"(?:^|(?<=\s)|(?<=[,，;；：:]))(\d{1,2})[.)、](?!\d)")


def marker_class(line: str) -> str:
    """``"bullet"``, ``"number"``, ``"letter"`` (or ``""``) for the marker opening a line."""
    m = LIST_ITEM.match(line)
    if not m:
        return ""
    mark = m.group(0).strip()
    return "bullet" if mark[0] in "-*•·●◦▪" else "number" if mark[0].isdigit() else "letter"


def list_block(lines: list[str]) -> list[str]:
    """The earlier items of the list the last line belongs to (same kind of marker, no other line between)."""
    kind = marker_class(lines[-1])
    block: list[str] = []
    for ln in reversed(lines[:-1]):
        if marker_class(ln) != kind:
            break
        block.append(ln)
    return block


def term_list(text: str) -> bool:
    """A list of short items (terms, names, table cells) rather than sentences."""
    items = [it for it in _ITEM_SPLIT.split(text) if it and it.strip()]
    return len(items) >= 3 and sum(len(it.split()) for it in items) / len(items) <= 3


@dataclass(frozen=True)
class ItemCount:
    """Every count of items a text allows (``low`` … ``high``), and how it was counted."""

    low: int
    high: int
    how: str

    def allows(self, n: int) -> bool:
        return self.low <= n <= self.high

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}–{self.high}"


#: lists whose items cannot be counted from the text: counting them would be a guess
NOT_COUNTED: tuple[Rule, ...] = (
    Rule(
        "restarted or nested list",
        re.compile(r"(?s)^\s*(?:1[.)]|[aA][.)])\s.*\n\s*(?:1[.)]|[aA][.)])\s|^[ \t]+[-*•]\s", re.M),
        "a list that starts again (options A–D under each question) or has indented sub-items: its top-level "
        "items cannot be told apart",
        Seen(
            "stanford_alpaca/alpaca_data.json",
            3389,
            "A. Thomas Jefferson\nB. Benjamin Franklin\nC. George "
            "Washington \nD. John Adams\n\nQ2: When did the Great Fire of London occur?\nA. 1666",
        ),
    ),
)

#: what is asked for when the items asked for are titles: a title holds commas and "and" of its own
#: ("Unbent, Unbowed, Unbroken"; "The House of Black and White"), so a comma list of titles is not counted
TITLES_ASKED = Rule(
    "titles asked for",
    re.compile(
        r"\b(?:titles?|episodes?|songs?|books?|novels?|films?|movies?|plays?|albums?|poems?|works|"
        r"shows?|series|paintings?|operas?)\b|书名|歌曲|电影|小说|专辑|剧集|作品",
        re.I,
    ),
    "the items asked for are titles, which may contain commas and 'and': an inline list of them is not counted",
    Seen("alpagasus/dolly_3k.json", 1213, "the ten episode titles from the fifth season"),
)


def _split_and(part: str, cjk: bool) -> list[str]:
    pieces = (_AND_ZH if cjk else _AND_EN).split(part)
    return [p for p in pieces if p.strip()]


def _inline_items(line: str, cjk: bool) -> ItemCount | None:
    """Items of a one-sentence inline list ("A, B and C", "A、B和C"), after any lead-in ("… are", "…是")."""
    body = _PUNCT_END.sub("", line.strip())
    lead = (_LEAD_ZH if cjk else _LEAD_EN).match(body)
    # a lead-in is a sentence's start (at most one comma: "Three beaches in Pinellas County, Florida are"),
    # followed by the list
    if lead and _SEPARATORS.search(body[lead.end() :]) and len(_SEPARATORS.findall(lead.group(0))) <= 1:
        body = body[lead.end() :]
    parts = [p for p in _SEPARATORS.split(body) if p.strip()]
    if len(parts) < 2:
        return None
    max_words = 6 if not cjk else 8
    if not all(word_count(p) <= max_words for p in parts):
        return None
    parts = [_LEADING_AND.sub("", p.strip()) for p in parts]
    # an "and" inside the last part may join the last two items ("B and C") or belong to a title
    # ("The Dragon and the Wolf"); inside an earlier part it belongs to that item
    last = _split_and(parts[-1], cjk)
    low = len(parts)
    high = len(parts) - 1 + len(last)
    if any(_LEADING_AND.match(p) for p in _SEPARATORS.split(body)[-1:]):
        high = low  # "A, B, and C": the list's conjunction is its own, every "and" inside an item is the item's
    return ItemCount(low, high, "comma-separated items")


def count_items(answer: str, *, titles: bool = False) -> ItemCount | None:
    """The items of an answer read as a list; ``None`` for prose, or a list whose items cannot be counted.

    ``titles``: the items asked for are titles (:data:`TITLES_ASKED`), so an inline list is not counted."""
    if any(r.search(answer) for r in NOT_COUNTED) or _NESTED_BULLET.search(answer):
        return None
    lines = [ln.strip() for ln in answer.strip().splitlines() if ln.strip()]
    marked = [ln for ln in lines if LIST_ITEM.match(ln)]
    if len(marked) >= 2:
        kinds = {marker_class(ln) for ln in marked}
        if len(kinds) > 1:
            return None  # numbered questions with lettered options, bullets under numbers: levels unknown
        return ItemCount(len(marked), len(marked), "list items")
    cjk = is_cjk(answer)
    if len(lines) >= 2 and all(word_count(ln) <= 12 for ln in lines):
        return ItemCount(len(lines), len(lines), "lines")
    if len(lines) != 1:
        return None
    line = lines[0]
    inline = _INLINE_NUMBERS.findall(line)
    if len(inline) >= 2 and [int(n) for n in inline] == list(range(1, len(inline) + 1)):
        return ItemCount(len(inline), len(inline), "numbered items on one line")  # "1. X 2. Y 3. Z"
    if len(sentence_ends(_PUNCT_END.sub("", line), cjk)) > 0:
        return None  # several sentences: prose, not a list
    if not titles:
        inline = _inline_items(line, cjk)
        if inline is not None:
            return inline
    if titles:
        return None
    pair = _split_and(_PUNCT_END.sub("", line), cjk)
    if len(pair) == 2 and word_count(line) <= 7 and all(word_count(p) <= 6 for p in pair):
        return ItemCount(1, 2, "items joined by 'and'")  # "Zoo and buzz." / "Romeo and Juliet": one or two
    if word_count(line) <= 6:
        return ItemCount(1, 1, "a single item")
    return None
