from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from training_factories import memorisable

from app.training.data import BatchPlan, collate_packed, collate_padded, pack_rows, split_eval
from app.training.loop import accumulate, causal_lm_objective
from app.training.model import load_model, load_tokenizer
from app.training_spec.formatting import IGNORE, Formatter


@pytest.fixture(scope="module")
def encoded(chat_model):
    tok = load_tokenizer(chat_model)
    rows, _ = Formatter(tok).encode_all(memorisable(8))
    return tok, rows


@pytest.fixture(scope="module")
def model(chat_model):
    torch.manual_seed(0)
    return load_model(chat_model, "causal_lm", None, torch.device("cpu")).eval()


def test_packing_never_attends_across_rows(encoded, model):
    tok, rows = encoded
    a, b = rows[0], rows[1]
    packed = collate_packed([[a, b]], tok.pad_token_id)
    with torch.no_grad():
        together = model(input_ids=packed.input_ids, position_ids=packed.position_ids, use_cache=False).logits
        alone = model(input_ids=torch.tensor([b.input_ids]), use_cache=False).logits
    n = len(a.input_ids)
    torch.testing.assert_close(together[0, n : n + len(b.input_ids)], alone[0], atol=1e-5, rtol=1e-4)
    # and the boundary token is not a target: row b's first token is never predicted from row a
    assert packed.labels[0, n] == IGNORE


def test_packing_fills_rows_and_keeps_every_token(encoded):
    tok, rows = encoded
    bins = pack_rows(rows, 128)
    assert sorted(r.index for b in bins for r in b) == sorted(r.index for r in rows)
    assert all(sum(len(r.input_ids) for r in b) <= 128 for b in bins)
    assert len(bins) < len(rows)
    plan = BatchPlan(rows, 2, tok.pad_token_id, packing=True, max_length=128, seed=0)
    total = sum(plan.micro(k).n_tokens for k in range(len(plan)))
    assert total == sum(len(r.input_ids) for r in rows)


def test_batch_order_is_a_function_of_seed_and_epoch(encoded):
    tok, rows = encoded
    p1 = BatchPlan(rows, 2, tok.pad_token_id, packing=False, max_length=64, seed=3)
    p2 = BatchPlan(rows, 2, tok.pad_token_id, packing=False, max_length=64, seed=3)
    for k in (0, 3, 5, 9):
        assert torch.equal(p1.micro(k).input_ids, p2.micro(k).input_ids)
    epoch0 = {tuple(p1.micro(k).input_ids[0].tolist()) for k in range(len(p1))}
    epoch1 = {tuple(p1.micro(k).input_ids[0].tolist()) for k in range(len(p1), 2 * len(p1))}
    assert epoch0 == epoch1  # every epoch sees every batch once


def test_masked_positions_get_zero_gradient(encoded):
    tok, rows = encoded
    batch = collate_padded(rows[:3], tok.pad_token_id)
    logits = torch.randn(*batch.input_ids.shape, 400, requires_grad=True)
    fake = lambda **_: SimpleNamespace(logits=logits)  # noqa: E731
    loss, n, _ = causal_lm_objective(fake, batch)
    loss.backward()
    target = batch.labels[:, 1:]
    grad_norm = logits.grad[:, :-1].abs().sum(-1)
    assert n == int((target != IGNORE).sum()) > 0
    assert torch.all(grad_norm[target == IGNORE] == 0)
    assert torch.all(grad_norm[target != IGNORE] > 0)
    assert torch.all(logits.grad[:, -1] == 0)


def test_gradient_accumulation_equals_one_big_batch(encoded, chat_model):
    tok, rows = encoded
    big = [collate_padded(rows[:4], tok.pad_token_id)]
    split = [collate_padded(rows[:1], tok.pad_token_id), collate_padded(rows[1:4], tok.pad_token_id)]

    def grads(micros):
        torch.manual_seed(0)
        m = load_model(chat_model, "causal_lm", None, torch.device("cpu")).train()
        loss, _ = accumulate(m, micros, causal_lm_objective, torch.device("cpu"))
        return loss, [p.grad.clone() for p in m.parameters()]

    (l1, g1), (l2, g2) = grads(big), grads(split)
    assert l1 == pytest.approx(l2, rel=1e-5)
    for a, b in zip(g1, g2, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-4)


def test_eval_split_is_disjoint_and_seeded(encoded):
    _, rows = encoded
    tr, ev = split_eval(rows, 0.25, seed=1)
    assert len(ev) == 2 and not {r.index for r in tr} & {r.index for r in ev}
    assert [r.index for r in split_eval(rows, 0.25, seed=1)[1]] == [r.index for r in ev]
