"""Bottleneck adapters (Houlsby et al. 2019; Pfeiffer et al. 2021): ``method: "adapter"``.

A small block — down-projection to ``hidden / reduction_factor``, a non-linearity, up-projection, plus a
residual — is added after a decoder layer's sublayers while every weight of the model stays frozen:

* ``pfeiffer`` (AdapterHub's ``SeqBnConfig``, its default): one adapter after the feed-forward block;
* ``houlsby`` (``DoubleSeqBnConfig``): one after the attention block and one after the feed-forward block.

The up-projection starts at zero, so training starts from exactly the base model.  The adapters hook the
sublayers' outputs (``register_forward_hook``), so the base model's parameter names and forward pass are
untouched and any decoder with ``*.layers[i].self_attn`` / ``.mlp`` works.

Why written here: AdapterHub's ``adapters`` package (BnConfig) pins ``transformers ~= 4.57`` and cannot be
installed beside transformers 5.x, and PEFT (0.21) has no bottleneck adapter (its "adapters" are LoRA-family
weight updates or prompt methods).  The block is twenty lines; what it must match is measured in
tests/training/test_training_methods.py (learns, saves, reloads, generates) like every other method.

Files: ``bottleneck_config.json`` (variant, sizes, base model) and ``bottleneck_adapter.safetensors`` (every
trainable parameter: the adapters, plus the embeddings for ``model_kind='base'``).  Load with
:func:`load_adapter_model`.  Adapters are non-linear: they cannot be merged into the weights.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

CONFIG_FILE = "bottleneck_config.json"
WEIGHTS_FILE = "bottleneck_adapter.safetensors"
ACTIVATIONS = {"relu": nn.ReLU, "swish": nn.SiLU, "gelu": nn.GELU}
SITES = {"pfeiffer": ("mlp",), "houlsby": ("self_attn", "mlp")}


@dataclass
class BottleneckConfig:
    variant: Literal["houlsby", "pfeiffer"] = "pfeiffer"
    reduction_factor: int = 16
    non_linearity: str = "relu"
    hidden_size: int = 0
    base_model_name_or_path: str = ""


class Bottleneck(nn.Module):
    """h + up(act(down(h))); ``up`` starts at zero so the adapted model starts as the base model."""

    def __init__(self, hidden: int, reduction_factor: int, non_linearity: str):
        super().__init__()
        width = max(1, hidden // reduction_factor)
        self.down = nn.Linear(hidden, width)
        self.act = ACTIVATIONS[non_linearity]()
        self.up = nn.Linear(width, hidden)
        nn.init.normal_(self.down.weight, std=1e-2)
        nn.init.zeros_(self.down.bias)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.up(self.act(self.down(h)))


def _hook(adapter: Bottleneck):
    def hook(module: nn.Module, args: Any, output: Any) -> Any:
        if isinstance(output, tuple):  # attention returns (hidden, weights, …)
            return (adapter(output[0]), *output[1:])
        return adapter(output)

    return hook


def add_adapters(model: nn.Module, cfg: BottleneckConfig) -> nn.Module:
    """Freeze ``model`` and attach trainable bottleneck adapters (``model.bottleneck_adapters``)."""
    from app.training.model import _decoder_layers

    for p in model.parameters():
        p.requires_grad_(False)
    cfg.hidden_size = int(model.config.hidden_size)
    ref = next(model.parameters())
    adapters = nn.ModuleDict()
    for i, layer in enumerate(_decoder_layers(model)):
        for site in SITES[cfg.variant]:
            sub = getattr(layer, site, None)
            if sub is None:
                raise ValueError(
                    f"adapter: decoder layer {i} has no '{site}' block to attach a {cfg.variant} adapter to"
                )
            adapter = Bottleneck(cfg.hidden_size, cfg.reduction_factor, cfg.non_linearity).to(ref.device)
            adapters[f"{i}_{site}"] = adapter
            sub.register_forward_hook(_hook(adapter))
    model.add_module("bottleneck_adapters", adapters)
    model.bottleneck_config = cfg  # type: ignore[assignment]
    return model


def config_from_spec(spec: Any, base_model: str) -> BottleneckConfig:
    return BottleneckConfig(
        variant=spec.adapter_variant,
        reduction_factor=spec.adapter_reduction_factor,
        non_linearity=spec.adapter_non_linearity,
        base_model_name_or_path=str(base_model),
    )


def save_adapter(model: nn.Module, out: Path, base_model: str) -> None:
    """Write the config and every trainable parameter (safetensors) into ``out``."""
    from safetensors.torch import save_file

    cfg: BottleneckConfig = model.bottleneck_config  # type: ignore[assignment]
    cfg.base_model_name_or_path = str(base_model)
    state = {n: p.detach().cpu().contiguous() for n, p in model.named_parameters() if p.requires_grad}
    save_file(state, str(out / WEIGHTS_FILE))
    (out / CONFIG_FILE).write_text(json.dumps(asdict(cfg), indent=2))


def load_adapter_model(final_dir: str | Path, base_model: str | Path | None = None, device: str = "cpu") -> nn.Module:
    """The base model with the saved adapters attached, ready to evaluate or ``generate``."""
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    final = Path(final_dir)
    cfg = BottleneckConfig(**json.loads((final / CONFIG_FILE).read_text()))
    model = AutoModelForCausalLM.from_pretrained(str(base_model or cfg.base_model_name_or_path), dtype=torch.float32)
    add_adapters(model, cfg)
    state = load_file(str(final / WEIGHTS_FILE))
    params = dict(model.named_parameters())
    unknown = [n for n in state if n not in params]
    missing = [n for n in params if n.startswith("bottleneck_adapters.") and n not in state]
    if unknown or missing:
        raise ValueError(
            f"{final}: adapter weights do not match the model: unknown {unknown[:3]}, missing {missing[:3]}"
        )
    with torch.no_grad():
        for n, t in state.items():
            params[n].copy_(t)
    return model.to(device).eval()
