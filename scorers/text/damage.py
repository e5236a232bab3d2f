"""Damaged text: control characters, mojibake, escape sequences and markup left as text.

* :func:`control_characters` — C0/C1 controls (not tab/newline), lone surrogates, U+FFFE/FFFF;
* :func:`mojibake` — text decoded with the wrong encoding: UTF-8 read as cp1252/latin-1 (``cafÃ©``,
  ``isnâ€™t``; Chinese ``æˆ‘`` when three or more such runs), GBK's ``锟斤拷``, MSVC's ``烫烫烫``, U+FFFD;
* :func:`escaped` — ``\\u00e9``, ``\\x41`` or two or more literal ``\\n`` left as text;
* :func:`markup` — HTML tags or entities in prose (only entities when the text presents markup as such).
"""

from __future__ import annotations

import re

from scorers.text.rules import Rule, Seen

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_CP1252_TAIL = (
    r"\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u2013\u2014\u2018\u2019\u201a\u201c"
    r"\u201d\u201e\u2020\u2021\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
)
_MOJIBAKE = re.compile(rf"Ã[\u0080-\u00bf]|Â[\u0080-\u00bf]|â€[{_CP1252_TAIL}]|ï¿½|锟斤拷|烫烫烫|屯屯屯|\ufffd")
# UTF-8 Chinese/Japanese read as cp1252: "æˆ'" for 我 (a lead byte E4–E9 then two continuation bytes)
_MOJIBAKE_CJK = re.compile(rf"[\u00e4-\u00e9][{_CP1252_TAIL}\u0192\u02c6\u02dc]{{1,2}}")
_ESCAPED = re.compile(r"\\u[0-9a-fA-F]{4}|\\U[0-9a-fA-F]{8}|\\x[0-9a-fA-F]{2}")
_LITERAL_NEWLINE = re.compile(r"\\n(?![a-z])")  # not LaTeX (\\nabla, \\neq, \\noindent)
_ENTITY = r"&(?:nbsp|amp|lt|gt|quot|apos|#\d{2,5}|#x[0-9a-fA-F]{2,4});"
HTML_ENTITY = re.compile(_ENTITY)
_HTML = re.compile(
    r"</?(?:p|div|span|br|b|i|u|strong|em|ul|ol|li|table|tr|td|th|h[1-6]|img|font|sup|sub|"
    r"blockquote|code|pre)\b[^<>]{0,200}>|"
    + _ENTITY
    +
    # an <a> tag has attributes or a closing tag: "<a link to a painting>" is a placeholder
    r"|<a(?:\s+(?:href|name|id|class|target|title|rel)\s*=[^<>]{0,200})?>|</a>",
    re.I,
)
#: a prompt about escaping or encoding: entities and escapes are its subject
ABOUT_ESCAPING = re.compile(
    r"\b(?:escap\w*|entit(?:y|ies)|encod\w*|decod\w*|unicode|html special characters)\b|转义|编码|解码", re.I
)
#: an answer that talks about markup shows its tags on purpose (its entities are still damage)
MARKUP_TALK = re.compile(r"\b(?:HTML|CSS|XML|markup|(?:HTML|span|div|anchor) (?:tag|element)s?)\b")


#: a media tag with a source in the prompt is how an image or a sound is given (the model cannot see it: that is
#: unseen_content's defect), not markup left over from scraping
MEDIA_GIVEN = Rule(
    "media given as a tag",
    re.compile(r"<(?:img|audio|video|iframe|source|embed)\b[^<>]{0,300}\bsrc\s*=[^<>]{0,300}>", re.I),
    "an <img src=…> in the prompt supplies the picture the task is about; it is unseen content, not scraping residue",
    Seen("stanford_alpaca/alpaca_data.json", 22254, '<img src="https://i.imgur.com/aVDU6IH.jpg" alt="Bird">'),
)
_TAG_NAME = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>")
_ANY_TAG = re.compile(r"<[^<>]*>")
#: an answer that is a markup document with its own text: a page, a form, a survey written as HTML
MARKUP_DOCUMENT = Rule(
    "a markup document",
    re.compile(r"^\s*(?:<!doctype\b|<html\b|<form\b|<body\b|<div\b|<table\b)", re.I),
    "an answer that opens as an HTML document and carries its own text in at least three kinds of element is the "
    "page or form it presents, not tags left in prose (an answer that is only an <img> tag still is)",
    Seen("stanford_alpaca/alpaca_data.json", 33665, "<html>"),
)


def without_media(text: str) -> str:
    """``text`` without the media tags that give an image or a sound (:data:`MEDIA_GIVEN`)."""
    assert MEDIA_GIVEN.pattern is not None
    return MEDIA_GIVEN.pattern.sub(" ", text)


def markup_document(text: str) -> bool:
    """Whether ``text`` is an HTML document with its own text (:data:`MARKUP_DOCUMENT`)."""
    if not MARKUP_DOCUMENT.search(text):
        return False
    kinds = {m.group(1).lower() for m in _TAG_NAME.finditer(text)}
    prose = _ANY_TAG.sub(" ", text)
    return len(kinds) >= 3 and len(re.sub(r"\s+", " ", prose).strip()) >= 80


def control_characters(text: str) -> list[str]:
    return _CONTROL.findall(text)


def mojibake(text: str) -> re.Match[str] | None:
    """The first mojibake run in ``text`` (three CJK-mojibake runs are needed: one can be real Latin text)."""
    m = _MOJIBAKE.search(text)
    if m:
        return m
    cjk = list(_MOJIBAKE_CJK.finditer(text))
    return cjk[0] if len(cjk) >= 3 else None


def escaped(text: str) -> bool:
    return bool(_ESCAPED.search(text)) or len(_LITERAL_NEWLINE.findall(text)) >= 2


def markup(text: str, *, entities_only: bool = False) -> re.Match[str] | None:
    return (HTML_ENTITY if entities_only else _HTML).search(text)
