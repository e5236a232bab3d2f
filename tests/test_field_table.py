"""FieldTable gives back every row as it was stored: same keys in the same order, same values of the same types."""

from __future__ import annotations

import json
import math
from types import MappingProxyType
from typing import Any

from scorers._field_table import FieldTable


def typed(value: Any) -> Any:
    """The value with every leaf's type beside it (``1 == 1.0 == True`` in Python; the report's bytes differ)."""
    if isinstance(value, dict):
        return [(k, typed(v)) for k, v in value.items()]
    if isinstance(value, list):
        return ["list", [typed(v) for v in value]]
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


ROWS: list[dict[str, Any]] = [
    {"answer_clarity": {"score": 0.93, "checked": 4, "failed": 0}, "language": "en"},
    {"answer_clarity": {"score": 1.0, "checked": 0, "failed": 0}, "language": "zh"},
    {"language": "en", "answer_clarity": {"score": 0.5, "checked": 2, "failed": 1}},  # other key order
    {},
    {"cluster": 3, "semantic_keep": True, "semantic_group": 7},
    {"cluster": 2.5, "semantic_keep": False, "semantic_group": 8},  # an int column turned float: a list
    {"cluster": -1, "semantic_keep": True, "semantic_group": 2**70},
    {"not_judged": ["semantic_duplicate"], "x": None, "y": float("nan"), "z": -0.0, "e": {}},
    {"not_judged": ["a", "b"], "x": "text", "y": 1e-300, "z": 7, "e": {}},
    {"nested": {"deeper": {"deepest": [1, 2.0, {"k": "v"}]}}, "t": (1, 2)},
]


def test_rows_come_back_as_stored() -> None:
    table = FieldTable(ROWS)
    assert len(table) == len(ROWS)
    assert [typed(r) for r in table] == [typed(r) for r in ROWS]
    assert [typed(table[i]) for i in range(len(ROWS))] == [typed(r) for r in ROWS]
    assert [typed(r) for r in table[2:5]] == [typed(r) for r in ROWS[2:5]]
    assert typed(table[-1]) == typed(ROWS[-1])
    assert [json.dumps(r, sort_keys=True) for r in table] == [json.dumps(r, sort_keys=True) for r in ROWS]


def test_reads_are_new_dicts_and_empty_rows_are_dicts() -> None:
    table = FieldTable([MappingProxyType({}), {"a": 1.5}])
    assert table[0] == {} and type(table[0]) is dict
    row = table[1]
    row["a"] = 2.0
    assert table[1] == {"a": 1.5}
    assert FieldTable([]) is not None and len(FieldTable([])) == 0 and not FieldTable([])


def test_plain_numbers_are_held_in_arrays() -> None:
    rows = [{"s": {"score": i / 7, "checked": i, "ok": i % 2 == 0}, "lang": "en"} for i in range(1000)]
    table = FieldTable(rows)
    assert [typed(r) for r in table] == [typed(r) for r in rows]
    kinds = [type(c).__name__ for cols in table._columns for c in cols]
    assert kinds == ["ndarray", "ndarray", "ndarray", "list"]
    assert len({id(r["lang"]) for r in table}) == 1  # equal strings are one object
