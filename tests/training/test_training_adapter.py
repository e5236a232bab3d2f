"""method "adapter": bottleneck adapters (Houlsby / Pfeiffer) learn, save, reload and generate like the other
methods; they stay out of merges and earlier stages; every job's README.md is a filled model card."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from training_factories import generate_beside_base, memorisable

from app.training.bottleneck import CONFIG_FILE, WEIGHTS_FILE, load_adapter_model
from app.training.runner import run_training
from app.training_spec.spec import TrainingSpec


def train(model_path, out, variant="pfeiffer", steps=16, method="adapter", lr=5e-2, **kw):
    spec = TrainingSpec(
        base_model=str(model_path),
        method=method,
        lr=lr,
        max_steps=steps,
        batch_size=4,
        scheduler="constant",
        save_steps=8,
        adapter_variant=variant,
        **kw,
    )
    events: list[dict] = []
    return run_training(spec, memorisable(12), out, events.append, lambda: False), events


@pytest.mark.parametrize("variant, per_layer", [("pfeiffer", 1), ("houlsby", 2)])
def test_adapter_reloads_changes_the_model_and_generates(variant, per_layer, chat_model, tmp_path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    result, events = train(chat_model, tmp_path, variant)
    final = tmp_path / "final"
    assert (final / CONFIG_FILE).is_file() and (final / WEIGHTS_FILE).is_file()
    assert not (final / "model.safetensors").exists() and not (final / "adapter_config.json").exists()
    phase = result["phases"][-1]
    hidden = 48
    width = hidden // 16
    layers = 2
    assert phase["trainable_params"] == layers * per_layer * (2 * hidden * width + width + hidden)
    assert result["adapter_base"] == str(chat_model)

    model = load_adapter_model(final)
    base = AutoModelForCausalLM.from_pretrained(chat_model).eval()
    generate_beside_base(model, base, AutoTokenizer.from_pretrained(final))
    # the reloaded model is the trained one: its loss on the training rows is the loss training ended at
    from app.training.evaluate import held_out_loss

    spec = TrainingSpec(base_model=str(chat_model), method="adapter", batch_size=4)
    reloaded = held_out_loss(final, spec, memorisable(12))["held_out_loss"]
    last = [e["loss"] for e in events if e.get("phase") == "training"][-4:]
    assert reloaded < max(last) * 1.2


def test_adapter_stays_out_of_merges_and_earlier_stages(chat_model) -> None:
    with pytest.raises(ValidationError, match="cannot be merged"):
        TrainingSpec(base_model=str(chat_model), method="adapter", export_merged=True)
    with pytest.raises(ValidationError, match="cannot feed a later stage"):
        TrainingSpec(
            base_model=str(chat_model), stages=[{"name": "a", "method": "adapter"}, {"name": "b", "method": "lora"}]
        )


@pytest.mark.parametrize("method", ["lora", "adapter"])
def test_readme_is_a_model_card_from_provenance(method, chat_model, tmp_path) -> None:
    (tmp_path / "sources.json").write_text(
        json.dumps(
            {
                "datasets": {
                    "main": {
                        "dataset_id": "ds1",
                        "name": "alpaca (curated)",
                        "rows": 12,
                        "curation_id": "cur1",
                        "audit_id": "aud1",
                        "parent_id": "ds0",
                    }
                }
            }
        )
    )
    lr = 5e-2
    result, _ = train(chat_model, tmp_path, method=method, lr=lr, steps=4)
    card = (tmp_path / "final" / "README.md").read_text()
    assert "More Information Needed" not in card
    assert f"base_model: {chat_model}" in card and f"# {method} fine-tune of `chat`" in card
    assert "dataset `ds1` (alpaca (curated))" in card and "curation `cur1`" in card and "audit `aud1`" in card
    assert "4 optimiser steps on 12 rows" in card
    prov = json.loads((tmp_path / "final" / "provenance.json").read_text())
    assert prov["sources"]["datasets"]["main"]["curation_id"] == "cur1"
