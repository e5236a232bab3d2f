"""Load a base model and make the right parameters trainable for a method.

full: everything.  freeze: the last N decoder layers plus named modules.  lora/dora and the
prompt-learning methods: a peft adapter.  adapter: bottleneck adapters (app/training/bottleneck.py).  ``model_kind='base'`` also trains the input/output
embeddings (peft ``modules_to_save`` for adapters): a base model has never seen the chat template's
role tokens, so their embeddings must learn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from app.training_spec.formatting import load_tokenizer  # noqa: F401  (re-exported for callers)
from app.training_spec.spec import PROMPT_LEARNING_METHODS


def pick_device() -> torch.device:
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for a precision setting (None: plain fp32)."""
    if precision == "auto":
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else None
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def load_model(path: str | Path, task: str, pad_token_id: int | None, device: torch.device) -> nn.Module:
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    if task == "reward":
        model = AutoModelForSequenceClassification.from_pretrained(str(path), num_labels=1, dtype=torch.float32)
        model.config.pad_token_id = pad_token_id
    else:
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32)
    model.config.use_cache = False
    return model.to(device)


def _decoder_layers(model: nn.Module) -> nn.ModuleList:
    for name, mod in model.named_modules():
        if isinstance(mod, nn.ModuleList) and name.endswith("layers") and len(mod) > 0:
            return mod
    raise ValueError("cannot find the decoder layers of this model (no '*layers' ModuleList)")


def _embedding_module_names(model: nn.Module) -> list[str]:
    names = []
    emb = model.get_input_embeddings()
    out = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    for name, mod in model.named_modules():
        if mod is emb or (out is not None and mod is out):
            names.append(name.split(".")[-1])
    return names


def apply_method(model: nn.Module, method: str, spec: Any, task: str) -> nn.Module:
    """Return the model to train (possibly peft-wrapped) with ``requires_grad`` set for ``method``."""
    train_embeddings = spec.model_kind == "base"
    if method == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        return model
    if method == "freeze":
        for p in model.parameters():
            p.requires_grad_(False)
        layers = _decoder_layers(model)
        n = min(spec.freeze_trainable_layers, len(layers))
        for layer in list(layers)[len(layers) - n :]:
            for p in layer.parameters():
                p.requires_grad_(True)
        names = list(spec.freeze_trainable_modules)
        if train_embeddings:
            names += _embedding_module_names(model)
        if task == "reward":
            names.append("score")
        for name, p in model.named_parameters():
            if any(key in name for key in names):
                p.requires_grad_(True)
        if not any(p.requires_grad for p in model.parameters()):
            raise ValueError("freeze: no parameter is trainable (freeze_trainable_layers=0 and no module matched)")
        return model
    if method == "adapter":
        from app.training.bottleneck import add_adapters, config_from_spec

        model = add_adapters(model, config_from_spec(spec, spec.base_model))
        if train_embeddings:  # a base model must learn the chat template's role tokens
            names = _embedding_module_names(model)
            for name, p in model.named_parameters():
                if any(name.split(".")[-2:-1] == [k] for k in names):
                    p.requires_grad_(True)
        return model
    return _apply_peft(model, method, spec, task, train_embeddings)


def _apply_peft(model: nn.Module, method: str, spec: Any, task: str, train_embeddings: bool) -> nn.Module:
    from peft import LoraConfig, PrefixTuningConfig, PromptEncoderConfig, PromptTuningConfig, TaskType, get_peft_model

    task_type = TaskType.SEQ_CLS if task == "reward" else TaskType.CAUSAL_LM
    if method in ("lora", "dora"):
        target = spec.lora_target_modules
        cfg = LoraConfig(
            task_type=task_type,
            r=spec.lora_r,
            lora_alpha=spec.lora_alpha,
            lora_dropout=spec.lora_dropout,
            target_modules=target,
            use_dora=method == "dora",
            modules_to_save=_embedding_module_names(model) if train_embeddings and task != "reward" else None,
        )
    elif method in PROMPT_LEARNING_METHODS:
        kw = {"task_type": task_type, "num_virtual_tokens": spec.num_virtual_tokens}
        cfg = {
            "prompt_tuning": PromptTuningConfig,
            "prefix_tuning": PrefixTuningConfig,
            "p_tuning": PromptEncoderConfig,
        }[method](**kw)
    else:
        raise ValueError(f"unknown method {method!r}")
    return get_peft_model(model, cfg)


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().cpu().clone() for n, p in model.named_parameters() if p.requires_grad}


def load_trainable_state(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    params = dict(model.named_parameters())
    missing = [n for n, p in params.items() if p.requires_grad and n not in state]
    unknown = [n for n in state if n not in params]
    if missing or unknown:
        raise ValueError(f"checkpoint does not match the model: missing {missing[:3]}, unknown {unknown[:3]}")
    with torch.no_grad():
        for n, t in state.items():
            params[n].copy_(t.to(params[n].device))
