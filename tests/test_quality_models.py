"""Language-model and reward-model signals, with tiny random models built in code (no downloads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scorers import ModelConfig, run_audit, sample
from scorers.context import ScoringContext
from scorers.samples import Sample, Turn

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

CORPUS = [
    "what is the capital of france",
    "paris is the capital of france",
    "give three tips for staying healthy",
    "eat well sleep enough and exercise",
    "add two and three",
    "two plus three is five",
    "name a colour",
    "blue",
    "write a short poem about the sea",
    "the sea is wide and blue and deep",
    "user assistant system",
]
TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} </s> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def _tokenizer(path: Path, corpus: list[str] | None = None):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    specials = ["<pad>", "<s>", "</s>", "<unk>", "<|user|>", "<|assistant|>", "<|system|>"]
    tok.train_from_iterator(corpus or CORPUS, trainers.WordLevelTrainer(special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        additional_special_tokens=specials[4:],
    )
    fast.save_pretrained(path)
    return fast


def _llama_config(vocab: int, **kw):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        **kw,
    )


@pytest.fixture(scope="module")
def lm_dir(tmp_path_factory) -> Path:
    from transformers import LlamaForCausalLM

    path = tmp_path_factory.mktemp("tiny_llama")
    tok = _tokenizer(path)
    torch.manual_seed(0)
    LlamaForCausalLM(_llama_config(len(tok))).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def templated_lm_dir(tmp_path_factory, lm_dir: Path) -> Path:
    import shutil

    from transformers import AutoTokenizer

    path = tmp_path_factory.mktemp("tiny_llama_chat")
    shutil.copytree(lm_dir, path, dirs_exist_ok=True)
    tok = AutoTokenizer.from_pretrained(path)
    tok.chat_template = TEMPLATE
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def rm_dir(tmp_path_factory) -> Path:
    from transformers import LlamaForSequenceClassification

    path = tmp_path_factory.mktemp("tiny_rm")
    tok = _tokenizer(path)
    torch.manual_seed(1)
    LlamaForSequenceClassification(_llama_config(len(tok), num_labels=1)).save_pretrained(path)
    return path


def _rows():
    return [
        sample(0, "What is the capital of France?", "Paris is the capital of France."),
        sample(1, "Give three tips for staying healthy.", "Eat well, sleep enough and exercise."),
        sample(2, "Add two and three.", "Two plus three is five."),
        sample(3, "Name a colour.", "Blue."),
        sample(4, "Write a short poem about the sea.", "The sea is wide and blue and deep, the sea is wide and blue."),
        sample(5, "What is the capital of France?", "Blue."),
    ]


def _field(out, name):
    return [rec[name] for rec in out.samples]


def test_not_computed_without_a_model() -> None:
    out = run_audit(_rows(), scorers=["answer_perplexity", "answer_ifd", "answer_reward"], models=ModelConfig())
    for run in out.report["scorers"]:
        assert run["status"] == "not_computed" and "configured" in run["reason"]


def test_loss_is_taken_on_answer_tokens_only(lm_dir: Path) -> None:
    from scorers.quality_models import answer_losses, build_pair, load_causal_lm

    tok, model = load_causal_lm(str(lm_dir), "cpu")
    s = _rows()[0]
    pair = build_pair(tok, s, max_length=64, max_answer_tokens=64)
    answer_ids = tok(s.answer, add_special_tokens=False)["input_ids"]
    assert pair.conditional[-len(answer_ids) :] == answer_ids
    assert pair.unconditional == [tok.bos_token_id, *answer_ids]
    got = answer_losses(model, [pair.conditional], [pair.answer_len], 0, 1)[0]
    # by hand: cross-entropy of the answer positions only
    with torch.no_grad():
        logits = model(torch.tensor([pair.conditional])).logits[0]
    k = len(answer_ids)
    pred = logits[-k - 1 : -1]
    manual = torch.nn.functional.cross_entropy(pred, torch.tensor(answer_ids)).item()
    assert got == pytest.approx(manual, rel=1e-5)
    # a different prompt changes the conditional loss, never the unconditional one
    other = build_pair(tok, sample(0, "Name a colour.", s.answer), 64, 64)
    assert other.unconditional == pair.unconditional
    assert answer_losses(model, [other.conditional], [k], 0, 1)[0] != pytest.approx(got, rel=1e-6)


def test_pairs_tokenised_in_a_batch_are_the_row_by_row_pairs(lm_dir: Path, templated_lm_dir: Path) -> None:
    """build_pairs (two batched tokenizer calls) gives exactly build_pair's tokens: plain prompts, a chat template,
    a system turn, a multi-turn row, an empty answer, cuts at max_length / max_answer_tokens, and a template that
    refuses a conversation (then every row goes on its own)."""
    from jinja2 import TemplateError
    from transformers import AutoTokenizer

    from scorers.quality_models import build_pair, build_pairs

    rows = [
        *_rows(),
        Sample(6, (Turn("user", "Hi"), Turn("assistant", "Hello."), Turn("user", "Bye"), Turn("assistant", "Bye!"))),
        Sample(7, (Turn("user", "Say hi."), Turn("assistant", "hi")), system="Be brief."),
        sample(8, "Answer with nothing.", ""),
        sample(9, "Write a long line. " * 30, "word " * 80),
    ]
    for path in (lm_dir, templated_lm_dir):
        tok = AutoTokenizer.from_pretrained(path)
        for max_length, max_answer in ((64, 64), (24, 16)):
            assert build_pairs(tok, rows, max_length, max_answer) == [
                build_pair(tok, s, max_length, max_answer) for s in rows
            ]
    tok = AutoTokenizer.from_pretrained(templated_lm_dir)
    original = tok.apply_chat_template

    def no_system(messages, **kw):
        if any(m["role"] == "system" for m in messages):
            raise TemplateError("System role not supported")
        return original(messages, **kw)

    tok.apply_chat_template = no_system
    assert build_pairs(tok, rows, 64, 64) == [build_pair(tok, s, 64, 64) for s in rows]
    assert build_pairs(tok, [], 64, 64) == []


def test_same_scores_at_batch_1_and_16(lm_dir: Path) -> None:
    models = ModelConfig(language_model=str(lm_dir), device="cpu")
    outs = [
        run_audit(
            _rows(),
            scorers=["answer_ifd", "answer_perplexity"],
            models=models,
            params={"answer_ifd": {"batch_size": b}, "answer_perplexity": {"batch_size": b}},
        )
        for b in (1, 16)
    ]
    a, b = (np.array([r["answer_ifd"]["ifd"] for r in o.samples]) for o in outs)
    assert np.all(np.isfinite(a)) and np.allclose(a, b, rtol=1e-5)
    pa, pb = (np.array([r["answer_perplexity"]["perplexity"] for r in o.samples]) for o in outs)
    assert np.allclose(pa, pb, rtol=1e-5) and np.all(pa > 1)


def test_chat_template_is_applied_when_the_tokenizer_has_one(lm_dir: Path, templated_lm_dir: Path) -> None:
    from scorers.quality_models import build_pair, load_causal_lm, prompt_ids

    plain_tok, _ = load_causal_lm(str(lm_dir), "cpu")
    chat_tok, _ = load_causal_lm(str(templated_lm_dir), "cpu")
    s = _rows()[0]
    ids = prompt_ids(chat_tok, s)
    toks = chat_tok.convert_ids_to_tokens(ids)
    assert toks[0] == "<|user|>" and toks[-1] == "<|assistant|>"  # generation prompt added
    assert "<|user|>" not in plain_tok.convert_ids_to_tokens(prompt_ids(plain_tok, s))
    # the answer tokens scored are the same with or without the template
    assert build_pair(chat_tok, s, 64, 64).unconditional == build_pair(plain_tok, s, 64, 64).unconditional
    out = run_audit(_rows(), scorers=["answer_ifd"], models=ModelConfig(language_model=str(templated_lm_dir)))
    assert out.report["dimensions"]["answer_quality"]["figures"]["answer_ifd"]["chat_template"] is True


def test_truncation_is_identical_in_both_passes(lm_dir: Path) -> None:
    from scorers.quality_models import build_pair, load_causal_lm

    tok, _ = load_causal_lm(str(lm_dir), "cpu")
    s = sample(0, "write a short poem about the sea " * 5, "the sea is wide and blue and deep " * 3)
    pair = build_pair(tok, s, max_length=12, max_answer_tokens=5)
    assert pair.answer_len == 5
    assert len(pair.conditional) <= 12
    assert pair.conditional[-5:] == pair.unconditional[-5:] == tok(s.answer, add_special_tokens=False)["input_ids"][:5]


def test_ifd_flag_threshold_and_combined_score(lm_dir: Path) -> None:
    models = ModelConfig(language_model=str(lm_dir))
    flagged = run_audit(_rows(), scorers=["answer_ifd"], models=models, params={"answer_ifd": {"flag_at": 1e-6}})
    assert all(any(f["code"] == "instruction_does_not_help" for f in r["flags"]) for r in flagged.samples)
    none = run_audit(_rows(), scorers=["answer_ifd"], models=models, params={"answer_ifd": {"flag_at": 1e6}})
    assert not any(r["flags"] for r in none.samples)
    out = run_audit(_rows(), scorers=["answer_ifd", "answer_perplexity", "answer_quality"], models=models)
    summary = out.report["dimensions"]["answer_quality"]["figures"]["answer_quality"]
    assert summary["signals"]["answer_ifd"] == "ran" and summary["signals"]["answer_perplexity"] == "ran"
    for rec in out.samples:
        ifd = rec["answer_ifd"]["score"]
        assert rec["answer_quality_breakdown"]["completeness"] is not None
        assert 0 <= ifd <= 1


def test_reward_model_scores_pairs_batch_invariant(rm_dir: Path) -> None:
    models = ModelConfig(reward_model=str(rm_dir))
    outs = [
        run_audit(_rows(), scorers=["answer_reward"], models=models, params={"answer_reward": {"batch_size": b}})
        for b in (1, 16)
    ]
    a, b = (np.array([r["answer_reward"]["reward"] for r in o.samples]) for o in outs)
    assert np.all(np.isfinite(a)) and np.allclose(a, b, rtol=1e-4, atol=1e-5)
    scores = [r["answer_reward"]["score"] for r in outs[0].samples]
    assert scores[int(np.argmax(a))] == max(scores) and scores[int(np.argmin(a))] == min(scores)
    # the reward changes with the answer
    assert len(set(np.round(a, 6))) > 1


def test_percentile_scores_polarity() -> None:
    from scorers.quality_models import percentile_scores

    v = np.array([3.0, 1.0, np.nan, 2.0])
    low_best = percentile_scores(v, higher_is_better=False)
    assert low_best[2] is None and low_best[1] > low_best[3] > low_best[0]
    assert percentile_scores(v, higher_is_better=True)[0] > percentile_scores(v, higher_is_better=True)[1]


def test_lm_scores_are_memoised_per_context(lm_dir: Path) -> None:
    from scorers.quality_models import LMParams, lm_scores

    ctx = ScoringContext(samples=_rows(), models=ModelConfig(language_model=str(lm_dir)))
    first = lm_scores(ctx.samples, ctx, LMParams())
    assert lm_scores(ctx.samples, ctx, LMParams()) is first


# --- any local directory, or a clear reason -------------------------------------------------------------
def _broken_dirs(root: Path, lm_dir: Path) -> dict[str, Path]:
    """Directories a user might point a model role at by mistake, built small in code."""
    import shutil

    from transformers import BertConfig, BertModel, LlamaForCausalLM, T5Config, T5ForConditionalGeneration

    dirs = {name: root / name for name in ("no_tokenizer", "encoder", "seq2seq", "no_weights", "wrong_vocab")}
    torch.manual_seed(0)
    LlamaForCausalLM(_llama_config(40)).save_pretrained(dirs["no_tokenizer"])
    BertModel(
        BertConfig(vocab_size=64, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    ).save_pretrained(dirs["encoder"])
    _tokenizer(dirs["encoder"])
    T5ForConditionalGeneration(
        T5Config(vocab_size=64, d_model=32, d_ff=64, num_layers=1, num_heads=2, d_kv=16)
    ).save_pretrained(dirs["seq2seq"])
    _tokenizer(dirs["seq2seq"])
    _llama_config(40).save_pretrained(dirs["no_weights"])
    _tokenizer(dirs["no_weights"])
    shutil.copytree(lm_dir, dirs["wrong_vocab"])
    LlamaForCausalLM(_llama_config(8)).save_pretrained(dirs["wrong_vocab"])  # a tokenizer of more tokens than it embeds
    (root / "weights.bin").write_bytes(b"not a directory")
    dirs["a_file"] = root / "weights.bin"
    return dirs


@pytest.mark.parametrize(
    "case, reason",
    [
        ("no_tokenizer", "has no tokenizer"),
        ("encoder", "(BertModel) lacks 6 weight(s) of a causal language model"),
        ("seq2seq", "not a causal language model"),
        ("no_weights", "could not load the language model weights"),
        ("wrong_vocab", "do not belong together"),
        ("a_file", "is not a directory"),
        ("reward_as_lm", "lacks 1 weight(s) of a causal language model (e.g. lm_head.weight)"),
    ],
)
def test_language_model_directories_that_cannot_work_say_why(tmp_path, lm_dir, rm_dir, case, reason) -> None:
    path = rm_dir if case == "reward_as_lm" else _broken_dirs(tmp_path, lm_dir)[case]
    out = run_audit(_rows(), scorers=["answer_perplexity", "answer_ifd"], models=ModelConfig(language_model=str(path)))
    for run in out.report["scorers"]:
        assert run["status"] == "not_computed" and reason in run["reason"], run


def test_a_causal_lm_given_as_the_reward_model_is_refused_not_scored_by_a_random_head(lm_dir: Path) -> None:
    out = run_audit(_rows(), scorers=["answer_reward"], models=ModelConfig(reward_model=str(lm_dir)))
    (run,) = out.report["scorers"]
    assert run["status"] == "not_computed"
    assert "LlamaForCausalLM" in run["reason"] and "score.weight" in run["reason"] and "random" in run["reason"]


def test_a_gguf_file_path_is_its_directory_and_file() -> None:
    from scorers._lm import split_gguf

    assert split_gguf("/models/x", None) == ("/models/x", None)


# --- batches and logits ---------------------------------------------------------------------------------
def test_length_batches_sort_pack_and_respect_the_token_budget() -> None:
    from scorers._lm import length_batches

    lengths = [5, 100, 7, 3, 60, 61, 8, 2, 400]
    batches = length_batches(lengths, max_rows=3, max_tokens=130)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(flat)  # length-sorted
    for b in batches:
        assert len(b) <= 3 and (len(b) == 1 or max(lengths[i] for i in b) * len(b) <= 130)
    assert [lengths[i] for i in batches[-1]] == [400]  # over the budget alone: a batch of its own


def _lm_rows(lm_dir: Path):
    """The tiny LM and its conditional sequences and answer lengths for the test rows."""
    from scorers.quality_models import build_pair, load_causal_lm

    tok, model = load_causal_lm(str(lm_dir), "cpu")
    pairs = [build_pair(tok, s, 64, 64) for s in _rows()]
    return model, [p.conditional for p in pairs], [p.answer_len for p in pairs]


def _head_rows(model, fn):
    """(fn's result, rows the output layer saw per call)."""
    seen: list[int] = []
    hook = model.get_output_embeddings().register_forward_hook(lambda m, args, out: seen.append(args[0].shape[0]))
    try:
        return fn(), seen
    finally:
        hook.remove()


def test_only_answer_positions_reach_the_output_layer(lm_dir: Path) -> None:
    from scorers import _lm

    model, seqs, lens = _lm_rows(lm_dir)
    assert _lm.answer_head_ok(model)
    sliced, rows_seen = _head_rows(model, lambda: _lm.answer_losses(model, seqs, lens, 0, batch_size=4))
    assert sum(rows_seen) == sum(lens) < sum(len(s) for s in seqs)  # prompt positions never went through it
    # the fallback (the model's own logits from the first answer position) gives the same losses
    _lm._ANSWER_HEAD[id(model)] = False
    try:
        full = _lm.answer_losses(model, seqs, lens, 0, batch_size=4)
    finally:
        _lm._ANSWER_HEAD[id(model)] = True
    assert np.allclose(sliced, full, rtol=1e-5)


def test_output_layer_runs_in_bounded_chunks_and_a_batch_out_of_memory_is_split(lm_dir: Path, monkeypatch) -> None:
    """The float32 logits are bounded by HEAD_CHUNK answer positions a call; a batch the GPU cannot hold is split in
    two and retried, with the same losses as when it fitted."""
    import torch

    from scorers import _lm

    model, seqs, lens = _lm_rows(lm_dir)
    whole = _lm.answer_losses(model, seqs, lens, 0, batch_size=64)

    monkeypatch.setattr(_lm, "HEAD_CHUNK", 3)
    chunked, calls = _head_rows(model, lambda: _lm.answer_losses(model, seqs, lens, 0, batch_size=64))
    assert max(calls) <= 3 and sum(calls) == sum(lens)
    assert np.allclose(chunked, whole, rtol=1e-5)

    real = _lm._batch_losses
    tried: list[int] = []

    def small_card(model, batch, *args):
        tried.append(len(batch))
        if len(batch) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(model, batch, *args)

    monkeypatch.setattr(_lm, "_batch_losses", small_card)
    done: list[int] = []
    split = _lm.answer_losses(model, seqs, lens, 0, batch_size=64, progress=lambda d, t: done.append(d))
    assert tried[0] == len(seqs) > 2 and max(n for n in tried if n <= 2) <= 2
    assert np.allclose(split, whole, rtol=1e-5)
    assert done[-1] == len(seqs) and done == sorted(done)


def test_same_scores_whatever_the_token_budget(lm_dir: Path, rm_dir: Path) -> None:
    models = ModelConfig(language_model=str(lm_dir), reward_model=str(rm_dir), device="cpu")
    outs = [
        run_audit(
            _rows(),
            scorers=["answer_ifd", "answer_reward"],
            models=models,
            params={"answer_ifd": {"batch_tokens": t}, "answer_reward": {"batch_tokens": t}},
        )
        for t in (64, 16384)
    ]
    a, b = (np.array([r["answer_ifd"]["ifd"] for r in o.samples]) for o in outs)
    assert np.allclose(a, b, rtol=1e-5)
    ra, rb = (np.array([r["answer_reward"]["reward"] for r in o.samples]) for o in outs)
    assert np.allclose(ra, rb, rtol=1e-4, atol=1e-5)
    figures = outs[0].report["dimensions"]["answer_quality"]["figures"]["answer_ifd"]
    assert figures["device"] == "cpu" and figures["logits"] == "answer positions only"
