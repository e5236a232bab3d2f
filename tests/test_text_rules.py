"""Every named rule of the text-reading layer is a row of a table, with the real row that motivated it."""

from __future__ import annotations

import gzip
import importlib
import json
import pkgutil

import pytest
from paths import shared_data_dir

import scorers
import scorers.text
from scorers.text.rules import Rule


def _rules() -> list[tuple[str, Rule]]:
    """Every :class:`Rule` defined at module level in scorers/ and scorers/text/ (alone or in a tuple)."""
    names = [f"scorers.{m.name}" for m in pkgutil.iter_modules(scorers.__path__)]
    names += [f"scorers.text.{m.name}" for m in pkgutil.iter_modules(scorers.text.__path__)]
    found: dict[int, tuple[str, Rule]] = {}
    for name in names:
        mod = importlib.import_module(name)
        for attr, value in vars(mod).items():
            items = value if isinstance(value, tuple) else (value,)
            for r in items:
                if isinstance(r, Rule):
                    found[id(r)] = (f"{name}.{attr}", r)
    return list(found.values())


RULES = _rules()


def test_the_layer_has_rule_tables() -> None:
    assert len(RULES) >= 15
    assert len({r.name for _, r in RULES}) == len(RULES), "two rules share a name"
    for where, r in RULES:
        assert r.name and len(r.means) > 20, where


@pytest.mark.parametrize(
    "where,rule",
    [(w, r) for w, r in RULES if r.seen and r.pattern is not None],
    ids=lambda x: x if isinstance(x, str) else x.name,
)
def test_a_rule_fires_on_the_excerpt_of_its_row(where: str, rule: Rule) -> None:
    assert rule.seen is not None
    assert rule.search(rule.seen.excerpt), f"{where}: {rule.name!r} does not fire on {rule.seen.excerpt!r}"


def _row_text(path: str, row: int) -> str:
    p = shared_data_dir() / path
    text = gzip.decompress(p.read_bytes()).decode("utf-8") if p.suffix == ".gz" else p.read_text(encoding="utf-8")
    rows = (
        json.loads(text)
        if text.lstrip().startswith("[")
        else [json.loads(ln) for ln in text.splitlines() if ln.strip()]
    )
    r = rows[row]
    parts = [str(v) for v in r.values() if isinstance(v, str)]
    parts += [str(x) for pair in (r.get("history") or []) for x in pair]
    return "\n".join(parts)


@pytest.mark.shared_data
def test_every_seen_row_holds_its_excerpt(shared_data) -> None:
    seen = [(w, r) for w, r in RULES if r.seen]
    assert len(seen) >= 12
    for where, r in seen:
        assert r.seen is not None
        assert r.seen.excerpt in _row_text(r.seen.file, r.seen.row), (
            f"{where}: {r.seen.file} row {r.seen.row} does not hold {r.seen.excerpt!r}"
        )
