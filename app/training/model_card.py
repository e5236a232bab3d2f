"""The ``README.md`` of a training job's artifacts: a model card written from what the job knows.

PEFT's ``save_pretrained`` writes a template full of "[More Information Needed]"; this replaces it with
the base model, the method and its settings, the data (dataset, audit and curation ids, row counts,
sha256), the losses, how to load the result, and the library versions.  Pure string building.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

LOADING = {
    "peft": (
        "from peft import AutoPeftModelForCausalLM\n"
        'model = AutoPeftModelForCausalLM.from_pretrained("{dir}")  # base: {base}'
    ),
    "bottleneck": (
        "from app.training.bottleneck import load_adapter_model  # sftaudit\n"
        'model = load_adapter_model("{dir}")  # base: {base}'
    ),
    "full": 'from transformers import AutoModelForCausalLM\nmodel = AutoModelForCausalLM.from_pretrained("{dir}")',
}
METHOD_KEYS = {
    "lora": ("lora_r", "lora_alpha", "lora_dropout", "lora_target_modules"),
    "dora": ("lora_r", "lora_alpha", "lora_dropout", "lora_target_modules"),
    "adapter": ("adapter_variant", "adapter_reduction_factor", "adapter_non_linearity"),
    "freeze": ("freeze_trainable_layers", "freeze_trainable_modules"),
    "prompt_tuning": ("num_virtual_tokens",),
    "prefix_tuning": ("num_virtual_tokens",),
    "p_tuning": ("num_virtual_tokens",),
}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return json.dumps(v) if isinstance(v, (list, dict)) else str(v)


def _source_lines(sources: dict[str, Any]) -> list[str]:
    lines = []
    for stage, src in (sources.get("datasets") or {}).items():
        parts = [f"dataset `{src.get('dataset_id')}`" + (f" ({src['name']})" if src.get("name") else "")]
        if src.get("curation_id"):
            parts.append(f"curation `{src['curation_id']}`")
        if src.get("audit_id"):
            parts.append(f"audit `{src['audit_id']}`")
        if src.get("parent_id"):
            parts.append(f"curated from dataset `{src['parent_id']}`")
        rows = f", {src['rows']:,} rows" if isinstance(src.get("rows"), int) else ""
        lines.append(f"- stage `{stage}`: " + ", ".join(parts) + rows)
    return lines


def model_card(
    config: dict[str, Any],
    result: dict[str, Any],
    provenance: dict[str, Any],
    metrics: Sequence[dict[str, Any]],
    kind: str,
    adapter_base: str,
) -> str:
    spec = config.get("spec", {})
    phases = result.get("phases") or []
    last = phases[-1] if phases else {}
    method = last.get("method", spec.get("method"))
    base = provenance.get("base_model", spec.get("base_model"))
    train_losses = [m["loss"] for m in metrics if "loss" in m]
    evals = [m for m in metrics if "eval_loss" in m]
    tags = ["sftaudit", str(method), spec.get("mode", "sft")]
    out = [
        "---",
        f"base_model: {base}",
        f"library_name: {'peft' if kind == 'peft' else 'transformers'}",
        "tags:",
        *[f"- {t}" for t in tags],
        "---",
        "",
        f"# {method} fine-tune of `{Path(str(base)).name}`",
        "",
        f"Trained by sftaudit: {result.get('steps')} optimiser steps on {provenance.get('rows', '?'):,} rows "
        f"({spec.get('mode', 'sft')} mode, {spec.get('model_kind', 'chat')} formatting).",
        "",
    ]
    src = _source_lines(provenance.get("sources") or {})
    out += ["## Data", ""] + (src or ["- rows given directly (no dataset id recorded)"])
    out += [f"- content sha256 of the training rows: `{provenance.get('dataset_sha256')}`", ""]
    out += [
        "## Training",
        "",
        "| phase | stage | method | steps | lr | trainable / total params | last loss |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, p in enumerate(phases):
        out.append(
            f"| {i} | {p.get('stage')} | {p.get('method')} | {p.get('steps')} | {_fmt(p.get('lr'))} | "
            f"{p.get('trainable_params', 0):,} / {p.get('total_params', 0):,} | {_fmt(p.get('loss'))} |"
        )
    settings = {k: spec[k] for k in METHOD_KEYS.get(str(method), ()) if k in spec}
    settings.update(
        {
            k: spec[k]
            for k in ("batch_size", "gradient_accumulation_steps", "max_length", "scheduler", "packing", "seed")
            if k in spec
        }
    )
    out += ["", "Settings: " + ", ".join(f"`{k}={_fmt(v)}`" for k, v in settings.items()), ""]
    if train_losses:
        out.append(f"Training loss: {train_losses[0]:.4f} at the first step, {train_losses[-1]:.4f} at the last.")
    if evals:
        out.append(
            f"Evaluation loss: {evals[-1]['eval_loss']:.4f} (accuracy {evals[-1].get('eval_accuracy', 0):.3f}) "
            f"on {evals[-1].get('eval_items', '?')} held-out tokens."
        )
    out += [
        "",
        "## Load",
        "",
        "```python",
        LOADING[kind].format(dir="path/to/final", base=adapter_base if kind != "full" else base),
        "```",
        "",
        "## Provenance",
        "",
        f"- base model sha256: `{provenance.get('base_model_sha256')}`",
        f"- device: {provenance.get('device')}, processes: {provenance.get('world_size')}",
        "- libraries: " + ", ".join(f"{k} {v}" for k, v in (provenance.get("libraries") or {}).items()),
        "- full record: `provenance.json`, `training_config.json`, `metrics.jsonl`, `eval_results.json`",
        "",
    ]
    return "\n".join(out)
