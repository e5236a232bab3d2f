"""What a training job asks for: the validated spec the API accepts and the worker runs.

Pure pydantic; imports neither torch nor transformers, so the API process can validate a request
without loading any model code.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Method = Literal[
    "full", "freeze", "lora", "dora", "prompt_tuning", "prefix_tuning", "p_tuning", "full_then_lora", "adapter"
]
PROMPT_LEARNING_METHODS = frozenset({"prompt_tuning", "prefix_tuning", "p_tuning"})
#: Bottleneck adapters (Houlsby / Pfeiffer): trained like a peft adapter, but non-linear, so never merged.
BOTTLENECK_METHODS = frozenset({"adapter"})
#: Methods that cannot feed a later stage (nothing to merge into the weights).
UNMERGEABLE_METHODS = PROMPT_LEARNING_METHODS | BOTTLENECK_METHODS
ADAPTER_METHODS = frozenset({"lora", "dora"}) | PROMPT_LEARNING_METHODS
REWARD_METHODS = frozenset({"full", "freeze", "lora", "dora"})
#: bound on every count a spec carries (steps, sizes): no request holds a number storage or JSON cannot
MAX_COUNT = 10**9


class StageSpec(BaseModel):
    """One stage of a multi-stage recipe; starts from the previous stage's weights.

    Unset fields inherit from the enclosing :class:`TrainingSpec`.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Stage name; key of the samples dict.")
    mode: Literal["sft", "pretrain"] | None = Field(
        None, description="sft: loss on assistant turns; pretrain: loss on all tokens."
    )
    method: Method | None = None
    lr: float | None = Field(None, gt=0)
    epochs: float | None = Field(None, gt=0)
    max_steps: int | None = Field(None, ge=1, le=MAX_COUNT)


class TrainingSpec(BaseModel):
    """A fine-tuning job: base model, method, data handling and optimiser options."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    base_model: str = Field(
        max_length=1000,
        description=(
            "A model name from the operator's registry (models.registry), a model directory under a model root "
            "(models.roots; absolute or relative to the root), or job:<id> of one of this project's finished training jobs."
        ),
    )
    task: Literal["causal_lm", "reward"] = Field(
        "causal_lm",
        description="causal_lm: next-token training; reward: a scalar head trained on chosen/rejected pairs.",
    )
    method: Method = "lora"
    mode: Literal["sft", "pretrain"] = "sft"
    model_kind: Literal["base", "chat"] = Field(
        "chat",
        description="chat: use the tokenizer's chat template; base: the documented default format, and "
        "LoRA also trains the embeddings when new special tokens were added.",
    )
    stages: list[StageSpec] | None = Field(None, description="Chained stages, each from the previous stage's weights.")

    # schedule
    lr: float = Field(2e-4, gt=0)
    epochs: float = Field(1.0, gt=0)
    max_steps: int | None = Field(None, ge=1, le=MAX_COUNT, description="Overrides epochs when set.")
    batch_size: int = Field(4, ge=1, le=MAX_COUNT, description="Micro-batch size (rows per forward pass).")
    gradient_accumulation_steps: int = Field(1, ge=1, le=MAX_COUNT)
    warmup_ratio: float = Field(0.0, ge=0, le=0.5)
    warmup_steps: int | None = Field(None, ge=0, le=MAX_COUNT, description="Overrides warmup_ratio when set.")
    scheduler: Literal["linear", "cosine", "constant"] = "cosine"
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float | None = Field(1.0, gt=0)
    seed: int = Field(42, ge=0, le=2**31 - 1)
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="auto: bf16 on a GPU that supports it, else fp32."
    )
    gradient_checkpointing: bool = False
    compile: bool = Field(
        False,
        description="torch.compile the model: a one-off compile (about a minute for a 0.5B model) buys faster steps on "
        "a GPU by fusing the small element-wise kernels (H200, 0.5B model, full fine-tuning at batch 8 x 2048: "
        "84k tokens/s compiled, 72k not; docs/benchmarks.md). Off by default: it costs more than it saves on "
        "short jobs and on CPU.",
    )

    # data
    max_length: int = Field(1024, ge=8, le=MAX_COUNT)
    overlength: Literal["truncate", "drop"] = "truncate"
    packing: bool = Field(False, description="Concatenate rows up to max_length; attention never crosses rows.")
    eval_fraction: float = Field(0.0, ge=0, lt=0.5)
    eval_steps: int | None = Field(None, ge=1, le=MAX_COUNT, description="Evaluate every N steps (always at the end).")

    # method options
    lora_r: int = Field(8, ge=1, le=MAX_COUNT)
    lora_alpha: int = Field(16, ge=1, le=MAX_COUNT)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    lora_target_modules: list[str] | Literal["all-linear"] = "all-linear"
    freeze_trainable_layers: int = Field(2, ge=0, le=MAX_COUNT, description="freeze: train the last N decoder layers.")
    freeze_trainable_modules: list[str] = Field(
        default_factory=list, description="freeze: also train parameters whose name contains one of these."
    )
    num_virtual_tokens: int = Field(16, ge=1, le=512)
    adapter_variant: Literal["pfeiffer", "houlsby"] = Field(
        "pfeiffer",
        description="adapter: pfeiffer = one bottleneck after each feed-forward block (AdapterHub's "
        "SeqBn); houlsby = also one after each attention block (DoubleSeqBn).",
    )
    adapter_reduction_factor: int = Field(
        16, ge=1, le=1024, description="adapter: bottleneck width = hidden size / this."
    )
    adapter_non_linearity: Literal["relu", "swish", "gelu"] = "relu"
    full_then_lora_fraction: float = Field(0.2, ge=0.1, le=0.3)
    full_then_lora_full_lr: float | None = Field(
        None, gt=0, description="Learning rate of the full fine-tuning phase (default lr / 10)."
    )

    # checkpoints and export
    save_steps: int = Field(50, ge=1, le=MAX_COUNT, description="Checkpoint every N optimiser steps.")
    keep_checkpoints: int = Field(2, ge=1, le=MAX_COUNT)
    export_merged: bool = Field(False, description="Also write merged full weights for adapter methods.")

    @model_validator(mode="after")
    def _consistent(self) -> TrainingSpec:
        methods = {self.method} | {s.method for s in self.stages or [] if s.method}
        if self.export_merged and methods & BOTTLENECK_METHODS:
            raise ValueError("export_merged: bottleneck adapters are non-linear and cannot be merged into the weights")
        if self.packing and methods & PROMPT_LEARNING_METHODS:
            raise ValueError("packing cannot be combined with prompt/prefix/p-tuning (virtual tokens are per row)")
        if self.task == "reward":
            if self.stages:
                raise ValueError("task 'reward' is a single stage")
            if self.method not in REWARD_METHODS:
                raise ValueError(f"task 'reward' supports methods {sorted(REWARD_METHODS)}, not {self.method!r}")
            if self.packing:
                raise ValueError("task 'reward' scores whole rows; packing does not apply")
        if self.stages:
            names = [s.name for s in self.stages]
            if len(set(names)) != len(names):
                raise ValueError(f"stage names must be unique, got {names}")
            for s in self.resolved_stages()[:-1]:
                if s.method in UNMERGEABLE_METHODS:
                    raise ValueError(
                        f"stage {s.name!r}: {s.method} cannot feed a later stage (virtual tokens and bottleneck "
                        "adapters do not merge into weights); use it in the last stage only"
                    )
        return self

    def resolved_stages(self) -> list[StageSpec]:
        """Every stage with inherited fields filled in (a single unnamed stage 'main' when none given)."""
        stages = self.stages or [StageSpec(name="main")]
        return [
            StageSpec(
                name=s.name,
                mode=s.mode or self.mode,
                method=s.method or self.method,
                lr=s.lr or self.lr,
                epochs=s.epochs or self.epochs,
                max_steps=s.max_steps if s.max_steps is not None else (None if s.epochs else self.max_steps),
            )
            for s in stages
        ]
