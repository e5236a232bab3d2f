"""A scorer's per-row fields held as a table of columns instead of one small dict (or more) per row.

Every scorer's result is kept until the report is assembled, and later scorers read earlier ones' fields. As Python
dicts, the rows' fields were the largest part of an audit's memory: 5.1 kB a row over the default scorers on the
20k-row mixed file (tracemalloc-free accounting by ``sys.getsizeof``, issue #15), most of it dict headers and float
objects — an answer_clarity row is ``{"answer_clarity": {"score": 0.93, "checked": 4, …}}``, two dicts and a float
per row. :class:`FieldTable` keeps each distinct *shape* of a row (its keys, in order, and which values are dicts
themselves) once, and each leaf of a shape as one column: a numpy array when every row's value there is a Python
``float``, ``int`` or ``bool`` (the same value comes back, as the same Python type), else a list of the objects
themselves (equal strings shared). A row read back is a new dict equal to the one stored, keys in the same order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

import numpy as np

#: a row's shape: its keys in order, each with ``None`` (a leaf value) or the shape of the dict under it
Shape = tuple[tuple[str, "Shape | None"], ...]

_INT64 = (-(2**63), 2**63 - 1)


def _shape_of(row: Mapping[str, Any], leaves: list[Any]) -> Shape:
    """The row's shape; its leaf values are appended to ``leaves`` in the order :func:`_build` reads them."""
    out = []
    for key, value in row.items():
        if type(value) is dict:
            out.append((key, _shape_of(value, leaves)))
        else:
            out.append((key, None))
            leaves.append(value)
    return tuple(out)


def _build(shape: Shape, leaves: Iterator[Any]) -> dict[str, Any]:
    return {key: next(leaves) if child is None else _build(child, leaves) for key, child in shape}


def _column(values: list[Any]) -> np.ndarray | list[Any]:
    """One leaf's values over the rows of a shape: an array when they are all of one plain number type."""
    kinds = {type(v) for v in values}
    if kinds == {float}:
        return np.array(values, dtype=np.float64)
    if kinds == {bool}:
        return np.array(values, dtype=np.bool_)
    if kinds == {int} and _INT64[0] <= min(values) and max(values) <= _INT64[1]:
        return np.array(values, dtype=np.int64)
    shared: dict[str, str] = {}
    return [shared.setdefault(v, v) if type(v) is str else v for v in values]


class FieldTable(Sequence[dict[str, Any]]):
    """The rows of ``rows`` (mappings of plain values and nested dicts), stored by column; reads give new dicts."""

    __slots__ = ("_shapes", "_shape_of_row", "_position", "_columns")

    def __init__(self, rows: Sequence[Mapping[str, Any]]):
        ids: dict[Shape, int] = {}
        leaves_by_shape: list[list[list[Any]]] = []
        shape_of_row = np.empty(len(rows), dtype=np.int32)
        position = np.empty(len(rows), dtype=np.int32)
        for i, row in enumerate(rows):
            leaves: list[Any] = []
            shape = _shape_of(row, leaves)
            sid = ids.setdefault(shape, len(ids))
            if sid == len(leaves_by_shape):
                leaves_by_shape.append([[] for _ in leaves])
            columns = leaves_by_shape[sid]
            shape_of_row[i] = sid
            position[i] = len(columns[0]) if columns else 0
            for column, value in zip(columns, leaves):
                column.append(value)
        self._shapes: list[Shape] = list(ids)
        self._shape_of_row, self._position = shape_of_row, position
        self._columns = [[_column(c) for c in columns] for columns in leaves_by_shape]

    def __len__(self) -> int:
        return len(self._shape_of_row)

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        sid, at = int(self._shape_of_row[i]), int(self._position[i])
        return _build(
            self._shapes[sid], (c.item(at) if isinstance(c, np.ndarray) else c[at] for c in self._columns[sid])
        )

    def __iter__(self) -> Iterator[dict[str, Any]]:
        columns = [[c.tolist() if isinstance(c, np.ndarray) else c for c in cols] for cols in self._columns]
        shapes = self._shapes
        for sid, at in zip(self._shape_of_row.tolist(), self._position.tolist()):
            yield _build(shapes[sid], (c[at] for c in columns[sid]))
