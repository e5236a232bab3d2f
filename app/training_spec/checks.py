"""Data checks usable before queueing (no torch): does every row of every stage encode into something trainable?

The API runs these in-process (preview and validation of ``POST /v1/training-jobs``); the engine
(``app/training/runner.py``) runs the same encoding before it trains.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.training_spec.formatting import DataValidationError, Formatter, preview, validate_encoded
from app.training_spec.spec import StageSpec, TrainingSpec
from scorers.samples import Sample

SamplesArg = Sequence[Sample] | Mapping[str, Sequence[Sample]]


def stage_samples(spec: TrainingSpec, samples: SamplesArg) -> dict[str, Sequence[Sample]]:
    stages = spec.resolved_stages()
    if isinstance(samples, Mapping):
        missing = [s.name for s in stages if s.name not in samples]
        extra = [k for k in samples if k not in {s.name for s in stages}]
        if missing or extra:
            raise DataValidationError(None, f"samples must be keyed by stage name: missing {missing}, unknown {extra}")
        return {s.name: samples[s.name] for s in stages}
    if len(stages) != 1:
        raise DataValidationError(None, "a multi-stage spec needs samples as a dict: stage name -> samples")
    return {stages[0].name: samples}


def formatter_for(spec: TrainingSpec, stage: StageSpec, tokenizer) -> Formatter:
    return Formatter(tokenizer, mode=stage.mode or spec.mode, max_length=spec.max_length, overlength=spec.overlength)


def spec_tokenizer(spec: TrainingSpec):
    from app.training_spec.formatting import load_tokenizer

    return load_tokenizer(spec.base_model)


def encode_stage(spec: TrainingSpec, stage: StageSpec, tokenizer, samples: Sequence[Sample]):
    fmt = formatter_for(spec, stage, tokenizer)
    if spec.task == "reward":
        from app.training_spec.pairs import encode_pairs

        rows, report = encode_pairs(fmt, samples)
        if not rows:
            raise DataValidationError(None, f"stage {stage.name!r}: no rows left after the over-length policy")
        return rows, report
    rows, rep = fmt.encode_all(samples)
    validate_encoded(rows, stage.mode or spec.mode)
    if not rows:
        raise DataValidationError(None, f"stage {stage.name!r}: no rows left after the over-length policy")
    return rows, rep.to_dict()


def validate_data(spec: TrainingSpec, samples: SamplesArg, tokenizer=None) -> dict[str, Any]:
    """Refuse data that would train badly; raises :class:`DataValidationError` naming the row.

    Returns per-stage counts (rows in/kept, truncated, dropped as over-length).
    """
    tokenizer = tokenizer or spec_tokenizer(spec)
    by_stage = stage_samples(spec, samples)
    out = {}
    for stage in spec.resolved_stages():
        _, report = encode_stage(spec, stage, tokenizer, by_stage[stage.name])
        out[stage.name] = report
    return out


def preview_masking(spec: TrainingSpec, samples: SamplesArg, n: int = 3, tokenizer=None) -> list[dict[str, Any]]:
    """The first ``n`` samples (of the first stage) rendered with their label mask."""
    tokenizer = tokenizer or spec_tokenizer(spec)
    by_stage = stage_samples(spec, samples)
    stage = spec.resolved_stages()[0]
    return preview(formatter_for(spec, stage, tokenizer), by_stage[stage.name], n)
