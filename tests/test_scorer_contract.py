"""One contract test over the whole scorer registry: a new scorer is covered by being registered."""

from __future__ import annotations

import pytest

from scorers import ModelConfig, Sample, Turn, registry, run_audit, sample
from scorers.base import DIMENSIONS, SEVERITIES
from scorers.pipeline import dumps


def _samples() -> list[Sample]:
    rows = [
        sample(0, "Give three tips for staying healthy.", "1. Eat well.\n2. Sleep.\n3. Exercise."),
        sample(1, "What is the capital of France?", "Paris."),
        sample(2, "what is the capital of France? ", "Paris."),
        sample(3, "保持健康的三个提示。", "1. 多运动。2. 多睡觉。3. 均衡饮食。"),
        sample(4, "Translate 'good morning' to emoji 🌅", "☀️😊👋"),
        sample(5, "Summarise: " + "lorem ipsum dolor sit amet " * 2000, "A placeholder text. " * 500),
        sample(6, "", ""),
        Sample(
            index=7,
            turns=(Turn("user", "Hi"), Turn("assistant", "Hello!"), Turn("user", "2+2?"), Turn("assistant", "4")),
            system="You are terse.",
        ),
        Sample(index=8, turns=(Turn("text", "Plain pre-training text about the weather in Paris."),)),
    ]
    return rows


SCORERS = sorted(registry())


@pytest.mark.parametrize("name", SCORERS)
def test_scorer_contract(name: str) -> None:
    cls = registry()[name]
    assert cls.version and cls.dimension in (*DIMENSIONS, "profile")
    schema = cls.Params.model_json_schema()
    assert schema["type"] == "object"

    samples = _samples()
    out = run_audit(samples, scorers=[name], models=ModelConfig(), seed=7)
    (run,) = out.report["scorers"]
    assert run["name"] == name and run["version"] == cls.version
    if run["status"] == "not_computed":
        assert run["reason"], "a scorer that is not computed must say why"
        return
    assert run["status"] == "ok"
    assert len(out.samples) == len(samples)
    for rec, s in zip(out.samples, samples):
        assert rec["index"] == s.index
        for dim, value in rec["scores"].items():
            assert dim in DIMENSIONS
            assert 0.0 <= value <= 1.0
        for flag in rec["flags"]:
            assert flag["code"] and flag["reason"]
            assert flag["severity"] in SEVERITIES
            assert flag["dimension"] in DIMENSIONS
            assert all(isinstance(r, int) for r in flag["related"])
    # deterministic under a seed: byte-identical output
    again = run_audit(samples, scorers=[name], models=ModelConfig(), seed=7)
    assert dumps(again.report) == dumps(out.report)
    assert list(again.samples_jsonl()) == list(out.samples_jsonl())


@pytest.mark.parametrize("name", SCORERS)
def test_scorer_survives_empty_dataset(name: str) -> None:
    out = run_audit([], scorers=[name])
    assert out.samples == []
    assert out.report["dataset"]["rows"] == 0


def test_every_flag_count_traces_back_to_samples() -> None:
    out = run_audit(_samples())
    counted: dict[str, int] = {}
    for rec in out.samples:
        for f in rec["flags"]:
            counted[f["code"]] = counted.get(f["code"], 0) + 1
    assert counted == out.report["flags"]


def test_unknown_scorer_and_stray_params_are_rejected() -> None:
    with pytest.raises(KeyError, match="unknown scorer"):
        run_audit(_samples(), scorers=["no_such_scorer"])
    with pytest.raises(KeyError, match="not selected"):
        run_audit(_samples(), scorers=["text_length"], params={"language": {"view": "answer"}})
