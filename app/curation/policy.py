"""A curation policy: combinable parts, each optional (pure data; no torch)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scorers import flags

DIMENSIONS = ("diversity", "answer_quality", "consistency", "difficulty", "noise")
#: per-sample fields a policy can rank by besides the dimensions: the learned quality ranker's estimate
#: that the answer is good (needs an audit where the ``learned_quality`` scorer ran).
RANK_FIELDS = ("learned_quality",)
LEVELS = ("easy", "medium", "hard")


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: int | None = Field(None, ge=1, le=10**9, description="Keep at most this many rows.")
    fraction: float | None = Field(None, gt=0, le=1, description="Keep at most this fraction of the input rows.")

    @model_validator(mode="after")
    def _one(self) -> Budget:
        if (self.rows is None) == (self.fraction is None):
            raise ValueError("give exactly one of rows or fraction")
        return self

    def size(self, n: int) -> int:
        return min(n, self.rows) if self.rows is not None else max(1, round(n * (self.fraction or 0)))


class MixPart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset_id: str
    audit_id: str | None = Field(None, description="If given, the part is curated by the same policy first.")
    ratio: float = Field(gt=0, le=1, description="Share of the final budget taken from this dataset.")


class CurationPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    drop_flags: list[str] = Field(default_factory=list, description="Drop samples carrying any of these flag codes.")
    drop_severities: list[Literal["info", "warning", "error"]] = Field(
        default_factory=list, description="Drop samples carrying any flag of these severities."
    )
    min_scores: dict[str, float] = Field(default_factory=dict, description="Per-dimension lower bounds (0–1).")
    max_scores: dict[str, float] = Field(default_factory=dict, description="Per-dimension upper bounds (0–1).")
    dedupe: bool = Field(False, description="Keep only the best sample of each duplicate group.")
    duplicate_flags: list[str] = Field(
        default_factory=lambda: sorted(flags.codes_of_kind("duplicate")),
        description="Flag codes whose `related` samples form duplicate groups (default: every code whose kind is "
        "`duplicate` in the flag table, scorers/flags.py).",
    )
    budget: Budget | None = None
    rank_by: str = Field(
        "overall",
        description="'overall' (mean of the quality dimensions), one dimension, or "
        "'learned_quality' (the learned ranker's per-sample estimate).",
    )
    diversity_threshold: float | Literal["auto"] | None = Field(
        None,
        description="DEITA's rule: accept a sample only if its cosine similarity to every accepted one is "
        "below τ. 'auto' calibrates τ for the embedding model on this data.",
    )
    embedding_tier: Literal["fast", "full"] = Field(
        "fast",
        description="Embeddings for the diversity rule: the fast static tier (dataset-wide, seconds on 50k "
        "rows) or the full encoder (finer, minutes on CPU).",
    )
    target_mix: dict[str, float] | None = Field(None, description="Target easy/medium/hard shares of the budget.")
    cluster_cap: int | None = Field(
        None, ge=1, le=10**9, description="At most this many samples per instruction cluster."
    )
    mix: list[MixPart] = Field(
        default_factory=list, description="Other datasets mixed in with these shares of the budget."
    )
    seed: int = Field(0, ge=0, le=2**31 - 1)

    @model_validator(mode="after")
    def _check(self) -> CurationPolicy:
        for name, bounds in (("min_scores", self.min_scores), ("max_scores", self.max_scores)):
            for dim, v in bounds.items():
                if dim not in DIMENSIONS:
                    raise ValueError(f"{name}: unknown dimension {dim!r}")
                if not 0 <= v <= 1:
                    raise ValueError(f"{name}.{dim} must be within [0, 1]")
        if self.rank_by != "overall" and self.rank_by not in (*DIMENSIONS, *RANK_FIELDS):
            raise ValueError(f"rank_by must be 'overall', one of {DIMENSIONS} or one of {RANK_FIELDS}")
        if self.target_mix is not None:
            if set(self.target_mix) - set(LEVELS) or abs(sum(self.target_mix.values()) - 1) > 1e-6:
                raise ValueError("target_mix maps easy/medium/hard to shares that sum to 1")
            if self.budget is None:
                raise ValueError("target_mix needs a budget")
        if isinstance(self.diversity_threshold, float) and not 0 < self.diversity_threshold <= 1:
            raise ValueError("diversity_threshold must be within (0, 1]")
        if self.mix:
            if self.budget is None or self.budget.rows is None:
                raise ValueError("mixing datasets needs a budget in rows")
            if sum(p.ratio for p in self.mix) >= 1:
                raise ValueError("mix ratios must leave a share for the main dataset (sum < 1)")
        return self
