"""The training loop for one phase: our own torch loop, for exact control of loss scaling and resume.

Loss scaling under gradient accumulation: every micro-batch contributes the **sum** of its per-item
losses (tokens for causal LM, pairs for reward), divided by the number of items in the whole
accumulated step.  The step's gradient is therefore the mean over all supervised tokens of the step,
whatever their split across micro-batches or padding, which a mean-of-means would not give.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from app.training import checkpoint
from app.training.distributed import Dist
from app.training.model import load_trainable_state, trainable_state
from app.training_spec.formatting import IGNORE


class MicroBatch(Protocol):
    n_tokens: int

    @property
    def n_items(self) -> int: ...

    def to(self, device: torch.device) -> MicroBatch: ...


Objective = Callable[[nn.Module, Any], tuple[torch.Tensor, int | torch.Tensor, int | torch.Tensor]]


@dataclass
class PhaseConfig:
    stage: str
    method: str
    lr: float
    total_steps: int
    warmup_steps: int
    scheduler: str
    weight_decay: float
    max_grad_norm: float | None
    grad_accum: int
    micro_offset: int  # global micro-steps consumed by earlier phases of the same stage (x world = index)
    eval_steps: int | None
    save_steps: int
    keep_checkpoints: int
    autocast: torch.dtype | None
    job_step_offset: int = 0
    job_total_steps: int = 0


def causal_lm_objective(model: nn.Module, b: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(sum of token losses, supervised tokens, correctly predicted tokens), all on the device.

    The counts stay tensors, so a training step does not wait for the GPU in the middle (``evaluate`` reads them);
    the labels are shifted rather than the logits, so the (batch x length x vocabulary) logits are not copied.
    """
    kwargs = {"input_ids": b.input_ids, "attention_mask": b.attention_mask, "use_cache": False}
    if b.position_ids is not None:
        kwargs["position_ids"] = b.position_ids
    logits = model(**kwargs).logits
    length = b.input_ids.shape[1]
    logits = logits[:, -length:, :]  # prompt tuning prepends virtual tokens
    target = F.pad(b.labels[:, 1:], (0, 1), value=IGNORE)  # position t predicts token t + 1; the last predicts none
    flat = logits.reshape(-1, logits.shape[-1]).float()
    weights = getattr(b, "weights", None)
    if weights is None:
        loss = F.cross_entropy(flat, target.reshape(-1), ignore_index=IGNORE, reduction="sum")
    else:  # per-message loss_weight: each token's loss scaled by its turn's weight
        per_token = F.cross_entropy(flat, target.reshape(-1), ignore_index=IGNORE, reduction="none")
        shifted = F.pad(weights[:, 1:], (0, 1), value=0.0)
        loss = (per_token * shifted.reshape(-1).to(per_token.dtype)).sum()
    mask = target != IGNORE
    correct = ((logits.argmax(-1) == target) & mask).sum()
    return loss, mask.sum(), correct


def schedule(kind: str, warmup: int, total: int) -> Callable[[int], float]:
    def factor(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        if kind == "constant":
            return 1.0
        progress = (step - warmup) / max(1, total - warmup)
        if kind == "linear":
            return max(0.0, 1.0 - progress)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return factor


def make_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for _, p in model.named_parameters():
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    params = decay + no_decay
    # one fused kernel for the whole update on a GPU (what HF Trainer's default adamw_torch_fused does)
    fused = bool(params) and all(p.is_cuda and p.is_floating_point() for p in params)
    return torch.optim.AdamW(
        [g for g in groups if g["params"]], lr=lr, betas=(0.9, 0.999), eps=1e-8, **({"fused": True} if fused else {})
    )


def evaluate(
    model: nn.Module,
    batches: list,
    objective: Objective,
    device: torch.device,
    autocast: torch.dtype | None,
    dist: Dist = Dist(),
) -> dict[str, float]:
    """Item-weighted eval loss and accuracy (each rank takes every world-th batch; sums are reduced)."""
    if not batches:
        return {}
    was_training = model.training
    model.eval()
    loss_sum, items, correct = 0.0, 0, 0
    with torch.no_grad():
        for b in batches[dist.rank :: dist.world]:
            with _autocast(device, autocast):
                loss, n, c = objective(model, b.to(device))
            loss_sum, items, correct = loss_sum + float(loss), items + int(n), correct + int(c)
    model.train(was_training)
    loss_sum, items, correct = dist.sum(loss_sum, items, correct)
    items, correct = int(items), int(correct)
    return {"eval_loss": loss_sum / max(1, items), "eval_accuracy": correct / max(1, items), "eval_items": items}


def _autocast(device: torch.device, dtype: torch.dtype | None):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def accumulate(
    model: nn.Module,
    micros: list,
    objective: Objective,
    device: torch.device,
    autocast: torch.dtype | None = None,
    scaler=None,
    dist: Dist = Dist(),
) -> tuple[float, int]:
    """Backward over one optimiser step's micro-batches; returns (mean loss per item, tokens seen).

    Each micro-batch's summed loss is divided by the item count of the *whole* step (all ranks),
    so the accumulated gradient equals that of one big batch.  DDP averages gradients over ranks,
    hence the factor ``world``.
    """
    (denom,) = dist.sum(sum(m.n_items for m in micros))
    denom = max(1.0, denom)
    summed: torch.Tensor | float = 0.0
    tokens = 0
    for i, m in enumerate(micros):
        sync = i == len(micros) - 1 or not hasattr(model, "no_sync")
        with _autocast(device, autocast), contextlib.nullcontext() if sync else model.no_sync():
            loss_sum, _, _ = objective(model, m.to(device))
            scaled = loss_sum * dist.world / denom
            (scaler.scale(scaled) if scaler else scaled).backward()
        summed = summed + loss_sum.detach()  # read once per step, not per micro-batch (each read waits for the GPU)
        tokens += m.n_tokens
    total, tokens = dist.sum(float(summed), tokens)
    return total / denom, int(tokens)


def train_phase(
    model: nn.Module,
    micro: Callable[[int], Any],
    eval_set: list,
    cfg: PhaseConfig,
    objective: Objective,
    ckpt_root: Path,
    ckpt_config: dict[str, Any],
    device: torch.device,
    emit: Callable[[dict], None],
    should_stop: Callable[[], bool],
    dist: Dist = Dist(),
) -> dict[str, Any]:
    """Run (or resume) one phase.  Returns ``{"status": "completed"|"stopped", "step", "eval", ...}``.

    Under data parallelism ``model`` is the bare model; it is wrapped in DDP here, rank 0 alone
    saves and emits, and all ranks resume from the same checkpoint.
    """
    model.train()
    net = model
    if dist.active:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    opt = make_optimizer(model, cfg.lr, cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule(cfg.scheduler, cfg.warmup_steps, cfg.total_steps))
    scaler = torch.amp.GradScaler(device.type) if cfg.autocast == torch.float16 and device.type == "cuda" else None
    params = [p for p in model.parameters() if p.requires_grad]

    start, resumed_from = 0, None
    ck = checkpoint.latest(ckpt_root)
    if ck is not None:
        saved = checkpoint.load_config(ck)
        if saved.get("spec") != ckpt_config.get("spec") or saved.get("phase") != ckpt_config.get("phase"):
            raise ValueError(f"{ck} was written by a different spec or phase; use a fresh out_dir for a new job")
        state = checkpoint.load(ck)
        load_trainable_state(model, state["trainable"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        checkpoint.set_rng_state(state["rng"])
        start, resumed_from = int(state["step"]), ck.name

    def save(step: int) -> None:
        if dist.main:
            state = {
                "trainable": trainable_state(model),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "rng": checkpoint.rng_state(),
                "step": step,
            }
            checkpoint.save(ckpt_root, step, state, {**ckpt_config, "step": step}, cfg.keep_checkpoints)
        dist.barrier()

    base = {"stage": cfg.stage, "method": cfg.method, "total_steps": cfg.total_steps}
    tokens, t0, cpu0, last_eval, loss = 0, time.perf_counter(), time.process_time(), {}, float("nan")
    for step in range(start, cfg.total_steps):
        micros = [
            micro((cfg.micro_offset + step * cfg.grad_accum + k) * dist.world + dist.rank)
            for k in range(cfg.grad_accum)
        ]
        loss, n_tok = accumulate(net, micros, objective, device, cfg.autocast, scaler, dist)
        tokens += n_tok
        if scaler:
            scaler.unscale_(opt)
        grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm or float("inf"))
        if scaler:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        lr = sched.get_last_lr()[0]
        sched.step()
        opt.zero_grad(set_to_none=True)

        done = step + 1
        elapsed = time.perf_counter() - t0
        rate = (done - start) / elapsed if elapsed > 0 else 0.0
        record = {
            **base,
            "phase": "training",
            "step": done,
            "loss": loss,
            "lr": lr,
            "grad_norm": float(grad_norm),
            "tokens_per_s": tokens / elapsed if elapsed > 0 else 0.0,
            "eta_s": (cfg.total_steps - done) / rate if rate > 0 else None,
            "job_step": cfg.job_step_offset + done,
            "job_total_steps": cfg.job_total_steps,
        }
        emit(record)
        if eval_set and cfg.eval_steps and done % cfg.eval_steps == 0 and done < cfg.total_steps:
            emit({**base, "phase": "evaluating", "step": done})
            last_eval = evaluate(model, eval_set, objective, device, cfg.autocast, dist)
            emit({**base, "phase": "evaluating", "step": done, **last_eval})
        stop = dist.decide(should_stop() if dist.main else False)
        if done % cfg.save_steps == 0 or (stop and done < cfg.total_steps):
            save(done)
        if stop and done < cfg.total_steps:
            return {"status": "stopped", "step": done, "resumed_from": resumed_from, "loss": loss}

    if eval_set:
        emit({**base, "phase": "evaluating", "step": cfg.total_steps})
        last_eval = evaluate(model, eval_set, objective, device, cfg.autocast, dist)
        emit({**base, "phase": "evaluating", "step": cfg.total_steps, **last_eval})
    elapsed = time.perf_counter() - t0
    # cpu_s: this process's CPU time, a contention-proof cost figure on shared CPU machines
    return {
        "status": "completed",
        "step": cfg.total_steps,
        "resumed_from": resumed_from,
        "loss": loss,
        "eval": last_eval,
        "tokens": tokens,
        "tokens_per_s": tokens / elapsed if elapsed > 0 else 0.0,
        "wall_s": elapsed,
        "cpu_s": time.process_time() - cpu0,
    }
