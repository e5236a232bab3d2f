"""What a family of checks found in one answer (shared by the accuracy and completeness checks)."""

from __future__ import annotations

from dataclasses import dataclass, field

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
