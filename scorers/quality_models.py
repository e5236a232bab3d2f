"""Answer-quality signals from local models: language-model perplexity and IFD, and a reward model.

* ``answer_perplexity`` and ``answer_ifd`` share one set of forward passes with the configured causal
  LM (``ModelConfig.language_model``, any transformers directory).  For every sample the answer is
  scored twice: given the prompt (with the tokenizer's chat template when it has one) and alone
  (after the BOS token).  Loss is taken on the answer tokens only, and the answer is truncated the
  same way in both passes (its first ``max_answer_tokens`` tokens; the prompt is cut from the left
  to fit ``max_length``).  Perplexity = exp(conditional loss); IFD (instruction-following
  difficulty, Li et al. 2023) = conditional loss ÷ unconditional loss; IFD ≥ 1 means the instruction
  does not help predict the answer.
* ``answer_reward`` scores (instruction, answer) with a sequence-classification reward model
  (``ModelConfig.reward_model``, e.g. OpenAssistant's DeBERTa reward models).

Loading, batching and devices live in :mod:`scorers._lm`: any local model directory is accepted or
refused with a reason (no tokenizer, no weights, a model of the wrong kind); rows go in length-sorted,
dynamically padded batches (``batch_size`` rows, ``batch_tokens`` padded tokens); a GPU is used when the
worker has one; and only the positions that predict answer tokens go through the vocabulary-wide
output layer.  torch and transformers are imported lazily (the API process imports this module for
the registry).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from scorers._lm import (
    answer_head_ok,
    answer_losses,
    default_batches,
    length_batches,
    load_causal_lm,
    load_reward_model,
)
from scorers.base import Flag, Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.samples import Sample

__all__ = [
    "answer_losses",
    "build_pair",
    "load_causal_lm",
    "load_reward_model",
    "prompt_ids",
    "lm_scores",
    "percentile_scores",
    "rewards",
]


# --- building the two passes --------------------------------------------------------------------------
def _messages(s: Sample) -> list[dict[str, str]]:
    """The conversation up to (not including) the final answer, as chat-template messages."""
    msgs = [{"role": "system", "content": s.system}] if s.system else []
    last = max((i for i, t in enumerate(s.turns) if t.role == "assistant"), default=len(s.turns))
    for t in s.turns[:last]:
        role = t.role if t.role in ("user", "assistant", "system") else "user"
        msgs.append({"role": role, "content": t.content})
    return msgs


def prompt_ids(tok, s: Sample) -> list[int]:
    """Token ids of everything before the answer; the chat template (with its generation prompt) when the tokenizer has one."""
    if getattr(tok, "chat_template", None):
        from jinja2 import TemplateError

        try:
            ids = tok.apply_chat_template(_messages(s), add_generation_prompt=True, tokenize=True)
        except (TemplateError, ValueError):  # a template that refuses this conversation (e.g. a system turn)
            ids = None
        if ids is not None:
            if isinstance(ids, dict) or hasattr(ids, "keys"):
                ids = ids["input_ids"]
            return list(ids)
    text = s.prompt_text + "\n"
    return list(tok(text, add_special_tokens=True)["input_ids"])


def _prompt_texts(tok, samples: Sequence[Sample]) -> tuple[list[str], bool]:
    """Everything before each answer as text, and whether the tokenizer must add its special tokens to it (not to a
    rendered chat template, which holds them; what ``apply_chat_template(tokenize=True)`` does)."""
    if getattr(tok, "chat_template", None):
        from jinja2 import TemplateError

        rendered: list[str] = []
        for s in samples:
            try:
                rendered.append(tok.apply_chat_template(_messages(s), add_generation_prompt=True, tokenize=False))
            except (TemplateError, ValueError):  # a template that refuses one conversation: each row on its own
                return [], False
        return rendered, False
    return [s.prompt_text + "\n" for s in samples], True


def build_pairs(tok, samples: Sequence[Sample], max_length: int, max_answer_tokens: int) -> list[Pair | None]:
    """:func:`build_pair` for every sample, the texts tokenised in two batched calls (a fast tokenizer's batch runs
    on every core: on the GPU bench, tokenising row by row was a third of the IFD time)."""
    if not samples:
        return []
    texts, special = _prompt_texts(tok, samples)
    if not texts:
        return [build_pair(tok, s, max_length, max_answer_tokens) for s in samples]
    prompts = tok(texts, add_special_tokens=special)["input_ids"]
    answers = tok([s.answer for s in samples], add_special_tokens=False)["input_ids"]
    return [_pair(tok, list(p), list(a)[:max_answer_tokens], max_length) for p, a in zip(prompts, answers, strict=True)]


@dataclass
class Pair:
    conditional: list[int]
    unconditional: list[int]
    answer_len: int  # answer tokens scored (the same in both passes)


def build_pair(tok, s: Sample, max_length: int, max_answer_tokens: int) -> Pair | None:
    answer = list(tok(s.answer, add_special_tokens=False)["input_ids"])[:max_answer_tokens]
    return _pair(tok, None, answer, max_length, s)


def _pair(tok, prompt: list[int] | None, answer: list[int], max_length: int, s: Sample | None = None) -> Pair | None:
    """The two passes of one row from its tokens (the prompt's are read from ``s`` when not given)."""
    start = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
    if start is None:  # nothing to condition the first answer token on alone: drop it from both passes
        if len(answer) < 2:
            return None
        start, answer = answer[0], answer[1:]
    if not answer:
        return None
    room = max(max_length - len(answer), 1)
    if prompt is None:
        assert s is not None
        prompt = prompt_ids(tok, s)
    prompt = prompt[-room:]
    return Pair(conditional=prompt + answer, unconditional=[start] + answer, answer_len=len(answer))


class LMParams(ScorerParams):
    batch_size: int | None = Field(
        None, ge=1, le=512, description="Most sequences per forward pass (unset: 16 on CPU, 512 on a GPU)."
    )
    batch_tokens: int | None = Field(
        None,
        ge=64,
        description="Most padded tokens per forward pass (length-sorted batches: short rows pack many to a batch, "
        "long ones few; unset: 16,384 on CPU, 131,072 on a GPU, where a batch the card cannot hold is split).",
    )
    max_length: int = Field(1024, ge=8, description="Longest conditional sequence (prompt + answer) in tokens.")
    max_answer_tokens: int = Field(
        512, ge=1, description="Answers are cut to their first this many tokens in both passes."
    )
    gguf_file: str | None = Field(
        None, description="File name inside the language-model directory when it is a GGUF checkpoint."
    )


def lm_scores(samples: Sequence[Sample], ctx: ScoringContext, p: LMParams) -> dict[str, Any]:
    """Conditional and unconditional answer losses for every sample (shared by perplexity and IFD)."""

    def compute() -> dict[str, Any]:
        path = str(ctx.models.path("language_model"))
        tok, model = load_causal_lm(path, ctx.models.device, p.gguf_file)
        pad = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
        rows, tokens = default_batches(str(next(model.parameters()).device))
        batch_size, batch_tokens = p.batch_size or rows, p.batch_tokens or tokens
        pairs = build_pairs(tok, samples, p.max_length, p.max_answer_tokens)
        live = [i for i, pr in enumerate(pairs) if pr is not None]
        cond = np.full(len(samples), np.nan)
        unc = np.full(len(samples), np.nan)
        if live:
            lens = [pairs[i].answer_len for i in live]
            with ctx.part(0.5):  # the pass with the prompt (longer rows) …
                cond[live] = answer_losses(
                    model,
                    [pairs[i].conditional for i in live],
                    lens,
                    pad,
                    batch_size,
                    batch_tokens,
                    progress=lambda d, t: ctx.step(d, t, "rows scored with the prompt"),
                )
            with ctx.part(1.0):  # … and the one without it
                unc[live] = answer_losses(
                    model,
                    [pairs[i].unconditional for i in live],
                    lens,
                    pad,
                    batch_size,
                    batch_tokens,
                    progress=lambda d, t: ctx.step(d, t, "rows scored without the prompt"),
                )
        return {
            "conditional": cond,
            "unconditional": unc,
            "answer_tokens": [pr.answer_len if pr else 0 for pr in pairs],
            "template": bool(getattr(tok, "chat_template", None)),
            "device": str(next(model.parameters()).device),
            "logits": "answer positions only" if answer_head_ok(model) else "from the first answer position",
        }

    key = f"lm:{ctx.models.model_id('language_model')}:{p.model_dump_json()}"
    return ctx.memo(key, compute)


def percentile_scores(values: np.ndarray, higher_is_better: bool) -> list[float | None]:
    """Mid-rank percentile of each finite value within the dataset (None for missing)."""
    ok = np.isfinite(values)
    out: list[float | None] = [None] * len(values)
    v = values[ok]
    if len(v) == 0:
        return out
    order = np.sort(v)
    lo = np.searchsorted(order, v, side="left")
    hi = np.searchsorted(order, v, side="right")
    pct = (lo + hi) / 2 / len(v) if len(v) > 1 else np.full(1, 0.5)
    pct = pct if higher_is_better else 1 - pct
    for k, i in enumerate(np.flatnonzero(ok)):
        out[i] = float(min(1.0, max(0.0, pct[k])))
    return out


@register
class AnswerPerplexity(Scorer):
    """Perplexity of the answer given its prompt under the configured causal LM (fluency)."""

    name = "answer_perplexity"
    cost = 1500  # two model passes shared with answer_ifd, ~1.6 rows/s on CPU
    version = "1"
    dimension = "answer_quality"
    Params = LMParams
    needs_models = ("language_model",)

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        n = len(samples)
        if n == 0:
            return ScorerResult(scores=None, flags=[], fields=[], summary={})
        r = lm_scores(samples, ctx, self.params)
        ppl = np.exp(np.minimum(r["conditional"], 50.0))
        pct = percentile_scores(np.log(ppl), higher_is_better=False)
        fields = [
            {
                "answer_perplexity": {
                    "score": pct[i],
                    "perplexity": float(ppl[i]) if np.isfinite(ppl[i]) else None,
                    "answer_tokens": r["answer_tokens"][i],
                }
            }
            for i in range(n)
        ]
        finite = ppl[np.isfinite(ppl)]
        return ScorerResult(
            scores=None,
            flags=[[] for _ in range(n)],
            fields=fields,
            summary={
                "median_perplexity": float(np.median(finite)) if len(finite) else None,
                "chat_template": r["template"],
                "samples_scored": int(len(finite)),
                "device": r["device"],
                "logits": r["logits"],
                "score": "percentile of perplexity within the dataset (1 = lowest)",
            },
        )


class IFDParams(LMParams):
    flag_at: float = Field(1.0, gt=0, description="Flag samples whose IFD is at least this.")


@register
class AnswerIFD(Scorer):
    """Instruction-following difficulty: loss of the answer given the instruction ÷ loss of the answer alone."""

    name = "answer_ifd"
    cost = 1500  # two model passes shared with answer_perplexity
    version = "1"
    dimension = "answer_quality"
    Params = IFDParams
    needs_models = ("language_model",)

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        n = len(samples)
        if n == 0:
            return ScorerResult(scores=None, flags=[], fields=[], summary={})
        lm = LMParams(**self.params.model_dump(exclude={"flag_at"}))
        r = lm_scores(samples, ctx, lm)
        ifd = r["conditional"] / r["unconditional"]
        flags: list[list[Flag]] = [[] for _ in range(n)]
        fields: list[dict] = []
        for i in range(n):
            v = float(ifd[i])
            if not math.isfinite(v):
                fields.append({"answer_ifd": {"score": None, "ifd": None}})
                continue
            # 1 below IFD 0.9, 0.5 at IFD 1.0, 0 from IFD 1.1
            fields.append({"answer_ifd": {"score": float(min(1.0, max(0.0, (1.1 - v) / 0.2))), "ifd": v}})
            if v >= self.params.flag_at:
                flags[i].append(
                    Flag(
                        "instruction_does_not_help",
                        "answer_quality",
                        "warning",
                        f"IFD {v:.2f}: the answer is no easier to predict with the instruction than without it "
                        f"(loss {r['conditional'][i]:.2f} given the instruction, {r['unconditional'][i]:.2f} alone)",
                    )
                )
        finite = ifd[np.isfinite(ifd)]
        return ScorerResult(
            scores=None,
            flags=flags,
            fields=fields,
            summary={
                "median_ifd": float(np.median(finite)) if len(finite) else None,
                "samples_ifd_at_least_flag": int((finite >= self.params.flag_at).sum()),
                "chat_template": r["template"],
                "samples_scored": int(len(finite)),
                "device": r["device"],
                "logits": r["logits"],
            },
        )


# --- reward model ---------------------------------------------------------------------------------------
class RewardParams(ScorerParams):
    batch_size: int = Field(16, ge=1, le=512, description="Most pairs per forward pass.")
    batch_tokens: int = Field(16384, ge=64, description="Most padded tokens per forward pass (length-sorted batches).")
    max_length: int = Field(
        512, ge=8, description="Tokens of (instruction, answer) kept; the instruction is cut first."
    )


def rewards(
    samples: Sequence[Sample],
    tok,
    model,
    batch_size: int,
    max_length: int,
    batch_tokens: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Reward of every (prompt, answer) pair: tokenised once, then length-sorted, dynamically padded batches;
    ``progress(done, total)`` hears the rows scored after each batch."""
    import torch

    dev = next(model.parameters()).device
    out = np.full(len(samples), np.nan)
    if not samples:
        return out
    enc = [
        tok(s.prompt_text, s.answer, truncation="only_first" if s.prompt_text else True, max_length=max_length)
        for s in samples
    ]
    done = 0
    for idx in length_batches([len(e["input_ids"]) for e in enc], batch_size, batch_tokens):
        batch = tok.pad([enc[i] for i in idx], padding=True, return_tensors="pt")
        with torch.inference_mode():
            logits = model(**{k: v.to(dev) for k, v in batch.items()}).logits.float()
        vals = logits[:, 0] if logits.shape[1] == 1 else torch.log_softmax(logits, -1)[:, -1]
        out[idx] = vals.cpu().numpy()
        done += len(idx)
        if progress is not None:
            progress(done, len(samples))
    return out


@register
class AnswerReward(Scorer):
    """Reward-model score of (instruction, answer) with a local sequence-classification model."""

    name = "answer_reward"
    cost = 1500  # one reward-model pass per row
    version = "1"
    dimension = "answer_quality"
    Params = RewardParams
    needs_models = ("reward_model",)

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        n = len(samples)
        if n == 0:
            return ScorerResult(scores=None, flags=[], fields=[], summary={})
        tok, model = load_reward_model(str(ctx.models.path("reward_model")), ctx.models.device)
        r = ctx.memo(
            f"reward:{ctx.models.model_id('reward_model')}:{self.params.model_dump_json()}",
            lambda: rewards(
                samples,
                tok,
                model,
                self.params.batch_size,
                self.params.max_length,
                self.params.batch_tokens,
                progress=lambda d, t: ctx.step(d, t, "rows rewarded"),
            ),
        )
        pct = percentile_scores(r, higher_is_better=True)
        fields = [
            {"answer_reward": {"score": pct[i], "reward": float(r[i]) if np.isfinite(r[i]) else None}} for i in range(n)
        ]
        return ScorerResult(
            scores=None,
            flags=[[] for _ in range(n)],
            fields=fields,
            summary={
                "median_reward": float(np.nanmedian(r)) if np.isfinite(r).any() else None,
                "score": "percentile of the reward within the dataset (1 = highest)",
            },
        )
