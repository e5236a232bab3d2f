"""Plain factories for training tests (imported by the test modules)."""

from __future__ import annotations

import random

from scorers.samples import Sample, Turn, sample

ANSWERS = ["red cat.", "blue dog.", "green tree.", "big river.", "small moon.", "happy sun."]


def memorisable(n: int = 12) -> list[Sample]:
    """Short Q → A rows, a few multi-turn, that a tiny model memorises in a few dozen steps."""
    rows = []
    for i in range(n):
        if i % 4 == 3:
            rows.append(Sample(i, (Turn("user", f"number {i}"), Turn("assistant", ANSWERS[i % 6]),
                                   Turn("user", "why?"), Turn("assistant", "thanks.")), system="be good"))
        else:
            rows.append(sample(i, f"what is number {i}?", ANSWERS[i % 6]))
    return rows


def plain_text(n: int = 8) -> list[Sample]:
    rng = random.Random(1)
    words = "the cat dog tree river city water fire sun moon star".split()
    return [Sample(i, (Turn("text", " ".join(rng.choice(words) for _ in range(rng.randint(5, 30)))),))
            for i in range(n)]
