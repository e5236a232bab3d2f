"""The GPU figures of one short lease, in one run: training MFU against HF Trainer, model-signal throughput and a
bigger noise-injection closed loop (issue #17).

    python bench/gpu_figures.py prepare                          # on a CPU machine with the shared data: fills .gpu/
    python bench/noise_loop.py --export-arms .gpu/loop_arms.json # the closed loop's audits and curations, on CPU
    python bench/gpu_figures.py run --out DIR [--parts mfu,signals,loop] [--budget-s 420]   # on the GPU machine
    python bench/gpu_figures.py run --tiny --out /tmp/g          # the same code paths on CPU at toy size

``run`` needs only what a GPU machine's image holds (torch, transformers, peft, tokenizers; pydantic travels as
wheels): no database, no web framework, no shared data. Its inputs are made on a CPU machine and travel in ``.gpu/``:

* ``alpaca_20k.json``: 20,000 Alpaca rows (seeded sample) for the model signals, and ``bpe/``, a byte-level BPE
  tokenizer of 32,000 tokens trained on them (so token counts are those of real text);
* ``loop_arms.json``: every seed's four arms (curated, random, all, oracle) and the held-out rows, audited and
  curated by the product on CPU (``bench/noise_loop.py --export-arms``); only the training moves to the GPU.

Every part writes its lines as it goes (``DIR/gpu_figures.log``) and its figures to ``DIR/gpu_figures.json``, and
a part that would overrun ``--budget-s`` is skipped, so a lease that ends early still returns what was measured.

1. **Training MFU.** A random-init Qwen2-0.5B-shaped model, bf16 autocast over fp32 weights, 2048-token packed rows,
   batch 4: full fine-tuning, LoRA r=16 on every linear layer, and ``full_then_lora``, through our loop
   (``run_training``, the product's path) and through HF Trainer on the same model, adapter and micro-batches.
   Tokens/s are steady-state (the first steps of every phase, which pay for the kernels' first calls, are left
   out). MFU = tokens/s x model FLOPs per token / peak (``bench/training_mfu.py`` gives the FLOP count; peak: the
   datasheet's 989 TFLOP/s dense bf16, as MFU is usually reported). A profiled run of our full fine-tuning prints
   the GPU time per kernel family and the GPU's busy share.
2. **Model signals.** Perplexity and IFD (one pass with the prompt, one without) on the 20,000 rows with a
   Qwen2-0.5B-shaped causal LM (random init: speed only), through the product's ``build_pairs`` and
   ``answer_losses``, with the CPU batch sizes and with the GPU defaults. Rows/s include the tokenisation.
3. **Closed loop.** The four arms of each seed, each trained from scratch with the same recipe on a ~30M-parameter
   Llama (the closed loop's model, wider and deeper), evaluated on the clean held-out rows; the table is the one
   ``bench/noise_loop.py`` prints.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GPU_DIR = ROOT / ".gpu"
PEAK_TFLOPS = 989.0  # H100/H200 SXM dense bf16, datasheet


class Out:
    """Lines to stdout and a log file; figures to a JSON file rewritten after every part."""

    def __init__(self, out: Path):
        out.mkdir(parents=True, exist_ok=True)
        self.log_path, self.json_path = out / "gpu_figures.log", out / "gpu_figures.json"
        self.figures: dict[str, Any] = {}
        self.t0 = time.perf_counter()

    def __call__(self, line: str = "") -> None:
        stamped = f"[{time.perf_counter() - self.t0:6.1f}s] {line}"
        print(stamped, flush=True)
        with self.log_path.open("a") as f:
            f.write(stamped + "\n")

    def save(self, key: str, value: Any) -> None:
        self.figures[key] = value
        self.json_path.write_text(json.dumps(self.figures, indent=1, default=str))

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0


# --- 1. training MFU ------------------------------------------------------------------------------------------
def _steady(times: list[float], skip: int) -> tuple[int, float]:
    """(steps, seconds) after the first ``skip`` steps of a phase (timestamps of step ends)."""
    if len(times) <= skip + 1:
        return len(times) - 1, times[-1] - times[0]
    return len(times) - 1 - skip, times[-1] - times[skip]


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


@contextlib.contextmanager
def loop_before_fixes():
    """Our loop as it was before the GPU run was prepared (commit 3277f81): AdamW without its fused kernel, the step
    waiting for the GPU after every forward (token counts read as Python ints) and the shifted logits copied before
    the loss. Patched in for one run, so the fixes are measured against the old loop on the same chip."""
    import torch
    import torch.nn.functional as F

    from app.training import loop
    from app.training_spec.formatting import IGNORE

    def objective(model, b):
        kwargs = {"input_ids": b.input_ids, "attention_mask": b.attention_mask, "use_cache": False}
        if b.position_ids is not None:
            kwargs["position_ids"] = b.position_ids
        logits = model(**kwargs).logits
        length = b.input_ids.shape[1]
        logits = logits[:, -length:, :][:, :-1, :]
        target = b.labels[:, 1:]
        flat = logits.reshape(-1, logits.shape[-1]).float()
        loss = F.cross_entropy(flat, target.reshape(-1), ignore_index=IGNORE, reduction="sum")
        mask = target != IGNORE
        return loss, int(mask.sum()), int(((logits.argmax(-1) == target) & mask).sum())

    def optimizer(model, lr, weight_decay):
        decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
        no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
        groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr, betas=(0.9, 0.999), eps=1e-8)

    def accumulate(model, micros, objective, device, autocast=None, scaler=None, dist=loop.Dist()):
        (denom,) = dist.sum(sum(m.n_items for m in micros))
        denom = max(1.0, denom)
        total, tokens = 0.0, 0
        for m in micros:
            with loop._autocast(device, autocast):
                loss_sum, _, _ = objective(model, m.to(device))
                (loss_sum * dist.world / denom).backward()
            total += float(loss_sum.detach())
            tokens += m.n_tokens
        total, tokens = dist.sum(total, tokens)
        return total / denom, int(tokens)

    saved = loop.causal_lm_objective, loop.make_optimizer, loop.accumulate
    loop.causal_lm_objective, loop.make_optimizer, loop.accumulate = objective, optimizer, accumulate
    try:
        yield
    finally:
        loop.causal_lm_objective, loop.make_optimizer, loop.accumulate = saved


def run_ours(spec, rows, skip: int, profile_dir: Path | None = None) -> dict[str, Any]:
    """Our loop through ``run_training``; steady-state seconds per phase from the step events."""
    import torch

    from app.training.runner import run_training

    times: dict[str, list[float]] = {}
    prof = None
    if profile_dir is not None:
        from torch.profiler import ProfilerActivity, profile, schedule

        acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])
        prof = profile(activities=acts, schedule=schedule(wait=3, warmup=1, active=3, repeat=1))
        prof.__enter__()

    def on_progress(e: dict) -> None:
        if e.get("phase") == "training" and "loss" in e:
            _sync()
            times.setdefault(f"{e['stage']}:{e['method']}", []).append(time.perf_counter())
            if prof is not None:
                prof.step()

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    with tempfile.TemporaryDirectory() as out:
        res = run_training(spec, rows, Path(out), on_progress, lambda: False)
    if prof is not None:
        prof.__exit__(None, None, None)
    phases = []
    for ph in res["phases"]:
        t = times[f"{ph['stage']}:{ph['method']}"]
        steps, secs = _steady(t, skip)
        phases.append(
            {"method": ph["method"], "steps": ph["steps"], "tokens_per_step": ph["tokens"] / ph["steps"]}
            | {"steady_steps": steps, "steady_s": secs}
        )
    peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
    return {"phases": phases, "peak_gib": peak, "profile": prof}


def run_hf(spec, rows, skip: int) -> dict[str, Any]:
    """HF Trainer on the same model, adapter and micro-batches (our BatchPlan), bf16, its default fused AdamW."""
    import torch
    from transformers import Trainer, TrainerCallback, TrainingArguments

    from app.training.model import apply_method, load_model, pick_device
    from app.training.runner import _prepare_batches
    from app.training_spec.checks import spec_tokenizer, stage_samples

    tok = spec_tokenizer(spec)
    stages = spec.resolved_stages()
    _, plans, _ = _prepare_batches(spec, stages, tok, stage_samples(spec, rows))
    plan = plans[stages[0].name]
    items = []
    for k in range(spec.max_steps):
        b = plan.micro(k)
        item = {"input_ids": b.input_ids, "labels": b.labels}
        if b.position_ids is not None:
            item["position_ids"] = b.position_ids
        if b.attention_mask is not None:
            item["attention_mask"] = b.attention_mask
        items.append(item)
    device = pick_device()
    model = apply_method(load_model(spec.base_model, spec.task, tok.pad_token_id, device), spec.method, spec, spec.task)
    times: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            _sync()
            times.append(time.perf_counter())

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    with tempfile.TemporaryDirectory() as out:
        targs = TrainingArguments(
            output_dir=out,
            per_device_train_batch_size=1,  # one item = one of our micro-batches
            max_steps=spec.max_steps,
            learning_rate=spec.lr,
            lr_scheduler_type="constant",
            weight_decay=spec.weight_decay,
            max_grad_norm=spec.max_grad_norm or 0.0,
            bf16=torch.cuda.is_available(),
            use_cpu=not torch.cuda.is_available(),
            logging_steps=10**6,
            save_strategy="no",
            report_to=[],
            disable_tqdm=True,
            remove_unused_columns=False,
            dataloader_num_workers=0,
            torch_compile=spec.compile,
            seed=spec.seed,
        )
        trainer = Trainer(model=model, args=targs, train_dataset=items, data_collator=lambda feats: feats[0])
        trainer.add_callback(Clock())
        trainer.train()
    steps, secs = _steady(times, skip)
    tokens_per_step = sum(int(it["input_ids"].numel()) for it in items) / len(items)  # full rows: no padding
    peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
    del trainer, model
    return {"steady_steps": steps, "steady_s": secs, "tokens_per_step": tokens_per_step, "peak_gib": peak}


def kernel_families(prof) -> tuple[list[tuple[str, float]], float, list[tuple[str, float]]]:
    """GPU time per kernel family and the top kernels (ms over the profiled steps)."""
    fam: dict[str, float] = {}
    top: list[tuple[str, float]] = []
    total = 0.0
    for e in prof.key_averages():
        t = getattr(e, "self_device_time_total", None)
        if t is None:
            t = getattr(e, "self_cuda_time_total", 0.0)
        if not t or getattr(e, "device_type", None) is not None and "CUDA" not in str(e.device_type):
            continue
        name = e.key
        if name.startswith("ProfilerStep") or "#" in name:  # step and optimiser annotations, not kernels
            continue
        low = name.lower()
        if any(k in low for k in ("flash", "fmha", "attention", "sdpa")):
            f = "attention"
        elif any(k in low for k in ("gemm", "nvjet", "cutlass", "xmma", "sm90_", "cublas")):
            f = "matmul"
        elif any(k in low for k in ("softmax", "nll_loss", "cross_entropy", "log_softmax")):
            f = "loss (softmax/nll)"
        elif "adam" in low or "multi_tensor" in low:
            f = "optimizer"
        elif "memcpy" in low or "memset" in low:
            f = "memcpy/memset"
        elif any(k in low for k in ("reduce", "norm")):
            f = "reductions/norms"
        else:
            f = "elementwise/other"
        fam[f] = fam.get(f, 0.0) + t / 1000
        total += t / 1000
        top.append((name[:90], t / 1000))
    top.sort(key=lambda x: -x[1])
    return sorted(fam.items(), key=lambda x: -x[1]), total, top[:15]


def mfu_part(args, out: Out) -> None:
    import torch

    from app.training_spec.spec import TrainingSpec
    from bench.training_mfu import QWEN2_05B, TINY, build, matmul_params
    from scorers.samples import Sample, Turn

    shape = TINY if args.tiny else QWEN2_05B
    seq = 128 if args.tiny else 2048
    steps = 8 if args.tiny else args.mfu_steps
    skip = 2 if args.tiny else 5
    rng = random.Random(0)
    words = "the cat dog tree river city water fire sun moon star code data model".split()
    runs = [(r.split(":")[0], int(r.split(":")[1]), r.split(":")[2:]) for r in args.mfu_runs.split(",") if r]
    first_batch = runs[0][1] if runs else 4
    n_rows = 8 * max([b for _, b, _ in runs] + [first_batch]) * 2
    rows = [Sample(i, (Turn("text", " ".join(rng.choices(words, k=seq * 2))),)) for i in range(n_rows)]
    n = matmul_params(shape)
    attn = 12 * shape["num_hidden_layers"] * shape["hidden_size"] * seq
    per_token = {"full": 6 * n + attn, "lora": 4 * n + attn}
    peak = args.peak_tflops * 1e12
    tmp = Path(tempfile.mkdtemp(prefix="gpu-mfu-"))
    t = time.perf_counter()
    model_dir = build(tmp / "m", shape)
    out(
        f"MFU: {'tiny' if args.tiny else 'Qwen2-0.5B'} shape, {n / 1e6:.0f}M matmul params, seq {seq}, packing on, "
        f"bf16 autocast; model built in {time.perf_counter() - t:.0f}s; peak {args.peak_tflops:g} TFLOP/s; "
        f"{steps} steps per run, the first {skip} of each phase left out"
    )
    figures: list[dict[str, Any]] = []

    def spec_for(method: str, batch: int, n_steps: int, compiled: bool = False) -> TrainingSpec:
        return TrainingSpec(
            compile=compiled,
            base_model=str(model_dir),
            method=method,
            mode="pretrain",
            lr=1e-5 if method == "full" else 1e-4,
            max_steps=n_steps,
            batch_size=batch,
            max_length=seq,
            packing=True,
            precision="bf16",
            scheduler="constant",
            lora_r=16,
            lora_alpha=32,
            lora_dropout=0.0,
            save_steps=10**6,
        )

    def rate(phases: list[dict]) -> tuple[float, float]:
        tokens = sum(p["steady_steps"] * p["tokens_per_step"] for p in phases)
        secs = sum(p["steady_s"] for p in phases)
        flops = sum(p["steady_steps"] * p["tokens_per_step"] * per_token[p["method"]] for p in phases)
        return tokens / secs, flops / secs / peak

    if not args.no_before:
        try:  # the same-run baseline of our own fixes: full fine-tuning through the loop as it was
            with loop_before_fixes():
                before = run_ours(spec_for("full", first_batch, steps), rows, skip)
            tps, mfu = rate(before["phases"])
            out(f"  {'full (loop before)':<15} batch {first_batch}: ours {tps:9.0f} tok/s MFU {mfu:6.1%}")
            out.save("mfu_before", {"batch": first_batch, "tokens_per_s": tps, "mfu": mfu})
        except Exception as e:
            out(f"  loop before: FAILED {type(e).__name__}: {str(e)[:300]}")
            traceback.print_exc()
    hf_rates: dict[tuple[str, int, bool], dict] = {}
    for method, batch, flags in runs:
        compiled = "compile" in flags
        label = method + (" compiled" if compiled else "")
        if out.elapsed() > args.budget_s * args.mfu_share:
            out(f"  {label} batch {batch}: skipped (time budget)")
            continue
        n_steps = steps * 2 if method == "full_then_lora" else steps
        try:
            ours = run_ours(spec_for(method, batch, n_steps, compiled), rows, skip)
            tps, mfu = rate(ours["phases"])
            fig = {"method": method, "compiled": compiled, "batch": batch, "ours_tokens_per_s": tps, "ours_mfu": mfu}
            fig |= {"ours_peak_gib": ours["peak_gib"], "ours_phases": ours["phases"]}
            line = f"  {label:<15} batch {batch}: ours {tps:9.0f} tok/s MFU {mfu:6.1%}"
            if method == "full_then_lora":  # HF has no such method: its full and LoRA rates at our step split
                hf_phases = []
                for p in ours["phases"]:
                    h = hf_rates.get((p["method"], batch, compiled))
                    if h is None:
                        break
                    hf_phases.append({**p, "steady_s": p["steady_steps"] * h["steady_s"] / h["steady_steps"]})
                if len(hf_phases) == len(ours["phases"]):
                    htps, hmfu = rate(hf_phases)
                    fig |= {"hf_tokens_per_s": htps, "hf_mfu": hmfu, "hf_note": "HF's full and LoRA rates, our split"}
                    line += f" | HF Trainer (its full + LoRA rates) {htps:9.0f} tok/s MFU {hmfu:6.1%} | ours/HF {tps / htps:5.3f}"
            else:
                h = run_hf(spec_for(method, batch, n_steps, compiled), rows, skip)
                hf_rates[(method, batch, compiled)] = h
                htps = h["steady_steps"] * h["tokens_per_step"] / h["steady_s"]
                hmfu = htps * per_token[method] / peak
                fig |= {"hf_tokens_per_s": htps, "hf_mfu": hmfu, "hf_peak_gib": h["peak_gib"]}
                line += f" | HF Trainer {htps:9.0f} tok/s MFU {hmfu:6.1%} | ours/HF {tps / htps:5.3f}"
            if ours["peak_gib"] is not None:
                line += f" | peak {ours['peak_gib']:.1f} GiB"
            out(line)
            figures.append(fig)
            out.save("mfu", figures)
        except Exception as e:  # one configuration's failure (e.g. out of memory) must not end the lease's run
            out(f"  {label} batch {batch}: FAILED {type(e).__name__}: {str(e)[:300]}")
            traceback.print_exc()
        finally:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    if out.elapsed() < args.budget_s * args.mfu_share and not args.no_profile:
        try:
            parts = (args.profile_run or f"full:{first_batch}").split(":")
            p_method, p_batch, p_compiled = parts[0], int(parts[1]), "compile" in parts[2:]
            res = run_ours(spec_for(p_method, p_batch, skip + 6, p_compiled), rows, skip, profile_dir=tmp)
            fams, total, top = kernel_families(res["profile"])
            steps_s = sum(p["steady_s"] for p in res["phases"]) / max(1, sum(p["steady_steps"] for p in res["phases"]))
            wall = 3 * steps_s * 1000
            out(
                f"profile of our {p_method}{' compiled' if p_compiled else ''} (3 steps, batch {p_batch}): GPU kernel "
                f"time {total:.0f} ms "
                f"over ~{wall:.0f} ms of steps (GPU busy ~{min(1.0, total / wall) if wall else 0:.0%})"
            )
            for f, ms in fams:
                out(f"    {f:<22} {ms:8.1f} ms  {ms / total if total else 0:6.1%}")
            out("  top kernels:")
            for name, ms in top:
                out(f"    {ms:8.1f} ms  {name}")
            out.save(
                "mfu_profile",
                {"run": ":".join(parts), "families_ms": fams, "kernel_ms": total, "steps_ms": wall, "top": top},
            )
        except Exception as e:
            out(f"  profile FAILED {type(e).__name__}: {str(e)[:300]}")
            traceback.print_exc()
    shutil.rmtree(tmp, ignore_errors=True)


# --- 2. model signals -----------------------------------------------------------------------------------------
def signals_part(args, out: Out) -> None:
    import numpy as np
    import torch
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    from bench._data import to_sample
    from bench.training_mfu import QWEN2_05B, TINY
    from scorers._lm import CPU_BATCHES, GPU_BATCHES, answer_losses, load_causal_lm
    from scorers.quality_models import LMParams, build_pairs

    rows = json.loads((GPU_DIR / "alpaca_20k.json").read_text(encoding="utf-8"))
    rows = rows[: 300 if args.tiny else args.signal_rows]
    samples = [to_sample(i, r) for i, r in enumerate(rows)]
    tok = PreTrainedTokenizerFast.from_pretrained(str(GPU_DIR / "bpe"))
    shape = dict(TINY if args.tiny else QWEN2_05B)
    if args.tiny:
        shape["vocab_size"] = len(tok)
    tmp = Path(tempfile.mkdtemp(prefix="gpu-lm-"))
    t = time.perf_counter()
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    with torch.device(dev):
        model = Qwen2ForCausalLM(
            Qwen2Config(
                **shape,
                max_position_embeddings=4096,
                pad_token_id=tok.pad_token_id,
                bos_token_id=tok.bos_token_id,
                eos_token_id=tok.eos_token_id,
            )
        )
    model.to(torch.bfloat16).save_pretrained(tmp / "lm")
    tok.save_pretrained(tmp / "lm")
    del model
    tok, model = load_causal_lm(str(tmp / "lm"), dev)  # the product's loader (bf16 on a GPU)
    p = LMParams()
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    pairs = build_pairs(tok, samples, p.max_length, p.max_answer_tokens)
    t_tok = time.perf_counter() - t
    live = [pr for pr in pairs if pr is not None]
    lens = [pr.answer_len for pr in live]
    cond, unc = [pr.conditional for pr in live], [pr.unconditional for pr in live]
    n_tok = sum(map(len, cond)) + sum(map(len, unc))
    out(
        f"signals: {len(samples)} Alpaca rows ({len(live)} with an answer), {n_tok} tokens in the two passes "
        f"(mean {sum(map(len, cond)) / len(live):.0f} with the prompt, answer {sum(lens) / len(live):.0f}); "
        f"{'tiny' if args.tiny else 'Qwen2-0.5B'}-shaped LM, vocabulary {model.config.vocab_size}, "
        f"{sum(x.numel() for x in model.parameters()) / 1e6:.0f}M parameters, {model.dtype}, on {dev} "
        f"(built in {t_build:.0f}s); tokenising both passes: {t_tok:.1f}s ({len(samples) / t_tok:.0f} rows/s)"
    )
    pad = tok.pad_token_id
    # the CPU batches, the slow baseline, on the first rows only (a seeded sample: the same lengths on average)
    n_base = min(len(live), 300 if args.tiny else args.signal_baseline_rows)
    configs = [("CPU defaults", *CPU_BATCHES, n_base)] if n_base else []
    configs += [("GPU defaults", *GPU_BATCHES, len(live))]
    configs += [(f"rows {r}, tokens {k}", r, k, len(live)) for r, k in args.signal_batches]
    figures: list[dict[str, Any]] = []
    reference = None
    for name, b_rows, b_tokens, m in configs:
        if out.elapsed() > args.budget_s * args.signals_share:
            out(f"  {name}: skipped (time budget)")
            continue
        try:
            answer_losses(model, cond[:256], lens[:256], pad, b_rows, b_tokens)  # warm-up (kernels, allocator)
            _sync()
            if torch.cuda.is_available():
                torch.cuda.reset_peak_memory_stats()
            t = time.perf_counter()
            lc = answer_losses(model, cond[:m], lens[:m], pad, b_rows, b_tokens)
            _sync()
            t_c = time.perf_counter() - t
            t = time.perf_counter()
            lu = answer_losses(model, unc[:m], lens[:m], pad, b_rows, b_tokens)
            _sync()
            t_u = time.perf_counter() - t
            ifd = np.exp(lc) / np.exp(lu)
            if reference is None:
                reference = (lc, lu)
            k = min(len(lc), len(reference[0]))
            diff = float(max(np.max(np.abs(lc[:k] - reference[0][:k])), np.max(np.abs(lu[:k] - reference[1][:k]))))
            peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else float("nan")
            n = m
            t_tok_m = t_tok * m / len(samples)
            n_tok_m = sum(map(len, cond[:m])) + sum(map(len, unc[:m]))
            fig = {
                "config": name,
                "rows": m,
                "batch_rows": b_rows,
                "batch_tokens": b_tokens,
                "conditional_s": t_c,
                "unconditional_s": t_u,
                "tokenise_s": t_tok_m,
                "perplexity_rows_per_s": n / (t_c + t_tok_m),
                "ifd_rows_per_s": n / (t_c + t_u + t_tok_m),
                "ifd_gpu_rows_per_s": n / (t_c + t_u),
                "tokens_per_s": n_tok_m / (t_c + t_u),
                "peak_gib": peak,
                "largest_loss_difference": diff,
                "ifd_finite": int(np.isfinite(ifd).sum()),
            }
            figures.append(fig)
            out.save("signals", figures)
            out(
                f"  {name:<24} {m:>6} rows: perplexity {fig['perplexity_rows_per_s']:7.0f} rows/s | IFD {fig['ifd_rows_per_s']:7.0f} "
                f"rows/s ({fig['ifd_gpu_rows_per_s']:.0f} on the GPU alone, {fig['tokens_per_s']:.0f} tokens/s) | "
                f"peak {peak:.1f} GiB | largest loss difference to the first config {diff:.1e}"
            )
        except Exception as e:
            out(f"  {name}: FAILED {type(e).__name__}: {str(e)[:300]}")
            traceback.print_exc()
        finally:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    del model
    shutil.rmtree(tmp, ignore_errors=True)


# --- 3. closed loop -------------------------------------------------------------------------------------------
def loop_part(args, out: Out) -> None:
    import torch

    from app.training.evaluate import held_out_loss
    from app.training.runner import run_training
    from app.training_spec.spec import TrainingSpec
    from bench._data import to_sample
    from bench._models import build_model

    data = json.loads((GPU_DIR / "loop_arms.json").read_text(encoding="utf-8"))
    seeds = sorted(data["seeds"], key=int)[: 1 if args.tiny else None]
    tmp = Path(tempfile.mkdtemp(prefix="gpu-loop-"))
    hidden, layers = (64, 2) if args.tiny else (args.loop_hidden, args.loop_layers)
    model_dir = build_model(data["base"], tmp / "model", hidden, layers)
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(model_dir)
    n_params = sum(x.numel() for x in __import__("transformers").AutoModelForCausalLM.from_config(cfg).parameters())
    held = [to_sample(i, r) for i, r in enumerate(data["held_out"])]
    epochs = 1 if args.tiny else args.loop_epochs
    arms = ("all", "curated", "random", "oracle")
    out(
        f"closed loop: Dolly, {data['args']['share']:.0%} injected, seeds {','.join(seeds)}, {len(held)} clean rows "
        f"held out; model from scratch: Llama {layers} layers x hidden {hidden}, {n_params / 1e6:.1f}M parameters; "
        f"{epochs:g} epochs, batch {args.loop_batch}, lr {args.loop_lr:g}, max length 256, bf16"
    )
    results = []
    t_all = time.perf_counter()
    for seed in seeds:
        d = data["seeds"][seed]
        res: dict[str, Any] = {k: d[k] for k in d if k != "arms"} | {"seed": int(seed), "arms": {}}
        t = time.perf_counter()
        for arm in arms:
            if out.elapsed() > args.budget_s:
                out(f"  seed {seed} {arm}: skipped (time budget)")
                break
            spec = TrainingSpec(
                base_model=str(model_dir),
                method="full",
                epochs=epochs,
                batch_size=args.loop_batch,
                lr=args.loop_lr,
                max_length=256,
                overlength="truncate",
                warmup_ratio=0.05,
                precision="bf16" if torch.cuda.is_available() else "fp32",
                save_steps=10**6,
                seed=int(seed),
            )
            samples = [to_sample(i, r) for i, r in enumerate(d["arms"][arm])]
            job = tmp / f"s{seed}-{arm}"
            r = run_training(spec, samples, job, lambda e: None, lambda: False)
            ev = held_out_loss(job / "final", spec, held)
            res["arms"][arm] = {"rows": len(samples), "loss": ev["held_out_loss"], "accuracy": ev["held_out_accuracy"]}
            res["arms"][arm]["steps"] = r["steps"]
            shutil.rmtree(job, ignore_errors=True)
        res["train_s"] = time.perf_counter() - t
        if len(res["arms"]) < len(arms):
            break
        results.append(res)
        out.save("loop", results)
        out(
            f"  seed {seed}: 4 arms in {res['train_s']:.0f}s: "
            + ", ".join(f"{a} {v['loss']:.4f} ({v['rows']} rows, {v['steps']} steps)" for a, v in res["arms"].items())
        )
    if results:
        from bench.noise_loop import report

        ns = argparse.Namespace(
            share=data["args"]["share"],
            seeds=",".join(str(r["seed"]) for r in results),
            steps=None,
            epochs=epochs,
            held_out=len(held),
        )
        import io

        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            report(results, ns, time.perf_counter() - t_all)
        for line in buf.getvalue().splitlines():
            out(line)
    shutil.rmtree(tmp, ignore_errors=True)


# --- prepare (CPU machine) ------------------------------------------------------------------------------------
def prepare(args) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from bench._data import read_rows

    GPU_DIR.mkdir(exist_ok=True)
    rows = read_rows("stanford_alpaca/alpaca_data.json")
    picked = [rows[i] for i in sorted(random.Random(0).sample(range(len(rows)), args.signal_rows))]
    (GPU_DIR / "alpaca_20k.json").write_text(json.dumps(picked, ensure_ascii=False))
    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        [r["instruction"] + "\n" + r["input"] + "\n" + r["output"] for r in picked],
        trainers.BpeTrainer(
            vocab_size=32000, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        ),
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    fast.save_pretrained(GPU_DIR / "bpe")
    size = sum(f.stat().st_size for f in GPU_DIR.rglob("*") if f.is_file())
    print(f"{GPU_DIR}: {len(picked)} Alpaca rows, a {len(fast)}-token BPE; {size / 2**20:.1f} MiB in all")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("prepare")
    pp.add_argument("--signal-rows", type=int, default=20000)
    rp = sub.add_parser("run")
    rp.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "/tmp/gpu_figures")))
    rp.add_argument("--parts", default="mfu,signals,loop")
    rp.add_argument("--tiny", action="store_true", help="toy shapes on CPU: checks the script, not the GPU")
    rp.add_argument("--budget-s", type=float, default=420.0, help="parts and runs that would start after this skip")
    rp.add_argument("--mfu-share", type=float, default=0.45, help="MFU runs start only before this share of the budget")
    rp.add_argument("--signals-share", type=float, default=0.7)
    rp.add_argument("--mfu-steps", type=int, default=20)
    rp.add_argument(
        "--mfu-runs",
        default="full:4,lora:4,full_then_lora:4,full:8",
        help="method:batch[:compile], comma-separated; ':compile' runs ours with spec.compile and HF with torch_compile",
    )
    rp.add_argument("--no-profile", action="store_true")
    rp.add_argument(
        "--profile-run", default=None, help="method:batch[:compile] to profile (default full:<first batch>)"
    )
    rp.add_argument("--no-before", action="store_true", help="skip the run of the loop as it was before the fixes")
    rp.add_argument("--peak-tflops", type=float, default=PEAK_TFLOPS)
    rp.add_argument("--signal-rows", type=int, default=20000)
    rp.add_argument("--signal-baseline-rows", type=int, default=5000, help="rows for the CPU batch sizes (slow)")
    rp.add_argument(
        "--signal-batches",
        default="",
        type=lambda s: [tuple(int(x) for x in c.split("/")) for c in s.split(",") if c],
        help="more (rows/tokens) batch settings to time, e.g. 512/131072",
    )
    rp.add_argument("--loop-hidden", type=int, default=512)
    rp.add_argument("--loop-layers", type=int, default=6)
    rp.add_argument("--loop-epochs", type=float, default=3.0)
    rp.add_argument("--loop-batch", type=int, default=16)
    rp.add_argument("--loop-lr", type=float, default=1e-3)
    args = ap.parse_args()
    if args.cmd == "prepare":
        prepare(args)
        return
    import torch

    out = Out(args.out)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    import transformers

    out(f"torch {torch.__version__}, transformers {transformers.__version__}, GPU {gpu}, argv {' '.join(sys.argv[1:])}")
    out.save("environment", {"torch": torch.__version__, "transformers": transformers.__version__, "gpu": gpu})
    if not torch.cuda.is_available() and not args.tiny:
        sys.exit("no CUDA GPU: use --tiny to check the script on CPU")
    parts = {"mfu": mfu_part, "signals": signals_part, "loop": loop_part}
    for name in args.parts.split(","):
        try:
            parts[name](args, out)
        except Exception as e:
            out(f"{name}: FAILED {type(e).__name__}: {str(e)[:500]}")
            traceback.print_exc()
    out(f"done in {out.elapsed():.0f}s")


if __name__ == "__main__":
    main()
