"""A scorer's per-row fields packed into pickled blocks of rows instead of one small dict (or more) per row.

Every scorer's result is kept until the report is assembled, and later scorers read earlier ones' fields. As Python
dicts, the rows' fields were the largest part of an audit's memory: 4.9 kB a row over the default scorers on the
20k-row mixed file (``sys.getsizeof`` accounting, issue #15), most of it dict headers and float objects — an
answer_clarity row is ``{"answer_clarity": {"score": 0.93, "checked": 4, …}}``, two dicts and a float per row.
Pickled a block of rows at a time, the keys (the same string objects in every row) are written once per block and
a float is 9 bytes: such a row takes ~37 bytes. Pickle gives back equal values of the same types, keys in the same
order, so the report's bytes do not change. A table of numpy columns per key was tried first: 2.8 times the bytes
(a list column held every row's empty list) and 4.5 times slower to build than pickling.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, overload

#: rows per pickled block: a random read unpickles its whole block (the last block read is kept)
BLOCK_ROWS = 1024


class PackedRows(Sequence[dict[str, Any]]):
    """The rows of ``rows`` (mappings of picklable values), packed; a row read back is a new dict equal to the one
    stored (a read-only mapping such as a ``MappingProxyType`` comes back as a dict). Read-only: a change to a row read back
    is not kept."""

    __slots__ = ("_blocks", "_n", "_last")

    def __init__(self, rows: Sequence[Mapping[str, Any]]):
        rows = [r if type(r) is dict else dict(r) for r in rows]
        self._n = len(rows)
        self._blocks = [
            pickle.dumps(rows[a : a + BLOCK_ROWS], protocol=pickle.HIGHEST_PROTOCOL)
            for a in range(0, self._n, BLOCK_ROWS)
        ]
        self._last: tuple[int, list[dict[str, Any]]] = (-1, [])

    def __len__(self) -> int:
        return self._n

    def _block(self, b: int) -> list[dict[str, Any]]:
        if self._last[0] != b:
            self._last = (b, pickle.loads(self._blocks[b]))
        return self._last[1]

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._n))]
        if not -self._n <= i < self._n:
            raise IndexError("row index out of range")
        i %= self._n
        return self._block(i // BLOCK_ROWS)[i % BLOCK_ROWS]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for block in self._blocks:
            yield from pickle.loads(block)
