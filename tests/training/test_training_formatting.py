from __future__ import annotations

import pytest
from training_factories import memorisable

from app.training.model import load_tokenizer
from app.training_spec.formatting import IGNORE, DataValidationError, Formatter, preview, validate_encoded
from scorers.samples import Sample, Turn, sample


def supervised_text(tok, enc) -> str:
    return tok.decode([t for t, lab in zip(enc.input_ids, enc.labels, strict=True) if lab != IGNORE])


def test_chat_template_trains_every_assistant_turn_with_its_end_marker(chat_model):
    tok = load_tokenizer(chat_model)
    s = Sample(
        0,
        (Turn("user", "hello"), Turn("assistant", "red cat."), Turn("user", "why?"), Turn("assistant", "blue dog.")),
        system="be good",
    )
    enc = Formatter(tok).encode(s)
    text = supervised_text(tok, enc)
    assert text.replace("\n", "") == "red cat.<|im_end|>blue dog.<|im_end|>"
    im_end = tok.convert_tokens_to_ids("<|im_end|>")
    # every end-of-turn after an assistant turn is supervised; the ones after user/system are not
    ends = [i for i, t in enumerate(enc.input_ids) if t == im_end]
    assert [enc.labels[i] != IGNORE for i in ends] == [False, False, True, False, True]
    validate_encoded([enc])


def test_default_format_supervises_eos_even_when_pad_is_eos(base_model):
    tok = load_tokenizer(base_model)
    assert tok.pad_token_id == tok.eos_token_id
    enc = Formatter(tok).encode(sample(0, "what is one?", "red cat."))
    assert enc.input_ids[0] == tok.bos_token_id and enc.labels[0] == IGNORE
    assert supervised_text(tok, enc) == "red cat.</s>"
    assert enc.labels[enc.end_of_turn[0]] == tok.eos_token_id
    validate_encoded([enc])


def test_pretrain_mode_supervises_every_token(chat_model):
    tok = load_tokenizer(chat_model)
    enc = Formatter(tok, mode="pretrain").encode(Sample(3, (Turn("text", "the cat and the dog"),)))
    assert enc.labels == enc.input_ids and enc.input_ids[-1] == tok.eos_token_id


def test_row_without_supervised_tokens_is_refused_by_index(chat_model):
    tok = load_tokenizer(chat_model)
    rows = [sample(0, "q", "a"), Sample(7, (Turn("user", "only a question"),))]
    encoded, _ = Formatter(tok).encode_all(rows)
    with pytest.raises(DataValidationError, match="row 7: no supervised tokens") as err:
        validate_encoded(encoded)
    assert err.value.row == 7


def test_truncation_that_removes_the_answer_is_refused(chat_model):
    tok = load_tokenizer(chat_model)
    encoded, report = Formatter(tok, max_length=8).encode_all([sample(4, "the cat " * 20, "red")])
    assert report.truncated == [4]
    with pytest.raises(DataValidationError, match="row 4: all supervised tokens were cut"):
        validate_encoded(encoded)


def test_template_without_end_of_turn_token_is_refused(chat_model):
    tok = load_tokenizer(chat_model)
    tok.chat_template = (
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}assistant: {% endif %}"
    )
    enc = Formatter(tok).encode(sample(5, "q", "red cat."))
    with pytest.raises(DataValidationError, match="row 5: .*no special end-of-turn token"):
        validate_encoded([enc])


def test_masked_end_of_turn_is_refused(chat_model):
    tok = load_tokenizer(chat_model)
    enc = Formatter(tok).encode(sample(9, "q", "red cat."))
    enc.labels[enc.end_of_turn[0]] = IGNORE  # what a collator masking pad ids would do when pad == eos
    with pytest.raises(DataValidationError, match="row 9: the end-of-turn/eos token is masked"):
        validate_encoded([enc])


def test_overlength_policy_counts_truncated_and_dropped(chat_model):
    tok = load_tokenizer(chat_model)
    rows = [sample(0, "q", "a"), sample(1, "the cat " * 40, "a"), sample(2, "q", "b")]
    kept, rep = Formatter(tok, max_length=32, overlength="drop").encode_all(rows)
    assert [e.index for e in kept] == [0, 2] and rep.dropped_overlength == [1] and rep.to_dict()["rows_kept"] == 2
    kept, rep = Formatter(tok, max_length=32, overlength="truncate").encode_all(rows)
    assert len(kept) == 3 and rep.truncated == [1] and all(len(e.input_ids) <= 32 for e in kept)


def test_preview_marks_trained_segments(chat_model):
    tok = load_tokenizer(chat_model)
    out = preview(Formatter(tok), memorisable(5), n=3)
    assert len(out) == 3
    assert "[[" + memorisable(1)[0].answer in out[0]["rendered"]
    assert all(seg["trained"] is False for seg in out[0]["segments"][:1])
    assert sum(len(seg["text"]) for seg in out[0]["segments"]) > len(out[0]["segments"][-2]["text"])


def test_template_that_rejects_a_role_names_the_row(chat_model):
    tok = load_tokenizer(chat_model)
    tok.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'tool' %}{{ raise_exception('no tools') }}"
        "{% endif %}{{ m['content'] }}<|im_end|>{% endfor %}"
    )
    s = Sample(12, (Turn("user", "q"), Turn("function_call", "call()"), Turn("tool", "42"), Turn("assistant", "42.")))
    with pytest.raises(DataValidationError, match=r"row 12: the chat template cannot render roles"):
        Formatter(tok).encode(s)


def test_plain_text_row_trains_only_in_pretrain_mode(chat_model):
    tok = load_tokenizer(chat_model)
    row = Sample(6, (Turn("text", "the cat and the dog"),))
    assert Formatter(tok, mode="pretrain").encode(row).n_supervised > 0
    with pytest.raises(DataValidationError, match="row 6: no supervised tokens.*pretrain"):
        validate_encoded([Formatter(tok, mode="sft").encode(row)])


@pytest.mark.shared_data
def test_real_tool_call_and_chinese_rows_validate_with_every_reply_trained(shared_data, chat_model):
    """Glaive ShareGPT tool-calling conversations and Chinese alpaca rows through the real formatter."""
    import json

    from app.training_spec.checks import validate_data
    from app.training_spec.spec import TrainingSpec

    roles = {"human": "user", "gpt": "assistant", "function_call": "function_call", "observation": "tool"}
    glaive = json.loads((shared_data / "llama_factory" / "glaive_toolcall_en_demo.json").read_text())[:20]
    rows = [
        Sample(i, tuple(Turn(roles[t["from"]], t["value"]) for t in r["conversations"])) for i, r in enumerate(glaive)
    ]
    zh = json.loads((shared_data / "alpaca_chinese_carbonz0" / "zh-data-part-00.json").read_text())[:20]
    rows += [sample(100 + i, r["instruction"] + r["input"], r["output"]) for i, r in enumerate(zh) if r["output"]]
    tok = load_tokenizer(chat_model)
    spec = TrainingSpec(base_model=str(chat_model), max_length=16384)
    report = validate_data(spec, rows, tokenizer=tok)["main"]
    assert report["rows_kept"] == len(rows) and report["truncated"] == 0
    fmt = Formatter(tok, max_length=16384)
    for s in rows[:20]:
        enc = fmt.encode(s)
        replies = [t.content for t in s.turns if t.role in ("assistant", "function_call")]
        trained = supervised_text(tok, enc)
        assert trained.count("<|im_end|>") == len(replies)  # every reply and function call, each closed
        assert all(r in trained for r in replies)
        assert not any(t.content in trained for t in s.turns if t.role == "tool" and len(t.content) > 20)
