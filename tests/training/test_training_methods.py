"""Every method trains, exports and reloads; invariants, not golden numbers."""

from __future__ import annotations

import json

import pytest
import torch
from training_factories import generate_beside_base, memorisable, plain_text

from app.training.runner import run_training
from app.training_spec.spec import TrainingSpec

LR = {
    "full": 3e-3,
    "freeze": 5e-3,
    "lora": 5e-2,
    "dora": 5e-2,
    "prompt_tuning": 1.0,
    "prefix_tuning": 0.1,
    "p_tuning": 0.1,
    "full_then_lora": 5e-2,
    "adapter": 5e-2,
}


def train(model_path, out, method, steps=16, **kw):
    spec = TrainingSpec(
        base_model=str(model_path),
        method=method,
        lr=LR[method],
        max_steps=steps,
        batch_size=4,
        scheduler="constant",
        lora_dropout=0.0,
        save_steps=8,
        **kw,
    )
    events: list[dict] = []
    result = run_training(spec, memorisable(12), out, events.append, lambda: False)
    return spec, result, events


def first_last_loss(events):
    losses = [e["loss"] for e in events if e.get("phase") == "training"]
    return sum(losses[:2]) / 2, sum(losses[-2:]) / 2


@pytest.mark.parametrize(
    "method", ["full", "freeze", "lora", "dora", "prompt_tuning", "prefix_tuning", "p_tuning", "adapter"]
)
def test_method_learns_a_memorisable_set_and_exports(method, chat_model, tmp_path):
    spec, result, events = train(chat_model, tmp_path, method)
    first, last = first_last_loss(events)
    assert result["status"] == "completed" and result["steps"] == 16
    assert last < first * 0.9, (method, first, last)
    phases = [e["phase"] for e in events]
    assert phases[0] == "validating" and "loading" in phases and phases[-1] == "exporting"
    step_events = [e for e in events if e["phase"] == "training"]
    assert [e["step"] for e in step_events] == list(range(1, 17))
    assert all(e["total_steps"] == 16 and e["tokens_per_s"] > 0 and e["lr"] > 0 for e in step_events)
    final = tmp_path / "final"
    for name in ("tokenizer.json", "training_config.json", "metrics.jsonl", "provenance.json", "eval_results.json"):
        assert (final / name).is_file(), name
    prov = json.loads((final / "provenance.json").read_text())
    assert len(prov["base_model_sha256"]) == 64 and prov["libraries"]["torch"].startswith("2.")
    assert json.loads((final / "training_config.json").read_text())["spec"]["method"] == method
    assert len((final / "metrics.jsonl").read_text().splitlines()) == 16
    assert "chat_template" in (final / "tokenizer_config.json").read_text() or (final / "chat_template.jinja").is_file()


@pytest.mark.parametrize("method", ["lora", "dora", "prompt_tuning"])
def test_saved_adapter_reloads_with_peft_and_generates(method, chat_model, tmp_path):
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoModelForCausalLM, AutoTokenizer

    train(chat_model, tmp_path, method, export_merged=method != "prompt_tuning")
    final = tmp_path / "final"
    assert (final / "adapter_config.json").is_file() and not (final / "model.safetensors").exists()
    tok = AutoTokenizer.from_pretrained(final)
    model = AutoPeftModelForCausalLM.from_pretrained(final).eval()
    base = AutoModelForCausalLM.from_pretrained(chat_model).eval()
    ids, adapted, _ = generate_beside_base(model, base, tok)
    if method != "prompt_tuning":
        merged = AutoModelForCausalLM.from_pretrained(final / "merged").eval()
        with torch.no_grad():
            torch.testing.assert_close(merged(**ids).logits[:, -1], adapted, atol=1e-4, rtol=1e-4)


def test_full_weights_reload_with_transformers_and_match_reported_eval(chat_model, tmp_path):
    from transformers import AutoModelForCausalLM

    _, result, _ = train(chat_model, tmp_path, "full", steps=6, eval_fraction=0.25)
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "final")
    assert model.config.num_hidden_layers == 2
    ev = result["phases"][-1]["eval"]
    assert 0 <= ev["eval_accuracy"] <= 1 and ev["eval_loss"] > 0 and ev["eval_items"] > 0
    assert result["data"]["main"]["eval_rows"] == 3 and result["data"]["main"]["train_rows"] == 9


def test_full_then_lora_is_two_phases_in_one_job(chat_model, tmp_path):
    spec, result, events = train(chat_model, tmp_path, "full_then_lora", steps=10, full_then_lora_fraction=0.2)
    phases = result["phases"]
    assert [(p["method"], p["steps"]) for p in phases] == [("full", 2), ("lora", 8)]
    assert phases[0]["trainable_params"] == phases[0]["total_params"]
    assert phases[1]["trainable_params"] < phases[1]["total_params"] / 5
    assert phases[1]["base_model"].endswith("result") and result["adapter_base"] == phases[1]["base_model"]
    job_steps = [e["job_step"] for e in events if e["phase"] == "training"]
    assert job_steps == list(range(1, 11))
    first, last = first_last_loss(events)
    assert last < first
    cfg = json.loads((tmp_path / "final" / "adapter_config.json").read_text())
    assert cfg["base_model_name_or_path"] == phases[1]["base_model"]


def test_multi_stage_pretrain_then_sft_chains_weights(chat_model, tmp_path):
    spec = TrainingSpec(
        base_model=str(chat_model),
        method="lora",
        lr=1e-2,
        batch_size=4,
        save_steps=50,
        stages=[
            {"name": "cpt", "mode": "pretrain", "method": "full", "max_steps": 3, "lr": 1e-3},
            {"name": "sft", "max_steps": 4},
        ],
    )
    events: list[dict] = []
    result = run_training(spec, {"cpt": plain_text(8), "sft": memorisable(8)}, tmp_path, events.append, lambda: False)
    assert [(p["stage"], p["method"], p["steps"]) for p in result["phases"]] == [("cpt", "full", 3), ("sft", "lora", 4)]
    assert result["phases"][1]["base_model"] == str(tmp_path / "phases" / "00-cpt-full" / "result")
    assert {e["stage"] for e in events if e["phase"] == "training"} == {"cpt", "sft"}
    assert result["data"]["cpt"]["rows_kept"] == 8


def test_packing_trains_and_gradient_checkpointing_runs(chat_model, tmp_path):
    _, result, events = train(
        chat_model, tmp_path, "lora", steps=6, packing=True, max_length=128, gradient_checkpointing=True
    )
    assert result["status"] == "completed"
    first, last = first_last_loss(events)
    assert last < first


def test_compile_is_a_spec_option_that_trains_and_exports_the_plain_model(chat_model, tmp_path, monkeypatch):
    pytest.importorskip("torch._dynamo")
    compiled: list[type] = []
    original = torch.nn.Module.compile

    def spy(self, *args, **kwargs):
        compiled.append(type(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "compile", spy)
    spec, result, events = train(chat_model, tmp_path, "lora", steps=4, compile=True)
    assert len(compiled) == 1  # the model the phase trains, once
    assert result["status"] == "completed" and result["steps"] == 4
    train(chat_model, tmp_path / "plain", "lora", steps=1)
    assert len(compiled) == 1  # off by default
    adapter = json.loads((tmp_path / "final" / "adapter_config.json").read_text())
    assert adapter["r"] == spec.lora_r  # the export is the plain peft adapter, not a compiled wrapper
