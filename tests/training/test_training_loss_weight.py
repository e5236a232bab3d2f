"""Per-message ``loss_weight`` (LLaMA-Factory) is honoured: 0 leaves a turn out of the loss, another weight
trains the turn (a user turn too) with its tokens' loss scaled."""

from __future__ import annotations

import pytest
import torch

from app.training.cli import read_samples, write_samples
from app.training.data import collate_padded
from app.training.loop import causal_lm_objective
from app.training.model import load_model, load_tokenizer
from app.training_spec.formatting import IGNORE, DataValidationError, Formatter, validate_encoded
from app.training_spec.spec import TrainingSpec
from scorers.samples import Sample, Turn


def two_replies(weights) -> Sample:
    turns = (
        Turn("user", "name a colour"),
        Turn("assistant", "red cat."),
        Turn("user", "another?"),
        Turn("assistant", "blue dog."),
    )
    return Sample(0, turns, meta={"loss_weights": weights} if weights is not None else {})


def supervised(tok, enc) -> str:
    return tok.decode([t for t, lab in zip(enc.input_ids, enc.labels, strict=True) if lab != IGNORE])


@pytest.mark.parametrize("fixture", ["chat_model", "base_model"])
def test_zero_weight_turns_are_masked_and_weighted_user_turns_train(fixture, request) -> None:
    tok = load_tokenizer(request.getfixturevalue(fixture))
    fmt = Formatter(tok)
    default = fmt.encode(two_replies(None))
    assert "red cat." in supervised(tok, default) and default.weights is None
    only_last = fmt.encode(two_replies([0.0, 0.0, 0.0, 1.0]))
    text = supervised(tok, only_last)
    assert "blue dog." in text and "red cat." not in text and only_last.weights is None
    validate_encoded([only_last])
    with_user = fmt.encode(two_replies([1.0, 0.0, 0.0, 1.0]))
    assert "name a colour" in supervised(tok, with_user)
    half = fmt.encode(two_replies([0.0, 0.5, 0.0, 1.0]))
    w = {round(x, 2) for x, lab in zip(half.weights, half.labels, strict=True) if lab != IGNORE}
    assert w == {0.5, 1.0}
    with pytest.raises(DataValidationError, match="loss_weight is 0"):
        validate_encoded([fmt.encode(two_replies([0.0, 0.0, 0.0, 0.0]))])


def test_the_loss_scales_with_the_weight(chat_model) -> None:
    tok = load_tokenizer(chat_model)
    fmt = Formatter(tok)
    model = load_model(chat_model, "causal_lm", tok.pad_token_id, torch.device("cpu"))
    torch.manual_seed(0)
    full = collate_padded([fmt.encode(two_replies([0.0, 0.0, 0.0, 1.0]))], tok.pad_token_id)
    half = collate_padded([fmt.encode(two_replies([0.0, 0.0, 0.0, 0.5]))], tok.pad_token_id)
    with torch.no_grad():
        loss_full, n_full, _ = causal_lm_objective(model, full)
        loss_half, n_half, _ = causal_lm_objective(model, half)
    assert n_full == n_half > 0
    assert float(loss_half) == pytest.approx(0.5 * float(loss_full), rel=1e-5)


def test_weights_travel_to_the_training_process(tmp_path) -> None:
    path = tmp_path / "samples.jsonl"
    write_samples(path, [two_replies([0.0, 0.5, 0.0, 1.0]), two_replies(None)])
    back = read_samples(path, TrainingSpec(base_model="/x"))
    assert back[0].meta["loss_weights"] == [0.0, 0.5, 0.0, 1.0] and "loss_weights" not in back[1].meta
