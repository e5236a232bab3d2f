"""What a family of checks found in one answer (shared by the accuracy and completeness checks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scorers.base import Flag


@dataclass
class Findings:
    checked: int = 0
    failed: int = 0
    flags: list[Flag] = field(default_factory=list)

    @property
    def score(self) -> float | None:
        """None when nothing could be checked; 1.0 when every check passed; at most 0.5 once one failed."""
        if self.checked == 0:
            return None
        if self.failed == 0:
            return 1.0
        return 0.5 * (self.checked - self.failed) / self.checked


def checks_summary(result: Any, field: str) -> dict[str, int]:
    """The dataset figures of a checks scorer (answer_accuracy, answer_completeness) from its rows' ``field``
    entries ({score, checked, failed}) and flags: one definition, rebuilt the same from chunks."""
    rows = [f[field] for f in result.fields]
    return {
        "samples_checked": sum(1 for r in rows if r["checked"] > 0),
        "checks": sum(r["checked"] for r in rows),
        "checks_failed": sum(r["failed"] for r in rows),
        "samples_failed": sum(1 for fl in result.flags if fl),
    }
