"""Stop, kill and resume: the resumed run reaches the same step count and the same weights."""

from __future__ import annotations

import json

import pytest
import torch
from training_factories import memorisable

from app.training import checkpoint
from app.training.runner import run_training
from app.training_spec.spec import TrainingSpec


class Killed(Exception):
    """Stands in for SIGKILL: the run dies mid-phase without any cleanup code of ours running."""


def spec_for(model, method="lora", steps=8, **kw):
    return TrainingSpec(
        base_model=str(model),
        method=method,
        lr=3e-2 if method != "full" else 3e-3,
        max_steps=steps,
        batch_size=3,
        save_steps=2,
        lora_dropout=0.1,
        seed=7,
        **kw,
    )


def final_state(out) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    f = out / "final"
    return load_file(
        f / ("adapter_model.safetensors" if (f / "adapter_model.safetensors").exists() else "model.safetensors")
    )


def train_losses(path) -> dict[int, list[float]]:
    out: dict[int, list[float]] = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if "loss" in r:
            out.setdefault(r["job_step"], []).append(r["loss"])
    return out


@pytest.mark.parametrize("method", ["lora", "full"])
def test_cooperative_stop_then_resume_reproduces_the_run(method, chat_model, tmp_path):
    ref = tmp_path / "ref"
    run_training(spec_for(chat_model, method), memorisable(12), ref, lambda e: None, lambda: False)

    out = tmp_path / "stopped"
    steps_seen: list[int] = []

    def progress(e):
        if e.get("phase") == "training":
            steps_seen.append(e["step"])

    r1 = run_training(spec_for(chat_model, method), memorisable(12), out, progress, lambda: len(steps_seen) >= 3)
    assert r1["status"] == "stopped" and r1["steps"] == 3
    assert checkpoint.latest(out / "phases" / f"00-main-{method}" / "checkpoints").name == "step-000003"
    r2 = run_training(spec_for(chat_model, method), memorisable(12), out, progress, lambda: False)
    assert r2["status"] == "completed" and r2["steps"] == 8
    assert r2["phases"][-1]["resumed_from"] == "step-000003"
    assert steps_seen == list(range(1, 9))  # nothing ran twice after a cooperative stop
    a, b = final_state(ref), final_state(out)
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-5, rtol=1e-4)
    ref_l, got_l = train_losses(ref / "metrics.jsonl"), train_losses(out / "metrics.jsonl")
    assert [v[0] for v in ref_l.values()] == pytest.approx([v[-1] for v in got_l.values()], rel=1e-4)


def test_kill_mid_run_resumes_from_newest_complete_checkpoint(chat_model, tmp_path):
    ref = tmp_path / "ref"
    run_training(spec_for(chat_model), memorisable(12), ref, lambda e: None, lambda: False)

    out = tmp_path / "killed"

    def die_at_5(e):
        if e.get("phase") == "training" and e["step"] == 5:
            raise Killed

    with pytest.raises(Killed):
        run_training(spec_for(chat_model), memorisable(12), out, die_at_5, lambda: False)
    ckpts = out / "phases" / "00-main-lora" / "checkpoints"
    (ckpts / ".tmp-step-000006-dead").mkdir()  # a write the kill interrupted
    assert checkpoint.latest(ckpts).name == "step-000004"
    assert not (ckpts / ".tmp-step-000006-dead").exists()

    result = run_training(spec_for(chat_model), memorisable(12), out, lambda e: None, lambda: False)
    assert result["status"] == "completed" and result["steps"] == 8
    runs = train_losses(out / "metrics.jsonl")
    assert sorted(runs) == list(range(1, 9))
    assert [len(runs[s]) for s in range(1, 9)] == [1, 1, 1, 1, 2, 1, 1, 1]  # only the step after the checkpoint re-ran
    a, b = final_state(ref), final_state(out)
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-5, rtol=1e-4)
    # the exported metrics log keeps each step once
    assert len((out / "final" / "metrics.jsonl").read_text().splitlines()) == 8
    # a finished job called again returns its stored result without training
    again = run_training(
        spec_for(chat_model), memorisable(12), out, lambda e: pytest.fail("trained again"), lambda: False
    )
    assert again == result


def test_full_then_lora_resumes_inside_the_second_phase(chat_model, tmp_path):
    spec = spec_for(chat_model, "full_then_lora", steps=10, full_then_lora_fraction=0.2)
    ref = tmp_path / "ref"
    run_training(spec, memorisable(12), ref, lambda e: None, lambda: False)
    out = tmp_path / "stopped"
    seen: list[tuple[str, int]] = []

    def progress(e):
        if e.get("phase") == "training":
            seen.append((e["method"], e["step"]))

    r1 = run_training(spec, memorisable(12), out, progress, lambda: seen[-1:] == [("lora", 3)])
    assert r1["status"] == "stopped" and r1["steps"] == 5
    r2 = run_training(spec, memorisable(12), out, progress, lambda: False)
    assert r2["status"] == "completed" and [p["steps"] for p in r2["phases"]] == [2, 8]
    assert seen == [("full", 1), ("full", 2)] + [("lora", i) for i in range(1, 9)]
    a, b = final_state(ref), final_state(out)
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-5, rtol=1e-4)


def test_checkpoint_bundle_holds_state_and_config(chat_model, tmp_path):
    seen = []
    run_training(
        spec_for(chat_model),
        memorisable(12),
        tmp_path,
        lambda e: seen.append(e),
        lambda: sum(e.get("phase") == "training" for e in seen) >= 2,
    )
    ck = checkpoint.latest(tmp_path / "phases" / "00-main-lora" / "checkpoints")
    cfg = json.loads((ck / "config.json").read_text())
    assert cfg["spec"]["method"] == "lora" and cfg["step"] == 2
    state = checkpoint.load(ck)
    assert {"trainable", "optimizer", "scheduler", "rng", "step"} <= state.keys()
    assert all("lora_" in k for k in state["trainable"])


def test_resume_refuses_checkpoints_of_a_different_spec(chat_model, tmp_path):
    seen = []
    run_training(
        spec_for(chat_model),
        memorisable(12),
        tmp_path,
        seen.append,
        lambda: sum(e.get("phase") == "training" for e in seen) >= 2,
    )
    changed = spec_for(chat_model).model_copy(update={"lr": 1e-3})
    with pytest.raises(ValueError, match="different spec"):
        run_training(changed, memorisable(12), tmp_path, lambda e: None, lambda: False)
