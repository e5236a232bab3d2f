"""Held-out evaluation of a finished training job: loss and token accuracy of the exported model on
rows it never saw (the closed-loop experiments compare curated / random / longest subsets with it).

    python -m app.training.evaluate --final OUT/final --spec spec.json --samples heldout.jsonl --out eval.json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.training_spec.spec import TrainingSpec
from scorers.samples import Sample


def held_out_loss(final_dir: Path, spec: TrainingSpec, samples: Sequence[Sample]) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM

    from app.training.data import eval_batches
    from app.training.loop import causal_lm_objective, evaluate
    from app.training.model import pick_device
    from app.training_spec.formatting import Formatter, load_tokenizer

    device = pick_device()
    tokenizer = load_tokenizer(final_dir)
    from app.training.bottleneck import CONFIG_FILE, load_adapter_model

    if (final_dir / CONFIG_FILE).is_file():
        model = load_adapter_model(final_dir)
    elif (final_dir / "adapter_config.json").is_file():
        from peft import AutoPeftModelForCausalLM

        model = AutoPeftModelForCausalLM.from_pretrained(str(final_dir))
    else:
        model = AutoModelForCausalLM.from_pretrained(str(final_dir))
    model.to(device)
    mode = spec.resolved_stages()[-1].mode or spec.mode
    fmt = Formatter(tokenizer, mode=mode, max_length=spec.max_length, overlength=spec.overlength)
    rows, report = fmt.encode_all(samples)
    with torch.no_grad():
        out = evaluate(
            model, eval_batches(rows, spec.batch_size, tokenizer.pad_token_id), causal_lm_objective, device, None
        )
    return {
        "held_out_loss": out.get("eval_loss"),
        "held_out_accuracy": out.get("eval_accuracy"),
        "held_out_tokens": out.get("eval_items"),
        "held_out_rows": len(rows),
    }


def main(argv: Sequence[str] | None = None) -> int:
    from app.training.cli import read_samples

    ap = argparse.ArgumentParser(prog="python -m app.training.evaluate")
    ap.add_argument("--final", type=Path, required=True)
    ap.add_argument("--spec", type=Path, required=True)
    ap.add_argument("--samples", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    spec = TrainingSpec.model_validate_json(args.spec.read_text())
    samples = read_samples(args.samples, spec.model_copy(update={"stages": None}))
    result = held_out_loss(args.final, spec, samples)  # type: ignore[arg-type]
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    tmp.rename(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
