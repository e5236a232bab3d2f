"""Rows per second of the model signals on CPU: the product's batched paths beside a naive unbatched baseline.

    python -m bench.model_signals                 # ~5 minutes on 2 busy cores
    python -m bench.model_signals --rows 32 --judge-rows 8 --layers 2   # a quick look
    python -m bench.model_signals --data alpagasus/dolly_3k.json --signals lm   # longer prompts (contexts)

The models are random-init (no download), of a realistic small shape: by default SmolLM2-135M's width
(hidden 576, 9 heads, 3 KV heads, MLP 1536) and vocabulary size (49,152), with 4 of its 30 layers, so the
vocabulary-wide output layer carries the weight it carries in real small models.  The tokenizer is a
byte-level BPE trained here on the bench rows.  Rows are a seeded sample of Alpaca (shared data).

For each signal, the same rows through:

* ``perplexity + IFD`` (one conditional and one unconditional pass per row): the product's
  ``answer_losses`` (length-sorted batches, output layer on answer positions only) against one row at a
  time through the model's full forward (every position's logits), the way a first version would do it;
* ``reward``: ``rewards`` (tokenised once, length-sorted, dynamically padded batches) against one pair per
  forward pass;
* ``local judge``: ``LocalJudge.judge_many`` (left-padded, length-sorted generation batches) against one
  ``generate`` per row.

Both paths must agree (the largest difference is printed). On a GPU: ``bench/gpu_figures.py`` (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._data import load  # noqa: E402
from scorers.quality_judge import RUBRIC, JudgeParams  # noqa: E402
from scorers.samples import Sample  # noqa: E402

SPECIALS = ["<pad>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build_models(root: Path, texts: list[str], args) -> tuple[Path, Path]:
    """A byte-level BPE tokenizer trained on the rows, a random causal LM and a random reward model of one shape."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, LlamaForSequenceClassification, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        texts,
        trainers.BpeTrainer(
            vocab_size=args.vocab, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        ),
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        additional_special_tokens=SPECIALS[3:],
    )
    fast.chat_template = TEMPLATE
    shape = dict(
        vocab_size=args.vocab,
        hidden_size=args.hidden,
        intermediate_size=args.mlp,
        num_hidden_layers=args.layers,
        num_attention_heads=args.heads,
        num_key_value_heads=args.kv_heads,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
    )
    lm_dir, rm_dir = root / "lm", root / "rm"
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(**shape)).save_pretrained(lm_dir)
    LlamaForSequenceClassification(LlamaConfig(**shape, num_labels=1)).save_pretrained(rm_dir)
    for d in (lm_dir, rm_dir):
        fast.save_pretrained(d)
    print(
        f"tokenizer: byte-level BPE, {len(fast)} tokens learned (model vocabulary {args.vocab}); "
        f"model: {args.layers} layers × hidden {args.hidden}, MLP {args.mlp}, "
        f"{sum(p.numel() for p in LlamaForCausalLM(LlamaConfig(**shape)).parameters()) / 1e6:.1f}M parameters "
        f"(output layer {args.vocab * args.hidden / 1e6:.1f}M, tied)"
    )
    return lm_dir, rm_dir


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def report(name: str, rows: int, naive_s: float, batched_s: float, agreement: str) -> None:
    print(
        f"{name:<18} naive {rows / naive_s:8.2f} rows/s   product {rows / batched_s:8.2f} rows/s   "
        f"× {naive_s / batched_s:5.2f}   ({agreement})"
    )


# --- perplexity / IFD -----------------------------------------------------------------------------------
def naive_losses(model, seqs: list[list[int]], answer_lens: list[int]) -> np.ndarray:
    """One row at a time, the model's full forward: logits for every position, loss on the answer ones."""
    import torch

    out = []
    with torch.inference_mode():
        for seq, a in zip(seqs, answer_lens, strict=True):
            ids = torch.tensor([seq])
            logits = model(input_ids=ids, use_cache=False).logits[0]
            out.append(torch.nn.functional.cross_entropy(logits[-a - 1 : -1].float(), ids[0, -a:]).item())
    return np.array(out)


def bench_lm(samples: list[Sample], lm_dir: Path) -> None:
    from scorers import _lm
    from scorers._lm import answer_head_ok, answer_losses, default_batches, load_causal_lm
    from scorers.quality_models import LMParams, build_pairs

    p = LMParams()
    tok, model = load_causal_lm(str(lm_dir), "cpu")
    pairs = [pr for pr in build_pairs(tok, samples, p.max_length, p.max_answer_tokens) if pr]
    lens = [pr.answer_len for pr in pairs]
    passes = [[pr.conditional for pr in pairs], [pr.unconditional for pr in pairs]]
    tokens = sum(len(s) for seqs in passes for s in seqs)
    print(
        f"\nperplexity + IFD: {len(pairs)} rows, 2 passes, {tokens} tokens ({sum(lens) * 2} of them answer tokens); "
        f"answer-only output layer: {answer_head_ok(model)}"
    )

    def product():
        rows, tokens = default_batches("cpu")
        return [answer_losses(model, seqs, lens, tok.pad_token_id, rows, tokens) for seqs in passes]

    naive_losses(model, passes[0][:2], lens[:2])  # warm-up, so neither timed path pays first-call costs
    product()
    naive, t_naive = timed(lambda: [naive_losses(model, seqs, lens) for seqs in passes])
    fast, t_fast = timed(product)
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(naive, fast, strict=True))
    report("perplexity + IFD", len(pairs), t_naive, t_fast, f"largest loss difference {diff:.1e}")
    _lm._ANSWER_HEAD[id(model)] = False  # the same batches, logits from the first answer position on
    try:
        _, t_all = timed(product)
    finally:
        _lm._ANSWER_HEAD[id(model)] = True
    report("  batching alone", len(pairs), t_naive, t_all, "batched, logits_to_keep instead of answer positions only")


# --- reward ---------------------------------------------------------------------------------------------
def naive_rewards(samples: list[Sample], tok, model, max_length: int) -> np.ndarray:
    import torch

    out = []
    with torch.inference_mode():
        for s in samples:
            enc = tok(
                s.prompt_text,
                s.answer,
                truncation="only_first" if s.prompt_text else True,
                max_length=max_length,
                return_tensors="pt",
            )
            out.append(float(model(**enc).logits[0, 0]))
    return np.array(out)


def bench_reward(samples: list[Sample], rm_dir: Path) -> None:
    from scorers._lm import load_reward_model
    from scorers.quality_models import RewardParams, rewards

    p = RewardParams()
    tok, model = load_reward_model(str(rm_dir), "cpu")
    print(f"\nreward: {len(samples)} rows")
    naive_rewards(samples[:2], tok, model, p.max_length)  # warm-up
    naive, t_naive = timed(lambda: naive_rewards(samples, tok, model, p.max_length))
    fast, t_fast = timed(lambda: rewards(samples, tok, model, p.batch_size, p.max_length, p.batch_tokens))
    report(
        "reward", len(samples), t_naive, t_fast, f"largest reward difference {float(np.max(np.abs(naive - fast))):.1e}"
    )


# --- local judge ----------------------------------------------------------------------------------------
def bench_judge(samples: list[Sample], lm_dir: Path, max_tokens: int) -> None:
    import torch
    from transformers import GenerationConfig

    from scorers._judge_local import LocalJudge

    judge = LocalJudge(str(lm_dir), "cpu", JudgeParams(max_tokens=max_tokens))
    tok, model = judge.tok, judge.model
    config = GenerationConfig(
        max_new_tokens=max_tokens,
        min_new_tokens=max_tokens,
        do_sample=False,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
    )
    prompts = [judge.prompt_ids(s) for s in samples]
    print(
        f"\nlocal judge: {len(samples)} rows, prompts of {min(map(len, prompts))}–{max(map(len, prompts))} tokens, "
        f"{max_tokens} new tokens each (greedy)"
    )

    def naive():
        with torch.inference_mode():
            return [
                model.generate(input_ids=torch.tensor([ids]), generation_config=config)[0, len(ids) :].tolist()
                for ids in prompts
            ]

    def batched():  # the product path, made to write exactly max_tokens tokens (as the naive one)
        original = model.generate
        model.generate = lambda **kw: original(**{**kw, "generation_config": config})
        try:
            return judge.judge_many(samples)
        finally:
            model.generate = original

    model.generate(input_ids=torch.tensor([prompts[0]]), generation_config=config)  # warm-up
    _, t_naive = timed(naive)
    verdicts, t_fast = timed(batched)
    report(
        "local judge",
        len(samples),
        t_naive,
        t_fast,
        f"{sum(v.error is not None and v.error.startswith('parse') for v in verdicts)} of {len(verdicts)} "
        "replies unparseable, as expected of a random model",
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="stanford_alpaca/alpaca_data.json")
    ap.add_argument("--rows", type=int, default=96, help="rows for perplexity/IFD and reward")
    ap.add_argument("--judge-rows", type=int, default=16)
    ap.add_argument("--judge-tokens", type=int, default=24, help="tokens the judge writes per row")
    ap.add_argument("--vocab", type=int, default=49152)
    ap.add_argument("--hidden", type=int, default=576)
    ap.add_argument("--mlp", type=int, default=1536)
    ap.add_argument("--heads", type=int, default=9)
    ap.add_argument("--kv-heads", type=int, default=3)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--signals", default="lm,reward,judge", help="which of lm, reward, judge to run")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    everything = load(args.data)
    rng = random.Random(args.seed)
    picked = [everything[i] for i in sorted(rng.sample(range(len(everything)), max(args.rows, args.judge_rows)))]
    samples = [s for s in picked if s.answer.strip()][: args.rows]
    texts = [s.text for s in rng.sample(everything, min(5000, len(everything)))] + [RUBRIC]
    print(
        f"{len(samples)} rows of {args.data} (seed {args.seed}); torch {torch.__version__}, {args.threads} threads; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        lm_dir, rm_dir = build_models(Path(tmp), texts, args)
        signals = set(args.signals.split(","))
        if "lm" in signals:
            bench_lm(samples, lm_dir)
        if "reward" in signals:
            bench_reward(samples, rm_dir)
        if "judge" in signals:
            bench_judge(samples[: args.judge_rows], lm_dir, args.judge_tokens)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f} (rows/s are comparable within this run only)")


if __name__ == "__main__":
    main()
