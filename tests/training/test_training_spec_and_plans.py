"""The spec and the plan recommender: pure python, no torch."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from app.training_spec.plans import PlanRequest, recommend_plan
from app.training_spec.spec import TrainingSpec


def test_spec_refuses_incoherent_combinations():
    with pytest.raises(ValidationError, match="packing cannot be combined"):
        TrainingSpec(base_model="m", method="prompt_tuning", packing=True)
    with pytest.raises(ValidationError, match="task 'reward' supports"):
        TrainingSpec(base_model="m", task="reward", method="prefix_tuning")
    with pytest.raises(ValidationError, match="cannot feed a later stage"):
        TrainingSpec(base_model="m", stages=[{"name": "a", "method": "p_tuning"}, {"name": "b"}])
    with pytest.raises(ValidationError, match="unique"):
        TrainingSpec(base_model="m", stages=[{"name": "a"}, {"name": "a"}])
    with pytest.raises(ValidationError):
        TrainingSpec(base_model="m", method="full_then_lora", full_then_lora_fraction=0.5)


def test_stages_inherit_unset_fields():
    spec = TrainingSpec(
        base_model="m",
        method="lora",
        lr=1e-4,
        max_steps=50,
        stages=[{"name": "cpt", "mode": "pretrain", "method": "full", "epochs": 2}, {"name": "sft"}],
    )
    cpt, sft = spec.resolved_stages()
    assert (cpt.mode, cpt.method, cpt.lr, cpt.epochs, cpt.max_steps) == ("pretrain", "full", 1e-4, 2, None)
    assert (sft.mode, sft.method, sft.max_steps) == ("sft", "lora", 50)


def test_api_side_imports_stay_free_of_torch():
    code = (
        "import sys; import app.training, app.training_spec, app.training_spec.spec, app.training_spec.plans, app.training_spec.pairs, app.training_spec.checks; "
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("req", "kind", "modes"),
    [
        (
            PlanRequest(domain_corpus_tokens=3_000_000_000, domain_sft_rows=5_000, general_sft_rows=5_000),
            "base",
            ["pretrain", "sft"],
        ),
        (
            PlanRequest(domain_corpus_tokens=200_000_000, far_from_public_data=True, domain_sft_rows=1_000),
            "base",
            ["pretrain", "sft"],
        ),
        (PlanRequest(domain_corpus_tokens=10_000_000, domain_sft_rows=2_000, general_sft_rows=4_000), "base", ["sft"]),
        (PlanRequest(domain_sft_rows=2_000, keep_general_ability=False), "chat", ["sft"]),
    ],
)
def test_recommendation_follows_the_rules_and_explains(req, kind, modes):
    plan = recommend_plan(req)
    assert plan.model_kind == kind
    assert [s.mode for s in plan.stages] == modes
    assert plan.reasons and all(isinstance(r, str) and len(r) > 20 for r in plan.reasons)
    if "pretrain" in modes:
        assert plan.stages[0].method == "full" and "pre-training" in plan.reasons[0]


def test_small_unusual_corpus_skips_pretraining_with_a_warning():
    plan = recommend_plan(PlanRequest(domain_corpus_tokens=1_000_000, far_from_public_data=True, domain_sft_rows=500))
    assert [s.mode for s in plan.stages] == ["sft"]
    assert any("skipped" in w for w in plan.warnings)


def test_large_sft_set_gets_full_fine_tuning():
    plan = recommend_plan(PlanRequest(domain_sft_rows=300_000, keep_general_ability=False))
    assert plan.stages[-1].method == "full"


def test_preview_and_validation_run_without_torch(chat_model):
    """The API's preview endpoint calls these in-process: they must not pull in torch."""
    code = (
        "import sys, json\n"
        "from app.training_spec.checks import preview_masking, validate_data\n"
        "from app.training_spec.spec import TrainingSpec\n"
        "from scorers.samples import sample\n"
        f"spec = TrainingSpec(base_model={str(chat_model)!r})\n"
        "rows = [sample(i, 'what is one?', 'red cat.') for i in range(4)]\n"
        "out = preview_masking(spec, rows, n=3)\n"
        "assert len(out) == 3 and '[[red cat.' in out[0]['rendered'], out\n"
        "assert validate_data(spec, rows)['main']['rows_kept'] == 4\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
