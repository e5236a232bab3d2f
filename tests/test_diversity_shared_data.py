"""Checks on the real shared datasets (skipped with a reason when ../shared/data is absent)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from scorers import Sample, Turn, run_audit

pytestmark = pytest.mark.shared_data


def _rows(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    return (
        json.loads(text) if text.lstrip().startswith("[") else [json.loads(x) for x in text.splitlines() if x.strip()]
    )


def _load(path: Path, limit: int | None = None) -> list[Sample]:
    rows = _rows(path)
    keep = sorted(random.Random(0).sample(range(len(rows)), limit)) if limit and limit < len(rows) else range(len(rows))
    out = []
    for i in keep:
        r = rows[i]
        if "conversations" in r:
            role = {"human": "user", "gpt": "assistant"}
            turns = tuple(Turn(role[t["from"]], t["value"]) for t in r["conversations"])
        elif "question" in r:
            turns = (Turn("user", r["question"]), Turn("assistant", r["std_answer"]))
        else:
            ins = r["instruction"] + (f"\n\n{r['input']}" if r.get("input") else "")
            turns = (Turn("user", ins), Turn("assistant", r["output"]))
        out.append(Sample(index=i, turns=turns, meta={"original": r}))
    return out


def _headline(samples: list[Sample]) -> float:
    out = run_audit(samples, scorers=["semantic_diversity"])
    return out.report["dimensions"]["diversity"]["score"]


def test_diversity_anchor_dummy_below_alpaca_below_dolly(shared_data: Path) -> None:
    dummy = _headline(_load(shared_data / "fastchat/dummy_conversation.json"))
    alpaca = _headline(_load(shared_data / "stanford_alpaca/alpaca_data.json", 1000))
    dolly = _headline(_load(shared_data / "alpagasus/dolly_3k.json"))
    assert dummy < 0.5 * dolly  # far less diverse
    assert dummy < alpaca < dolly


def test_task_type_agrees_with_dolly_categories(shared_data: Path) -> None:
    mapping = {
        "open_qa": "open_qa",
        "general_qa": "open_qa",
        "closed_qa": "closed_qa",
        "classification": "classification",
        "information_extraction": "extraction",
        "summarization": "summarisation",
        "brainstorming": "brainstorming",
        "creative_writing": "creative_writing",
    }
    samples = _load(shared_data / "alpagasus/dolly_3k.json")
    out = run_audit(samples, scorers=["task_type"])
    hits = sum(r["task_type"] == mapping[s.meta["original"]["category"]] for r, s in zip(out.samples, samples))
    assert hits / len(samples) >= 0.7  # measured 0.739; chance (majority class) is 0.48


def test_gsm8k_is_harder_than_alpaca_short_factual_qa(shared_data: Path) -> None:
    gsm = _load(shared_data / "gsm8k_alpaca_format/gsm_8k_train.json", 300)
    alpaca = _load(shared_data / "stanford_alpaca/alpaca_data.json", 5000)
    short_qa = [
        s for s in alpaca if re.match(r"^(what|who|when|where) (is|was) ", s.instruction, re.I) and len(s.answer) < 200
    ][:300]
    assert len(short_qa) >= 30
    g = run_audit(gsm, scorers=["difficulty"]).report["dimensions"]["difficulty"]["figures"]["difficulty"]
    q = run_audit(short_qa, scorers=["difficulty"]).report["dimensions"]["difficulty"]["figures"]["difficulty"]
    assert g["difficulty"]["mean"] > 2 * q["difficulty"]["mean"]
    assert g["mix"]["hard"] > 0.4 and q["mix"]["hard"] < 0.05


@pytest.mark.slow
def test_belle_reference_set_supports_own_answers_and_contradicts_swapped(shared_data: Path) -> None:
    refs = _load(shared_data / "belle/eval_set.json", 40)
    rng = random.Random(1)
    picked = rng.sample(range(len(refs)), 12)
    own, swapped = picked[:6], picked[6:]
    samples = [
        Sample(index=k, turns=(Turn("user", refs[i].instruction), Turn("assistant", refs[i].answer)))
        for k, i in enumerate(own)
    ]
    samples += [
        Sample(
            index=6 + k, turns=(Turn("user", refs[i].instruction), Turn("assistant", refs[swapped[(k + 1) % 6]].answer))
        )
        for k, i in enumerate(swapped)
    ]
    out = run_audit(samples, scorers=["reference_agreement"], reference=refs)
    # the default encoder (MiniLM) reads English only: Chinese rows are not judged, and the report says why
    assert [r["reference_status"] for r in out.samples] == ["not_judged"] * 12
    fig = out.report["dimensions"]["consistency"]["figures"]["reference_agreement"]
    assert fig["not_judged"]["rows"] == 12 and fig["not_judged"]["languages"] == {"zh": 12}
    # an operator may declare that the encoder reads Chinese; the comparison then runs as before
    from scorers.models import ModelConfig

    forced = run_audit(
        samples, scorers=["reference_agreement"], reference=refs, models=ModelConfig(embedding_languages="*")
    )
    status = [r["reference_status"] for r in forced.samples]
    assert status[:6].count("supported") == 6
    assert status[6:].count("supported") <= 2
    fig = forced.report["dimensions"]["consistency"]["figures"]["reference_agreement"]
    assert "English-only" in fig["warning"]
