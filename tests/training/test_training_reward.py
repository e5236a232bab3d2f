"""Reward head on chosen/rejected pairs through the same spec and runner."""

from __future__ import annotations

import gzip
import json

import pytest
import torch

from app.training.runner import run_training
from app.training_spec.checks import validate_data
from app.training_spec.formatting import DataValidationError
from app.training_spec.pairs import pair_from_hh_rlhf
from app.training_spec.spec import TrainingSpec
from scorers.samples import Sample, Turn


def pairs(n: int = 8) -> list[Sample]:
    good, bad = "thanks. happy sun.", "no. bad dog!"
    return [
        Sample(i, (Turn("user", f"question {i} please"), Turn("assistant", good)), meta={"rejected": bad})
        for i in range(n)
    ]


def rewards(model_dir, tok, samples):
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()

    def score(msgs):
        text = tok.apply_chat_template(msgs, tokenize=False)
        with torch.no_grad():
            return float(model(**tok(text, add_special_tokens=False, return_tensors="pt")).logits[0, 0])

    out = []
    for s in samples:
        msgs = [t.to_dict() for t in s.turns]
        out.append((score(msgs), score(msgs[:-1] + [{"role": "assistant", "content": s.meta["rejected"]}])))
    return out


@pytest.mark.parametrize("method", ["full", "lora"])
def test_reward_model_learns_preferences_and_loads_as_sequence_classifier(method, chat_model, tmp_path):
    from transformers import AutoTokenizer

    spec = TrainingSpec(
        base_model=str(chat_model),
        task="reward",
        method=method,
        lr=3e-3 if method == "full" else 3e-2,
        max_steps=12,
        batch_size=4,
        export_merged=True,
        lora_dropout=0.0,
        eval_fraction=0.25,
    )
    events: list[dict] = []
    result = run_training(spec, pairs(), tmp_path, events.append, lambda: False)
    losses = [e["loss"] for e in events if e.get("phase") == "training"]
    assert result["status"] == "completed" and losses[-1] < losses[0]
    model_dir = tmp_path / "final" / ("merged" if method == "lora" else "")
    tok = AutoTokenizer.from_pretrained(tmp_path / "final")
    scored = rewards(model_dir, tok, pairs(4))
    assert all(c > r for c, r in scored)
    assert result["phases"][-1]["eval"]["eval_accuracy"] == 1.0


def test_reward_pair_must_have_rejected(chat_model):
    spec = TrainingSpec(base_model=str(chat_model), task="reward", method="full")
    bad = [Sample(3, (Turn("user", "q"), Turn("assistant", "a")))]
    with pytest.raises(DataValidationError, match="row 3: a reward pair needs"):
        validate_data(spec, bad)


@pytest.mark.shared_data
def test_hh_rlhf_pairs_parse_and_train(shared_data, chat_model, tmp_path):
    path = shared_data / "hh_rlhf" / "harmless-base" / "test.jsonl.gz"
    with gzip.open(path, "rt") as f:
        raw = [json.loads(next(f)) for _ in range(12)]
    samples = [pair_from_hh_rlhf(i, r["chosen"], r["rejected"]) for i, r in enumerate(raw)]
    assert all(s.turns[0].role == "user" and s.turns[-1].role == "assistant" for s in samples)
    assert samples[0].turns[-1].content != samples[0].meta["rejected"]
    spec = TrainingSpec(
        base_model=str(chat_model), task="reward", method="lora", lr=1e-2, max_steps=3, batch_size=4, max_length=256
    )
    result = run_training(spec, samples, tmp_path, lambda e: None, lambda: False)
    assert result["status"] == "completed" and result["data"]["main"]["rows_in"] == 12
    assert (tmp_path / "final" / "adapter_config.json").is_file()
