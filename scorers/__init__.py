"""sftaudit scorers: pure library code that turns normalised samples into scores, flags and summaries.

Usage from a notebook::

    from scorers import run_audit, sample
    out = run_audit([sample(0, "What is 2+2?", "4")], scorers=["text_length", "exact_duplicate"])
    out.report["dimensions"]["noise"]
"""

from scorers.base import (
    DIMENSIONS,
    Flag,
    NotComputed,
    Scorer,
    ScorerParams,
    ScorerResult,
    get_scorer,
    register,
    registry,
)
from scorers.models import ModelConfig
from scorers.pipeline import AuditOutput, run_audit
from scorers.samples import Sample, Turn, sample

__all__ = [
    "DIMENSIONS",
    "AuditOutput",
    "Flag",
    "ModelConfig",
    "NotComputed",
    "Sample",
    "Scorer",
    "ScorerParams",
    "ScorerResult",
    "Turn",
    "get_scorer",
    "register",
    "registry",
    "run_audit",
    "sample",
]
