"""mypy on app/ and scorers/ against a baseline that only shrinks (``make test`` runs it).

    python tools/mypy_baseline.py            # check: fails on an error not in mypy-baseline.txt, and on a
                                             # baseline entry that no longer occurs (take it out: --update)
    python tools/mypy_baseline.py --update   # rewrite the baseline from the current errors; refuses to add any

An error is keyed by file, message and code, without its line number, so moving code does not churn the
baseline; the same error twice in one file counts twice.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "mypy-baseline.txt"
_ERROR = re.compile(r"^(?P<path>[^:\s]+\.py):\d+(?::\d+)?: error: (?P<msg>.*)$")


def normalise(mypy_output: str) -> Counter[str]:
    """The error lines of mypy's output as ``path: message  [code]`` keys, counted."""
    keys: Counter[str] = Counter()
    for line in mypy_output.splitlines():
        m = _ERROR.match(line.strip())
        if m:
            msg = re.sub(r"\bline \d+\b", "line N", m["msg"].strip())
            keys[f"{m['path']}: {msg}"] += 1
    return keys


def read_baseline(path: Path = BASELINE) -> Counter[str]:
    if not path.exists():
        return Counter()
    return Counter(line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#"))


def compare(current: Counter[str], baseline: Counter[str]) -> tuple[list[str], list[str]]:
    """(new errors, baseline entries fixed), each key repeated as often as it is over or under."""
    return sorted((current - baseline).elements()), sorted((baseline - current).elements())


def write_baseline(current: Counter[str], path: Path = BASELINE) -> None:
    header = (
        "# mypy errors accepted for now (tools/mypy_baseline.py): this list only shrinks. Fix one, then run\n"
        "# `python tools/mypy_baseline.py --update`; a new error is fixed, not added here.\n"
    )
    path.write_text(header + "".join(f"{k}\n" for k in sorted(current.elements())))


def run_mypy() -> str:
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-pretty", "--no-error-summary"], cwd=ROOT, capture_output=True, text=True
    )
    if run.returncode not in (0, 1):  # 2: mypy itself failed (bad config, crash)
        sys.exit(f"mypy failed to run:\n{run.stdout}{run.stderr}")
    return run.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the baseline (it may only shrink)")
    args = parser.parse_args(argv)
    current, baseline = normalise(run_mypy()), read_baseline()
    new, fixed = compare(current, baseline)
    if new:
        print(f"mypy: {len(new)} new error(s) not in {BASELINE.name} (fix them; the baseline only shrinks):")
        print("\n".join(f"  {k}" for k in new))
        return 1
    if args.update:
        write_baseline(current)
        print(f"mypy: baseline rewritten, {sum(current.values())} error(s) ({len(fixed)} fixed)")
        return 0
    if fixed:
        print(
            f"mypy: {len(fixed)} baseline error(s) no longer occur; take them out with "
            "`python tools/mypy_baseline.py --update`:"
        )
        print("\n".join(f"  {k}" for k in fixed))
        return 1
    print(f"mypy: {sum(current.values())} error(s), all in the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
