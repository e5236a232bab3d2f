"""The mypy baseline only shrinks: a new error fails, a fixed one must leave the file (tools/mypy_baseline.py)."""

from __future__ import annotations

import importlib.util
from collections import Counter

from tests.paths import ROOT

_spec = importlib.util.spec_from_file_location("mypy_baseline", ROOT / "tools" / "mypy_baseline.py")
assert _spec is not None and _spec.loader is not None
mb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mb)

OUT = """app/a.py:10: error: "X" has no attribute "y"  [attr-defined]
app/a.py:12: note: see line 10
app/a.py:40: error: "X" has no attribute "y"  [attr-defined]
scorers/b.py:3:7: error: Name "z" already defined on line 2  [no-redef]
Found 3 errors in 2 files (checked 2 source files)
"""


def test_errors_are_keyed_without_their_line_numbers():
    keys = mb.normalise(OUT)
    assert keys == Counter(
        {
            'app/a.py: "X" has no attribute "y"  [attr-defined]': 2,
            'scorers/b.py: Name "z" already defined on line N  [no-redef]': 1,
        }
    )
    moved = OUT.replace(":10:", ":11:").replace(":40:", ":41:").replace("line 2", "line 5")
    assert mb.normalise(moved) == keys


def test_a_new_error_fails_and_a_fixed_one_must_leave_the_baseline(tmp_path):
    baseline = mb.normalise(OUT)
    path = tmp_path / "baseline.txt"
    mb.write_baseline(baseline, path)
    assert mb.read_baseline(path) == baseline
    assert mb.compare(baseline, baseline) == ([], [])
    one_more = baseline + Counter({'app/a.py: "X" has no attribute "y"  [attr-defined]': 1})
    assert mb.compare(one_more, baseline) == (['app/a.py: "X" has no attribute "y"  [attr-defined]'], [])
    fixed = Counter({'app/a.py: "X" has no attribute "y"  [attr-defined]': 2})
    assert mb.compare(fixed, baseline) == ([], ['scorers/b.py: Name "z" already defined on line N  [no-redef]'])


def test_the_committed_baseline_parses():
    baseline = mb.read_baseline()
    assert baseline and all(k.split(":", 1)[0].endswith(".py") and k.endswith("]") for k in baseline)
