"""PackedRows gives back every row as it was stored: same keys in the same order, same values of the same types."""

from __future__ import annotations

import json
import math
from types import MappingProxyType
from typing import Any

import numpy as np
import pytest

from scorers import _packed_rows
from scorers._packed_rows import PackedRows


def typed(value: Any) -> Any:
    """The value with every leaf's type beside it (``1 == 1.0 == True`` in Python; the report's bytes differ)."""
    if isinstance(value, dict):
        return [(k, typed(v)) for k, v in value.items()]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [typed(v) for v in value]]
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


ROWS: list[dict[str, Any]] = [
    {"answer_clarity": {"score": 0.93, "checked": 4, "failed": 0}, "language": "en"},
    {"language": "zh", "answer_clarity": {"score": 1.0, "checked": 0, "failed": 0}},  # other key order
    {},
    {"cluster": 3, "semantic_keep": True, "semantic_group": 2**70},
    {"not_judged": ["semantic_duplicate"], "x": None, "y": float("nan"), "z": -0.0, "e": {}, "t": (1, 2.0)},
    {"numpy": np.float32(0.1), "nested": {"deeper": {"deepest": [1, 2.0, {"k": "v"}]}}},
]


@pytest.mark.parametrize("block", [1, 2, 1024])
def test_rows_come_back_as_stored(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr(_packed_rows, "BLOCK_ROWS", block)
    rows = ROWS * 3
    packed = PackedRows(rows)
    assert len(packed) == len(rows)
    assert [typed(r) for r in packed] == [typed(r) for r in rows]
    assert [typed(packed[i]) for i in range(len(rows))] == [typed(r) for r in rows]
    assert [typed(packed[i]) for i in reversed(range(len(rows)))] == [typed(r) for r in reversed(rows)]
    assert [typed(r) for r in packed[2:7]] == [typed(r) for r in rows[2:7]]
    assert typed(packed[-1]) == typed(rows[-1])
    assert [json.dumps(r, sort_keys=True, default=float) for r in packed] == [
        json.dumps(r, sort_keys=True, default=float) for r in rows
    ]
    with pytest.raises(IndexError):
        packed[len(rows)]


def test_read_only_mappings_come_back_as_dicts() -> None:
    packed = PackedRows([MappingProxyType({}), MappingProxyType({"a": 1.5})])
    assert list(packed) == [{}, {"a": 1.5}] and all(type(r) is dict for r in packed)
    assert len(PackedRows([])) == 0 and not PackedRows([]) and list(PackedRows([])) == []
