"""Count the regular expressions of ``scorers/`` and their alternatives (issue #12: one text-reading layer).

    python -m bench.regex_count            # totals, and the modules with the most regexes
    python -m bench.regex_count --all      # every module

A *regex* is one pattern written in the code: a ``re.compile(...)`` or a direct ``re.search/match/fullmatch/
findall/finditer/sub/subn/split(...)`` whose first argument is a pattern text (a call on an already compiled
pattern is not a new regex).  Each pattern is read back from the imported module (f-strings and
``"|".join([...])`` included) and parsed with Python's own regex parser:

* **top-level alternatives** — the ``|`` branches at the top of the pattern (1 for a pattern without one): the
  alternatives a reader must hold in mind at once;
* **all alternatives** — every branch of every ``|`` at any depth (``\\b(?:a|b|c)\\b`` has 3): how many
  words and cases the pattern enumerates.

A pattern that cannot be read back (built from a local variable) counts as one regex with the ``|`` of its
literal text.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

try:  # Python ≥ 3.11
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_RE_FUNCS = {"compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "subn", "split"}


@dataclass
class Count:
    regexes: int = 0
    top: int = 0
    alternatives: int = 0

    def add(self, other: Count) -> None:
        self.regexes += other.regexes
        self.top += other.top
        self.alternatives += other.alternatives


def _branches(sub: sre_parse.SubPattern) -> int:
    """Every branch of every alternation inside ``sub``."""
    n = 0
    for op, av in sub.data:
        if op is sre_constants.BRANCH:
            n += len(av[1])
            for b in av[1]:
                n += _branches(b)
        elif op is sre_constants.SUBPATTERN:
            n += _branches(av[-1])
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
            n += _branches(av[2])
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            n += _branches(av[1])
        elif op is sre_constants.GROUPREF_EXISTS:
            n += _branches(av[1]) + (_branches(av[2]) if av[2] else 0)
    return n


def _top(sub: sre_parse.SubPattern) -> int:
    """The ``|`` branches at the top of a pattern (a whole-pattern group counts as the top)."""
    data = sub.data
    while len(data) == 1 and data[0][0] is sre_constants.SUBPATTERN:
        data = data[0][1][-1].data
    if len(data) == 1 and data[0][0] is sre_constants.BRANCH:
        return len(data[0][1][1])
    return 1


def _count_pattern(pattern: str | bytes, flags: int = 0) -> Count:
    try:
        parsed = sre_parse.parse(pattern, flags)
    except Exception:
        text = pattern if isinstance(pattern, str) else pattern.decode("latin-1")
        bars = text.count("|")
        return Count(1, bars + 1, bars + 1 if bars else 0)
    return Count(1, _top(parsed), _branches(parsed))


def _is_re_call(node: ast.Call) -> bool:
    f = node.func
    return isinstance(f, ast.Attribute) and f.attr in _RE_FUNCS and isinstance(f.value, ast.Name) and f.value.id == "re"


def count_module(path: Path) -> Count:
    rel = path.relative_to(ROOT).with_suffix("")
    modname = ".".join(rel.parts)
    module = importlib.import_module(modname)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    total = Count()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not _is_re_call(node) or not node.args:
            continue
        arg = node.args[0]
        try:
            value = eval(compile(ast.Expression(arg), str(path), "eval"), dict(vars(module)))  # noqa: S307 (our code)
        except Exception:
            literal = "".join(
                n.value for n in ast.walk(arg) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            )
            bars = literal.count("|")
            total.add(Count(1, bars + 1, bars + 1 if bars else 0))
            continue
        if isinstance(value, re.Pattern):
            continue  # re.search(_COMPILED, …): not a new pattern
        if isinstance(value, (str, bytes)):
            flags = 0
            if len(node.args) > 1 and node.func.attr == "compile":  # type: ignore[attr-defined]
                try:
                    flags = int(eval(compile(ast.Expression(node.args[1]), str(path), "eval"), dict(vars(module))))  # noqa: S307
                except Exception:
                    flags = 0
            total.add(_count_pattern(value, flags & re.VERBOSE))
    return total


def count_tree(folder: Path) -> dict[str, Count]:
    out: dict[str, Count] = {}
    for path in sorted(folder.rglob("*.py")):
        out[str(path.relative_to(ROOT))] = count_module(path)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--all", action="store_true", help="print every module, not only the top 15")
    ap.add_argument("--folder", default="scorers")
    args = ap.parse_args()
    per = count_tree(ROOT / args.folder)
    total = Count()
    for c in per.values():
        total.add(c)
    rows = sorted(per.items(), key=lambda kv: -kv[1].regexes)
    if not args.all:
        rows = [r for r in rows if r[1].regexes][:15]
    print(f"{'module':42} {'regexes':>8} {'top-level alts':>15} {'all alts':>9}")
    for name, c in rows:
        print(f"{name:42} {c.regexes:8d} {c.top:15d} {c.alternatives:9d}")
    print(
        f"{'TOTAL ' + args.folder + '/ (' + str(len(per)) + ' modules)':42} {total.regexes:8d} {total.top:15d} "
        f"{total.alternatives:9d}"
    )


if __name__ == "__main__":
    main()
