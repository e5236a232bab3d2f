"""The text readers memoised by :func:`scorers.text.memo.per_text` return what they returned before, and only
immutable values (a cached list or dict handed to two callers would let one change what the other reads)."""

from __future__ import annotations

import dataclasses

import pytest

import scorers.text.code
import scorers.text.language
import scorers.text.numbers
import scorers.text.repetition
import scorers.text.script  # noqa: F401  (registers its readers)
import scorers.text.sentences
from scorers.text.memo import MEMOISED

TEXTS = [
    "",
    "Why do babies cry so much?",
    "Here is the code:\n```python\nprint('hi')\n```\nIt prints hi. See https://example.com/docs.html for more.",
    "我们今天去公园散步。天气很好！",
    "The cat sat. The cat sat. The cat sat. The cat sat on the mat and then the cat sat again for a while.",
    "SELECT name FROM users WHERE id = 1;",
    "Es un día soleado y vamos a la playa con mis amigos.",
]


def _immutable(value: object) -> bool:
    if value is None or isinstance(value, (str, int, float, bool, bytes)):
        return True
    if isinstance(value, (tuple, frozenset)):
        return all(_immutable(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        frozen = type(value).__dataclass_params__.frozen  # type: ignore[attr-defined]
        return bool(frozen) and all(_immutable(getattr(value, f.name)) for f in dataclasses.fields(value))
    return False


@pytest.mark.parametrize("reader", MEMOISED, ids=lambda f: f.__name__)
def test_a_memoised_reader_returns_immutable_values_equal_to_the_uncached_ones(reader) -> None:
    assert len(MEMOISED) >= 11  # strip_code, looks_like_code, prose, language_of, cjk_ratio, normalise_strict, …
    for text in TEXTS:
        first = reader(text)
        assert _immutable(first), f"{reader.__name__} returned a mutable {type(first).__name__}"
        assert reader(text) == first == reader.__wrapped__(text)


def test_the_readers_the_checks_call_are_the_memoised_ones() -> None:
    # the modules that import a reader get the memoised one (a decorator applied after an import would not reach it)
    assert scorers.text.language.strip_code in MEMOISED
    assert scorers.text.repetition.strip_code in MEMOISED
    assert scorers.text.repetition.normalise_strict in MEMOISED
    assert scorers.text.language.cjk_ratio in MEMOISED
    before = scorers.text.code.strip_code.cache_info().hits  # type: ignore[attr-defined]
    text = "Some prose with `inline code` in it, read twice."
    scorers.text.language.prose(text + " once")
    scorers.text.language.strip_code(text)
    scorers.text.repetition.strip_code(text)
    assert scorers.text.code.strip_code.cache_info().hits == before + 1  # type: ignore[attr-defined]


def test_split_sentences_hands_each_caller_its_own_list() -> None:
    from scorers.text.sentences import split_sentences

    first = split_sentences("One sentence here. Another one there.")
    first.append("changed by a caller")
    assert split_sentences("One sentence here. Another one there.") == ["One sentence here.", "Another one there."]


def test_an_audit_keeps_no_text_once_done() -> None:
    from scorers import sample
    from scorers.pipeline import run_audit

    rows = [
        sample(i, f"Question {i}: what is {i} + {i}?", f"The answer is {2 * i}. It is `{i}+{i}`.") for i in range(6)
    ]
    run_audit(rows, ["junk_answer", "wrong_language", "text_damage"])
    assert all(f.cache_info().currsize == 0 for f in MEMOISED)  # type: ignore[attr-defined]
    scorers.text.code.strip_code("some `code` here")
    assert scorers.text.code.strip_code.cache_info().currsize == 1  # type: ignore[attr-defined]
