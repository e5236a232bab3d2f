"""Recommend a training recipe from the data and the goal (pure python; no torch).

The rules, in the order they are applied (each adds a plain-words reason to the answer):

1. **Continued pre-training first** when the domain corpus is large (≥ ``CPT_MIN_TOKENS``, ~1B
   tokens) or the user says it is far from public data (a new language, a private jargon): SFT alone
   teaches format, not knowledge; a billion tokens of new text is where CPT starts to pay.  CPT runs
   on the **base** model (continued pre-training erodes a chat model's alignment anyway), then SFT
   turns it back into an assistant.
2. **Base model + mixed general/domain SFT** when general ability must not drop: tuning a chat
   model on narrow domain data overwrites what its own (unavailable) SFT/RLHF data taught it;
   starting from the base model and mixing general instructions with the domain ones keeps both.
3. Otherwise **the chat model + domain SFT**: cheapest, keeps the vendor's alignment, good when only
   the domain task matters.

Method: full fine-tuning for the CPT stage (LoRA absorbs little new knowledge), LoRA for SFT stages,
full fine-tuning for very large SFT sets, and ``full_then_lora`` when the SFT set is large and far
from public data.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.training_spec.spec import StageSpec, TrainingSpec

CPT_MIN_TOKENS = 1_000_000_000
CPT_FLOOR_TOKENS = 50_000_000  # below this, CPT is noise even for unusual data
FULL_SFT_MIN_ROWS = 200_000
LARGE_SFT_ROWS = 20_000


class PlanRequest(BaseModel):
    """What the user has and wants."""

    model_config = ConfigDict(extra="forbid")

    domain_corpus_tokens: int = Field(0, ge=0, description="Tokens of raw domain text (documents, not Q&A).")
    domain_sft_rows: int = Field(0, ge=0, description="Instruction rows for the domain.")
    general_sft_rows: int = Field(0, ge=0, description="General instruction rows available to mix in.")
    keep_general_ability: bool = Field(True, description="General ability must not drop.")
    far_from_public_data: bool = Field(False, description="Domain text unlike public web data (language, jargon).")
    chat_model_available: bool = Field(True, description="A chat/instruct variant of the base model exists.")


class PlannedStage(BaseModel):
    name: str
    mode: Literal["sft", "pretrain"]
    method: str
    data: str = Field(description="Which data this stage trains on.")


class PlanRead(BaseModel):
    model_kind: Literal["base", "chat"]
    stages: list[PlannedStage]
    reasons: list[str]
    warnings: list[str] = Field(default_factory=list)
    spec: TrainingSpec | None = Field(
        None, description="The plan as a training spec (`spec` of POST /v1/training-jobs)."
    )
    training_job: dict | None = Field(
        None,
        description=(
            "A body for POST /v1/training-jobs: the spec with the dataset of each stage. It can be posted as is when "
            "`missing` is empty."
        ),
    )
    missing: list[str] = Field(default_factory=list, description="What to fill in before `training_job` can be posted.")


#: Placeholder base model in a spec when the request named none (the job refuses it until replaced).
BASE_MODEL_PLACEHOLDER = "/path/to/base-model"
#: Learning rates the spec starts from: full fine-tuning needs a much smaller step than an adapter.
PLAN_LR = {"full": 2e-5, "full_then_lora": 2e-4, "lora": 2e-4}


def plan_spec(plan: PlanRead, base_model: str | None) -> TrainingSpec:
    """The recommended recipe as a :class:`TrainingSpec`: one stage, or the stages in order."""
    common = {"base_model": base_model or BASE_MODEL_PLACEHOLDER, "model_kind": plan.model_kind}
    if len(plan.stages) == 1:
        st = plan.stages[0]
        return TrainingSpec(**common, method=st.method, mode=st.mode, lr=PLAN_LR.get(st.method, 2e-4))  # type: ignore[arg-type]
    return TrainingSpec(
        **common,
        method=plan.stages[-1].method,  # type: ignore[arg-type]
        stages=[
            StageSpec(
                name=st.name,
                mode=st.mode,
                method=st.method,  # type: ignore[arg-type]
                lr=PLAN_LR.get(st.method, 2e-4),
            )
            for st in plan.stages
        ],
    )


def with_training_job(plan: PlanRead, base_model: str | None, datasets: dict[str, str | None]) -> PlanRead:
    """Attach the spec and a POST /v1/training-jobs body; ``datasets`` maps a stage's ``data`` to a dataset id."""
    spec = plan_spec(plan, base_model)
    missing = [] if base_model else ["base_model: the local path of the model to fine-tune"]
    by_stage: dict[str, str] = {}
    for st in plan.stages:
        ds = datasets.get(st.data)
        if ds:
            by_stage[st.name] = ds
        elif st.data == "general + domain SFT, mixed":
            missing.append(
                f"stage {st.name!r}: one dataset of general and domain rows mixed — curate the domain "
                "dataset with policy.mix = [{dataset_id: <general>, ratio: …}] and give the curated id"
            )
        else:
            missing.append(f"stage {st.name!r}: a dataset of {st.data}")
    body: dict = {"spec": spec.model_dump(mode="json", exclude_defaults=True)}
    if len(plan.stages) == 1:
        body["dataset_id"] = by_stage.get(plan.stages[0].name)
    else:
        body["stage_datasets"] = by_stage
    return plan.model_copy(update={"spec": spec, "training_job": body, "missing": missing})


def _sft_method(rows: int, far: bool) -> str:
    if rows >= FULL_SFT_MIN_ROWS:
        return "full"
    if far and rows >= LARGE_SFT_ROWS:
        return "full_then_lora"
    return "lora"


def recommend_plan(req: PlanRequest) -> PlanRead:
    reasons: list[str] = []
    warnings: list[str] = []
    stages: list[PlannedStage] = []
    tokens = req.domain_corpus_tokens
    cpt = tokens >= CPT_MIN_TOKENS or (req.far_from_public_data and tokens >= CPT_FLOOR_TOKENS)

    if cpt:
        why = (
            f"the domain corpus is large ({tokens:,} tokens ≥ {CPT_MIN_TOKENS:,})"
            if tokens >= CPT_MIN_TOKENS
            else "the domain text is far from public data"
        )
        reasons.append(f"Continued pre-training first: {why}; SFT teaches format and behaviour, not new knowledge.")
        reasons.append(
            "Start from the base model: continued pre-training would erode a chat model's alignment, "
            "and SFT afterwards restores the assistant behaviour."
        )
        stages.append(PlannedStage(name="pretrain", mode="pretrain", method="full", data="domain corpus"))
        model_kind = "base"
    elif req.far_from_public_data and tokens:
        warnings.append(
            f"The domain text is unusual but small ({tokens:,} tokens < {CPT_FLOOR_TOKENS:,}); "
            "continued pre-training on it would mostly overfit, so it is skipped."
        )

    if not cpt and req.keep_general_ability:
        model_kind = "base"
        reasons.append(
            "General ability must not drop: start from the base model and mix general instructions "
            "with the domain ones, instead of narrowing a chat model whose own SFT data you cannot mix back in."
        )
    elif not cpt:
        model_kind = "chat" if req.chat_model_available else "base"
        reasons.append(
            "Only the domain task matters: fine-tune the chat model on the domain SFT data "
            "(cheapest, keeps the vendor's alignment)."
            if req.chat_model_available
            else "No chat variant exists: fine-tune the base model on the domain SFT data."
        )

    sft_rows = req.domain_sft_rows + (req.general_sft_rows if model_kind == "base" else 0)
    method = _sft_method(sft_rows, req.far_from_public_data)
    if model_kind == "base" and req.general_sft_rows:
        stages.append(PlannedStage(name="sft", mode="sft", method=method, data="general + domain SFT, mixed"))
        if req.domain_sft_rows and req.general_sft_rows < req.domain_sft_rows:
            warnings.append(
                "Less general than domain SFT data: aim for at least as many general rows as domain "
                "rows to keep general ability."
            )
    elif model_kind == "base" and req.keep_general_ability:
        stages.append(PlannedStage(name="sft", mode="sft", method=method, data="domain SFT"))
        warnings.append(
            "No general SFT data given: a base model tuned on domain data alone will be a narrow "
            "assistant; add general instructions (e.g. a curated Alpaca/LIMA subset)."
        )
    else:
        stages.append(PlannedStage(name="sft", mode="sft", method=method, data="domain SFT"))
    reasons.append(
        {
            "lora": f"LoRA for SFT: {sft_rows:,} rows is small enough that low-rank updates match full fine-tuning.",
            "full": f"Full fine-tuning for SFT: {sft_rows:,} rows carries more than a low-rank update can hold.",
            "full_then_lora": f"full_then_lora: {sft_rows:,} rows far from public data; a short full phase moves the "
            "weights toward the domain, LoRA finishes cheaply.",
        }[method]
    )
    if not req.domain_sft_rows and not req.general_sft_rows:
        warnings.append("No SFT data given: the plan needs instruction rows for its SFT stage.")
    return PlanRead(model_kind=model_kind, stages=stages, reasons=reasons, warnings=warnings)
