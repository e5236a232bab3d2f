"""The entry point the job worker calls: validate → load → train (per stage and phase) → export.

A job is a list of **phases**.  Each stage of ``spec.stages`` (or the single stage 'main') is one
phase, except ``full_then_lora`` which is two: full fine-tuning for ``full_then_lora_fraction`` of
the stage's steps, then LoRA on the result for the rest (the data order continues, it does not
restart).  Every phase after the first starts from the previous phase's weights, saved (adapters
merged) under ``out_dir/phases/NN-stage-method/result``.  Each phase checkpoints under its own
``checkpoints/``, so a killed job resumes inside the phase it was in; finished phases are skipped.

``run_training`` is safe to call twice: a completed job returns the stored result.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.training_spec.checks import SamplesArg, encode_stage, spec_tokenizer, stage_samples
from app.training_spec.formatting import DataValidationError
from app.training_spec.spec import ADAPTER_METHODS, BOTTLENECK_METHODS, PROMPT_LEARNING_METHODS, StageSpec, TrainingSpec
from scorers.samples import Sample


# --- phases -------------------------------------------------------------------------------------------
@dataclass
class Phase:
    index: int
    stage: StageSpec
    method: str
    lr: float
    steps: int
    micro_offset: int

    @property
    def dirname(self) -> str:
        return f"{self.index:02d}-{self.stage.name}-{self.method}"


def plan_phases(
    spec: TrainingSpec, stages: list[StageSpec], batches_per_epoch: list[int], world: int = 1
) -> list[Phase]:
    """Phases and their optimiser-step counts (an epoch is shared by ``world`` data-parallel ranks)."""
    phases: list[Phase] = []
    accum = spec.gradient_accumulation_steps * world
    for stage, n_batches in zip(stages, batches_per_epoch, strict=True):
        steps = stage.max_steps or max(1, -(-int(round(stage.epochs * n_batches)) // accum))
        if stage.method == "full_then_lora":
            if steps < 2:
                raise DataValidationError(None, f"stage {stage.name!r}: full_then_lora needs at least 2 steps")
            n_full = min(steps - 1, max(1, round(steps * spec.full_then_lora_fraction)))
            phases.append(Phase(len(phases), stage, "full", spec.full_then_lora_full_lr or stage.lr / 10, n_full, 0))
            phases.append(
                Phase(len(phases), stage, "lora", stage.lr, steps - n_full, n_full * spec.gradient_accumulation_steps)
            )
        else:
            phases.append(Phase(len(phases), stage, stage.method, stage.lr, steps, 0))
    return phases


# --- the job --------------------------------------------------------------------------------------------
def run_training(
    spec: TrainingSpec,
    samples: SamplesArg,
    out_dir: Path,
    on_progress: Callable[[dict], None],
    should_stop: Callable[[], bool],
) -> dict[str, Any]:
    """Train ``spec`` on ``samples`` (a sequence, or a dict stage name -> samples when ``spec.stages``).

    Returns ``{"status": "completed"|"stopped", "steps", "total_steps", "phases": [...], "data": {...},
    "final_dir", "artifacts"}``.  Raises :class:`DataValidationError` for unusable data.
    """
    import torch

    from app.training import distributed, export
    from app.training.loop import PhaseConfig, causal_lm_objective, train_phase
    from app.training.model import apply_method, autocast_dtype, load_model, pick_device
    from app.training.reward import reward_objective

    out_dir = Path(out_dir)
    done = out_dir / "final" / export.RESULT
    if done.is_file():
        return json.loads(done.read_text())
    dist = distributed.from_env()
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = out_dir / "metrics.jsonl"

    def emit(event: dict) -> None:
        if not dist.main:
            return
        if "loss" in event or "eval_loss" in event:
            with metrics_path.open("a") as f:
                f.write(json.dumps(event) + "\n")
        on_progress(event)

    # validating: every stage's data before any weights load
    emit({"phase": "validating"})
    tokenizer = spec_tokenizer(spec)
    by_stage = stage_samples(spec, samples)
    stages = spec.resolved_stages()
    reports, plans, evals = _prepare_batches(spec, stages, tokenizer, by_stage)
    phases = plan_phases(spec, stages, [len(plans[s.name]) for s in stages], dist.world)
    job_total = sum(p.steps for p in phases)
    objective = reward_objective if spec.task == "reward" else causal_lm_objective
    device = dist.device if dist.active else pick_device()
    autocast = autocast_dtype(spec.precision, device)
    config = {
        "spec": spec.model_dump(mode="json"),
        "phases": [{"stage": p.stage.name, "method": p.method, "steps": p.steps, "lr": p.lr} for p in phases],
    }

    base_path: str = spec.base_model
    summaries: list[dict[str, Any]] = []
    job_step = 0
    for ph in phases:
        pdir = out_dir / "phases" / ph.dirname
        result_dir, summary_file = pdir / "result", pdir / "summary.json"
        is_last = ph.index == len(phases) - 1
        if not is_last and summary_file.is_file() and (result_dir / "config.json").is_file():
            summaries.append(json.loads(summary_file.read_text()))
            base_path, job_step = str(result_dir), job_step + ph.steps
            continue

        emit({"phase": "loading", "stage": ph.stage.name, "method": ph.method, "base_model": base_path})
        torch.manual_seed(spec.seed + ph.index)
        model = load_model(base_path, spec.task, tokenizer.pad_token_id, device)
        if spec.gradient_checkpointing:
            if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5.x name
                model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
            else:
                model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model = apply_method(model, ph.method, spec, spec.task)
        if spec.compile:
            model.compile()  # in place: parameter names, checkpoints and export stay those of the plain model
        n_train = sum(p.numel() for p in model.parameters() if p.requires_grad)
        n_all = sum(p.numel() for p in model.parameters())

        cfg = PhaseConfig(
            stage=ph.stage.name,
            method=ph.method,
            lr=ph.lr,
            total_steps=ph.steps,
            warmup_steps=spec.warmup_steps if spec.warmup_steps is not None else int(spec.warmup_ratio * ph.steps),
            scheduler=spec.scheduler,
            weight_decay=spec.weight_decay,
            max_grad_norm=spec.max_grad_norm,
            grad_accum=spec.gradient_accumulation_steps,
            micro_offset=ph.micro_offset,
            eval_steps=spec.eval_steps,
            save_steps=spec.save_steps,
            keep_checkpoints=spec.keep_checkpoints,
            autocast=autocast,
            job_step_offset=job_step,
            job_total_steps=job_total,
        )
        res = train_phase(
            model,
            plans[ph.stage.name].micro,
            evals[ph.stage.name],
            cfg,
            objective,
            pdir / "checkpoints",
            {**config, "phase": ph.dirname},
            device,
            emit,
            should_stop,
            dist,
        )
        summary = {
            "stage": ph.stage.name,
            "method": ph.method,
            "steps": ph.steps,
            "lr": ph.lr,
            "trainable_params": n_train,
            "total_params": n_all,
            "base_model": base_path,
            **{k: v for k, v in res.items() if k != "status"},
        }
        if res["status"] == "stopped":
            return {
                "status": "stopped",
                "steps": job_step + res["step"],
                "total_steps": job_total,
                "phases": summaries + [summary],
                "data": reports,
            }
        summaries.append(summary)
        job_step += ph.steps

        if not is_last:
            emit({"phase": "exporting", "stage": ph.stage.name, "method": ph.method, "what": "phase_result"})
            if dist.main:
                _save_phase_result(model, tokenizer, result_dir, ph.method)
                summary_file.write_text(json.dumps(summary, indent=2, default=str))
            dist.barrier()
            base_path = str(result_dir)
            continue

        emit({"phase": "exporting", "stage": ph.stage.name, "method": ph.method, "what": "final"})
        if not dist.main:
            dist.barrier()
            return json.loads(done.read_text())
        all_samples = [s for st in stages for s in by_stage[st.name]]
        provenance = {
            "base_model": spec.base_model,
            "base_model_sha256": export.hash_model_dir(spec.base_model),
            "dataset_sha256": export.hash_samples(all_samples),
            "rows": len(all_samples),
            "libraries": export.library_versions(),
            "device": str(device),
            "world_size": dist.world,
            # the dataset, audit and curation each stage's rows came from (written by the job)
            "sources": export.read_sources(out_dir),
        }
        adapter = ph.method in ADAPTER_METHODS | BOTTLENECK_METHODS
        result = {
            "status": "completed",
            "steps": job_step,
            "total_steps": job_total,
            "phases": summaries,
            "data": reports,
            "adapter_base": base_path if adapter else None,
        }
        final = export.write_final(
            out_dir,
            model,
            tokenizer,
            is_adapter=ph.method in ADAPTER_METHODS,
            adapter_base=base_path,
            export_merged=spec.export_merged and ph.method not in PROMPT_LEARNING_METHODS,
            config=config,
            result=result,
            provenance=provenance,
            data_report=reports,
            bottleneck=ph.method in BOTTLENECK_METHODS,
        )
        for p in (out_dir / "phases").glob("*/checkpoints"):
            shutil.rmtree(p, ignore_errors=True)
        dist.barrier()
        return json.loads((final / export.RESULT).read_text())
    raise AssertionError("unreachable: a job has at least one phase")


def _prepare_batches(spec: TrainingSpec, stages: list[StageSpec], tokenizer, by_stage: dict[str, Sequence[Sample]]):
    """Per stage: the data report, the training batch plan and the eval batches."""
    from app.training.data import BatchPlan, eval_batches, split_eval
    from app.training.reward import PairPlan, eval_pair_batches

    reports, plans, evals = {}, {}, {}
    pad = tokenizer.pad_token_id
    for stage in stages:
        rows, reports[stage.name] = encode_stage(spec, stage, tokenizer, by_stage[stage.name])
        train_rows, eval_rows = split_eval(rows, spec.eval_fraction, spec.seed)
        if spec.task == "reward":
            plans[stage.name] = PairPlan(train_rows, spec.batch_size, pad, spec.seed)
            evals[stage.name] = eval_pair_batches(eval_rows, spec.batch_size, pad)
        else:
            plans[stage.name] = BatchPlan(train_rows, spec.batch_size, pad, spec.packing, spec.max_length, spec.seed)
            evals[stage.name] = eval_batches(eval_rows, spec.batch_size, pad)
        reports[stage.name].update(train_rows=len(train_rows), eval_rows=len(eval_rows))
    return reports, plans, evals


def _save_phase_result(model, tokenizer, result_dir: Path, method: str) -> None:
    from app.training.checkpoint import atomic_dir

    if method in PROMPT_LEARNING_METHODS:
        raise ValueError("prompt-learning adapters cannot feed a later phase")
    if method in ADAPTER_METHODS:
        model = model.merge_and_unload()
    with atomic_dir(result_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
