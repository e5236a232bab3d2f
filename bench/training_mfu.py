"""GPU throughput and MFU of our loop: a random-init Qwen2-0.5B-shaped model, 2048-token rows, bf16.

    python bench/training_mfu.py [--methods full,lora] [--batch 4] [--steps 20] [--peak-tflops 989]

Needs a CUDA GPU (not run in CI). ``bench/gpu_figures.py`` measures the same loop on a GPU against HF Trainer (figures:
docs/benchmarks.md, *GPU figures on an H200*).  ``--tiny`` runs the same
code path on CPU with a toy shape, to check the script itself.

MFU = achieved model FLOPs / peak.  Model FLOPs per token: full fine-tuning 6·N + 12·L·d·T
(forward 2N, backward 4N, plus attention scores and values, PaLM appendix B); LoRA 4·N + 12·L·d·T
(frozen weights need no weight gradients; the adapters' own FLOPs are negligible).  N counts every
matmul weight including the output head, not the embedding lookup.  ``--peak-tflops`` defaults to
the H100 SXM dense bf16 figure (989).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QWEN2_05B = dict(
    hidden_size=896,
    intermediate_size=4864,
    num_hidden_layers=24,
    num_attention_heads=14,
    num_key_value_heads=2,
    vocab_size=151936,
    tie_word_embeddings=True,
)
TINY = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
    vocab_size=400,
    tie_word_embeddings=True,
)


def build(path: Path, shape: dict) -> Path:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from app.training.toy import build_toy_tokenizer

    tok = build_toy_tokenizer(chat_template=False)
    cfg = Qwen2Config(
        **shape,
        max_position_embeddings=4096,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    Qwen2ForCausalLM(cfg).save_pretrained(path)
    tok.save_pretrained(path)  # ids < 400 only; the FLOPs do not depend on which ids
    return path


def matmul_params(shape: dict) -> int:
    d, f, n_layers = shape["hidden_size"], shape["intermediate_size"], shape["num_hidden_layers"]
    kv = d * shape["num_key_value_heads"] // shape["num_attention_heads"]
    per_layer = d * d * 2 + d * kv * 2 + 3 * d * f  # q, o, k, v, gate/up/down
    return n_layers * per_layer + d * shape["vocab_size"]  # + output head


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--methods", default="full,lora")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seq", type=int, default=2048)
    ap.add_argument("--peak-tflops", type=float, default=989.0)
    ap.add_argument("--gradient-checkpointing", action="store_true")
    ap.add_argument("--tiny", action="store_true", help="toy shape on CPU: checks the script, not the GPU")
    args = ap.parse_args()

    import torch

    from app.training.runner import run_training
    from app.training_spec.spec import TrainingSpec
    from scorers.samples import Sample, Turn

    if not torch.cuda.is_available() and not args.tiny:
        sys.exit("no CUDA GPU: this benchmark needs one (use --tiny to check the script on CPU)")
    shape = TINY if args.tiny else QWEN2_05B
    seq = 128 if args.tiny else args.seq
    rng = random.Random(0)
    words = "the cat dog tree river city water fire sun moon star code data model".split()
    rows = [Sample(i, (Turn("text", " ".join(rng.choices(words, k=seq * 2))),)) for i in range(args.batch * 40)]
    n = matmul_params(shape)
    attn = 12 * shape["num_hidden_layers"] * shape["hidden_size"] * seq
    with tempfile.TemporaryDirectory() as d:
        model_dir = build(Path(d) / "m", shape)
        print(
            f"shape {'tiny' if args.tiny else 'Qwen2-0.5B'}: {n / 1e6:.0f}M matmul params, seq {seq}, "
            f"batch {args.batch}, bf16, device {'cuda' if torch.cuda.is_available() else 'cpu'}"
        )
        for method in args.methods.split(","):
            spec = TrainingSpec(
                base_model=str(model_dir),
                method=method,
                mode="pretrain",
                lr=1e-5 if method == "full" else 1e-4,
                max_steps=args.steps,
                batch_size=args.batch,
                max_length=seq,
                precision="bf16",
                gradient_checkpointing=args.gradient_checkpointing,
                scheduler="constant",
                lora_dropout=0.0,
                save_steps=10_000,
            )
            with tempfile.TemporaryDirectory() as out:
                res = run_training(spec, rows, Path(out), lambda e: None, lambda: False)
            ph = res["phases"][-1]
            tps = ph["tokens"] / ph["wall_s"]
            flops_per_token = (6 if method == "full" else 4) * n + attn
            mfu = tps * flops_per_token / (args.peak_tflops * 1e12)
            print(
                f"{method:5s} {tps:10.0f} tok/s   MFU {mfu:6.1%}   (goal >= 35%; peers ~40% for LoRA on H100)",
                flush=True,
            )


if __name__ == "__main__":
    main()
