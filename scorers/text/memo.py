"""One memo for the text readers that many checks call on the same text.

A row's answer goes through ~35 checks, and several of them ask the same question of it: its prose without code
(``strip_code`` 16 times a row, ``prose`` 6), whether it is code, its language, its repetition. Profiled over the
per-sample scorers of 6,000 rows of the 200k mixed file (issue #15), those repeats were a fifth of the stage.
:func:`per_text` remembers the last few thousand answers of such a reader. Only pure functions of their arguments
that return immutable values (``str``, numbers, tuples, frozen dataclasses) are memoised — a cached list handed to
two callers would let one change the other's — and ``tests/test_text_memo.py`` holds each to that.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar, overload

#: texts remembered per reader: a chunk's rows are scored one scorer after another, so a reader meets a text again
#: within one scorer's pass over a few thousand rows, or not soon
TEXTS = 4096

F = TypeVar("F", bound=Callable[..., object])

#: every reader wrapped by :func:`per_text` (the test checks each returns immutable values)
MEMOISED: list[Callable[..., object]] = []


def forget() -> None:
    """Drop every remembered text: an audit's texts are not kept once it is done (a worker process runs many
    audits; eleven readers × 4,096 texts of a long-answer dataset is tens of MB)."""
    for cached in MEMOISED:
        cached.cache_clear()  # type: ignore[attr-defined]


@overload
def per_text(fn: F, *, texts: int = TEXTS) -> F: ...


@overload
def per_text(fn: None = None, *, texts: int = TEXTS) -> Callable[[F], F]: ...


def per_text(fn: F | None = None, *, texts: int = TEXTS) -> F | Callable[[F], F]:
    """``fn`` with its last ``texts`` calls remembered (a pure function of hashable arguments): ``@per_text``, or
    ``@per_text(texts=N)`` for a reader whose texts come back from further apart (a prompt compared with every one of
    its near-duplicate candidates, across the whole dataset)."""

    def wrap(f: F) -> F:
        cached = functools.lru_cache(maxsize=texts)(f)
        MEMOISED.append(cached)
        return cached  # type: ignore[return-value]

    return wrap(fn) if fn is not None else wrap
