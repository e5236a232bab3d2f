"""Training throughput: our loop vs a plain HF ``Trainer``, packing on vs off, and bottleneck adapters vs LoRA.

    /work/main/.venv/bin/python bench/training_speed.py [--rows 256] [--repeats 3] [--threads 1] [--only-adapter]

Both sides train the same tiny random-init Llama (built in code) on the same encoded rows
(Alpaca rows from ../shared/data when present, else synthetic rows with Alpaca-like lengths), for
one epoch: the same micro-batches (padded to their longest row), AdamW, a constant LR.  Tokens/s
counts real (non-pad) tokens.  Each measurement is repeated and the best kept.  On a shared CPU machine wall-clock
throughput swings with other people's load, so tokens per CPU-second of the process (1 torch
thread) is printed beside it: it counts only the work done, not the time waited for a core.  Goals: ours / Trainer ≥ 0.95 for full, LoRA and DoRA; packing on / off ≥ 2×.

The GPU part of issue 6 (MFU on a Qwen2-0.5B-shaped model) needs a lent GPU and is not run here.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scorers.samples import sample  # noqa: E402

ALPACA = ROOT.parent / "shared" / "data" / "stanford_alpaca" / "alpaca_data.json"


def load_rows(n: int):
    if ALPACA.is_file():
        data = json.loads(ALPACA.read_text())[:n]
        src = "stanford_alpaca (first rows)"
        return [
            sample(i, (r["instruction"] + ("\n\n" + r["input"] if r["input"] else "")), r["output"] or "ok")
            for i, r in enumerate(data)
        ], src
    rng = random.Random(0)
    words = "the cat dog tree river city water fire sun moon star code data model".split()
    rows = [
        sample(
            i,
            " ".join(rng.choices(words, k=rng.randint(5, 40))),
            " ".join(rng.choices(words, k=int(rng.lognormvariate(3.5, 0.9)) + 1)),
        )
        for i in range(n)
    ]
    return rows, "synthetic, Alpaca-like lengths"


def ours(model_dir, rows, method, steps, batch, packing=False, max_length=512) -> tuple[float, float]:
    """(tokens per wall second, tokens per CPU second of this process) of the training loop."""
    from app.training.runner import run_training
    from app.training_spec.spec import TrainingSpec

    spec = TrainingSpec(
        base_model=str(model_dir),
        method=method,
        lr=1e-4,
        max_steps=steps,
        batch_size=batch,
        scheduler="constant",
        max_grad_norm=1.0,
        lora_dropout=0.0,
        packing=packing,
        max_length=max_length,
        save_steps=10_000,
        overlength="truncate",
    )
    with tempfile.TemporaryDirectory() as out:
        result = run_training(spec, rows, Path(out), lambda e: None, lambda: False)
    ph = result["phases"][-1]
    return ph["tokens"] / ph["wall_s"], ph["tokens"] / ph["cpu_s"]


def hf_trainer(model_dir, rows, method, steps, batch, max_length=512) -> tuple[float, float]:
    """A plain HF Trainer fed the very same micro-batches our loop sees in one epoch (its sampler
    reorders them, but the set of batches, hence the padding and the token count, is identical)."""
    import torch
    from transformers import Trainer, TrainingArguments

    from app.training.data import BatchPlan
    from app.training.model import apply_method, load_model
    from app.training_spec.formatting import Formatter, load_tokenizer
    from app.training_spec.spec import TrainingSpec

    spec = TrainingSpec(base_model=str(model_dir), method=method, lora_dropout=0.0)
    tok = load_tokenizer(model_dir)
    enc, _ = Formatter(tok, max_length=max_length).encode_all(rows)
    plan = BatchPlan(enc, batch, tok.pad_token_id, packing=False, max_length=max_length, seed=42)
    data = [plan.micro(k) for k in range(len(plan))]
    seen = {"tokens": 0}

    def collate(feats):
        (b,) = feats
        seen["tokens"] += b.n_tokens
        return {"input_ids": b.input_ids, "labels": b.labels, "attention_mask": b.attention_mask}

    torch.manual_seed(0)
    model = apply_method(
        load_model(model_dir, "causal_lm", tok.pad_token_id, torch.device("cpu")), method, spec, "causal_lm"
    )
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            per_device_train_batch_size=1,
            max_steps=steps,
            learning_rate=1e-4,
            lr_scheduler_type="constant",
            max_grad_norm=1.0,
            save_strategy="no",
            report_to=[],
            logging_steps=10_000,
            disable_tqdm=True,
            use_cpu=True,
            dataloader_num_workers=0,
            remove_unused_columns=False,
        )
        trainer = Trainer(model=model, args=args, train_dataset=data, data_collator=collate)
        t0, cpu0 = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):
            trainer.train()
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return seen["tokens"] / elapsed, seen["tokens"] / cpu


def epoch_steps(model_dir, rows, batch, max_length=512) -> int:
    from app.training.data import BatchPlan
    from app.training_spec.formatting import Formatter, load_tokenizer

    tok = load_tokenizer(model_dir)
    enc, _ = Formatter(tok, max_length=max_length).encode_all(rows)
    return len(BatchPlan(enc, batch, tok.pad_token_id, packing=False, max_length=max_length, seed=42))


def paired(fa, fb, repeats):
    """Interleave the two sides (a, b, a, b…) after one discarded warm-up each; keep each side's best
    wall-clock and best CPU-time throughput."""
    fa(warmup=True), fb(warmup=True)
    a, b = [], []
    for _ in range(repeats):
        a.append(fa())
        b.append(fb())
    return (max(x[0] for x in a), max(x[1] for x in a)), (max(x[0] for x in b), max(x[1] for x in b))


def line(name: str, a, b, labels: tuple[str, str], goal: float | None) -> str:
    return (
        f"{name:8s} wall: {labels[0]} {a[0]:7.0f} vs {labels[1]} {b[0]:7.0f} tok/s, ratio {a[0] / b[0]:4.2f} | "
        f"cpu-time: {a[1]:7.0f} vs {b[1]:7.0f} tok/cpu-s, ratio {a[1] / b[1]:4.2f}"
        + (f"  (goal >= {goal})" if goal is not None else "")
    )


def trainable(model_dir, method: str) -> tuple[int, int]:
    """(trainable, total) parameters of ``method`` on the bench model."""
    import torch

    from app.training.model import apply_method, load_model
    from app.training_spec.spec import TrainingSpec

    model = apply_method(
        load_model(model_dir, "causal_lm", 0, torch.device("cpu")),
        method,
        TrainingSpec(base_model=str(model_dir), method=method),
        "causal_lm",
    )
    return sum(p.numel() for p in model.parameters() if p.requires_grad), sum(p.numel() for p in model.parameters())


def padding_share(model_dir, rows, batch, max_length=512) -> float:
    """Share of the tokens computed that are padding, without packing (what packing removes)."""
    from app.training.data import BatchPlan
    from app.training_spec.formatting import Formatter, load_tokenizer

    tok = load_tokenizer(model_dir)
    enc, _ = Formatter(tok, max_length=max_length).encode_all(rows)
    plan = BatchPlan(enc, batch, tok.pad_token_id, packing=False, max_length=max_length, seed=42)
    real = computed = 0
    for k in range(len(plan)):
        b = plan.micro(k)
        real, computed = real + b.n_tokens, computed + b.input_ids.numel()
    return 1 - real / computed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--methods", default="full,lora,dora")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 is steadier on a shared machine)")
    ap.add_argument("--only-adapter", action="store_true", help="only bottleneck adapters (pfeiffer) vs LoRA")
    args = ap.parse_args()

    import torch
    import transformers

    torch.set_num_threads(args.threads)

    from app.training.toy import build_toy_model

    transformers.logging.set_verbosity_error()
    rows, src = load_rows(args.rows)
    with tempfile.TemporaryDirectory() as d:
        model_dir = build_toy_model(Path(d) / "m", hidden=args.hidden, layers=2)
        print(
            f"data: {len(rows)} rows ({src}); model: Llama hidden={args.hidden} layers=2; batch={args.batch}; "
            f"torch threads={torch.get_num_threads()}; best of {args.repeats}"
        )
        steps = epoch_steps(model_dir, rows, args.batch)  # one epoch: both sides see every batch once
        # bottleneck adapters (method "adapter", Pfeiffer: one per feed-forward block) beside LoRA (r=8, all-linear)
        ad, lo = paired(
            lambda warmup=False: ours(model_dir, rows, "adapter", 2 if warmup else steps, args.batch),
            lambda warmup=False: ours(model_dir, rows, "lora", 2 if warmup else steps, args.batch),
            args.repeats,
        )
        print(line("adapter", ad, lo, ("adapter", "LoRA"), None), flush=True)
        (ta, total), (tl, _) = trainable(model_dir, "adapter"), trainable(model_dir, "lora")
        print(f"         trainable params: adapter {ta:,} vs LoRA {tl:,} of {total:,}")
        if args.only_adapter:
            return
        for method in [m for m in args.methods.split(",") if m]:
            a, b = paired(
                lambda m=method, warmup=False: ours(model_dir, rows, m, 2 if warmup else steps, args.batch),
                lambda m=method, warmup=False: hf_trainer(model_dir, rows, m, 2 if warmup else steps, args.batch),
                args.repeats,
            )
            print(line(method, a, b, ("ours", "Trainer"), 0.95), flush=True)
        on, off = paired(
            lambda warmup=False: ours(model_dir, rows, "lora", 2 if warmup else steps, args.batch, packing=True),
            lambda warmup=False: ours(model_dir, rows, "lora", 2 if warmup else steps, args.batch, packing=False),
            args.repeats,
        )
        pad = padding_share(model_dir, rows, args.batch)
        print(line("packing", on, off, ("on", "off"), 2.0))
        print(f"padding share without packing {pad:.0%} (ceiling from padding alone {1 / (1 - pad):.2f}x)")
    print("GPU MFU benchmark: skipped (no GPU lent to this task).")


if __name__ == "__main__":
    main()
