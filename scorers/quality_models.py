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

torch and transformers are imported lazily (the API process imports this module for the registry).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from scorers.base import Flag, NotComputed, Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.samples import Sample

_MODELS: dict[tuple, Any] = {}
_LOCK = threading.Lock()


def _device(requested: str | None) -> str:
    import torch

    if requested:
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


def _import_ml():
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the install
        raise NotComputed("torch and transformers are not installed: pip install 'sftaudit[ml]'") from e


def load_causal_lm(path: str, device: str | None, gguf_file: str | None = None):
    """(tokenizer, model) from a local directory, loaded once per process."""
    _import_ml()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dev = _device(device)
    key = ("lm", path, dev, gguf_file)
    with _LOCK:
        if key not in _MODELS:
            kw = {"gguf_file": gguf_file} if gguf_file else {}
            tok = AutoTokenizer.from_pretrained(path, local_files_only=True, **kw)
            model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, **kw).to(dev).eval()
            _MODELS[key] = (tok, model)
        return _MODELS[key]


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
        ids = tok.apply_chat_template(_messages(s), add_generation_prompt=True, tokenize=True)
        if isinstance(ids, dict) or hasattr(ids, "keys"):
            ids = ids["input_ids"]
        return list(ids)
    text = s.prompt_text + "\n"
    return list(tok(text, add_special_tokens=True)["input_ids"])


@dataclass
class Pair:
    conditional: list[int]
    unconditional: list[int]
    answer_len: int  # answer tokens scored (the same in both passes)


def build_pair(tok, s: Sample, max_length: int, max_answer_tokens: int) -> Pair | None:
    answer = list(tok(s.answer, add_special_tokens=False)["input_ids"])[:max_answer_tokens]
    start = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
    if start is None:  # nothing to condition the first answer token on alone: drop it from both passes
        if len(answer) < 2:
            return None
        start, answer = answer[0], answer[1:]
    if not answer:
        return None
    room = max(max_length - len(answer), 1)
    prompt = prompt_ids(tok, s)[-room:]
    return Pair(conditional=prompt + answer, unconditional=[start] + answer, answer_len=len(answer))


def answer_losses(model, seqs: Sequence[list[int]], answer_lens: Sequence[int], pad_id: int, batch_size: int) -> np.ndarray:
    """Mean cross-entropy over the last ``answer_len`` tokens of each sequence (right-padded batches)."""
    import torch

    dev = next(model.parameters()).device
    out = np.full(len(seqs), np.nan)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    for b in range(0, len(order), batch_size):
        idx = order[b : b + batch_size]
        width = max(len(seqs[i]) for i in idx)
        ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        labels = torch.full((len(idx), width), -100, dtype=torch.long)
        for r, i in enumerate(idx):
            seq = torch.tensor(seqs[i], dtype=torch.long)
            ids[r, : len(seq)] = seq
            mask[r, : len(seq)] = 1
            labels[r, len(seq) - answer_lens[i] : len(seq)] = seq[len(seq) - answer_lens[i] :]
        # only positions that predict an answer token need the (vocabulary-wide) output layer
        first = min(len(seqs[i]) - answer_lens[i] for i in idx) - 1
        keep = torch.arange(first, width - 1, device=dev)
        with torch.no_grad():
            try:
                logits = model(input_ids=ids.to(dev), attention_mask=mask.to(dev), logits_to_keep=keep).logits
            except TypeError:  # a model without logits_to_keep: compute all, then slice
                logits = model(input_ids=ids.to(dev), attention_mask=mask.to(dev)).logits[:, first : width - 1]
        shift_logits, shift_labels = logits.float(), labels[:, first + 1 : width].to(dev)
        loss = torch.nn.functional.cross_entropy(shift_logits.transpose(1, 2), shift_labels, ignore_index=-100, reduction="none")
        counts = (shift_labels != -100).sum(1).clamp(min=1)
        per_row = (loss.sum(1) / counts).cpu().numpy()
        for r, i in enumerate(idx):
            out[i] = per_row[r]
    return out


class LMParams(ScorerParams):
    batch_size: int = Field(16, ge=1, le=512, description="Sequences per forward pass.")
    max_length: int = Field(1024, ge=8, description="Longest conditional sequence (prompt + answer) in tokens.")
    max_answer_tokens: int = Field(512, ge=1, description="Answers are cut to their first this many tokens in both passes.")
    gguf_file: str | None = Field(None, description="File name inside the language-model directory when it is a GGUF checkpoint.")


def lm_scores(samples: Sequence[Sample], ctx: ScoringContext, p: LMParams) -> dict[str, Any]:
    """Conditional and unconditional answer losses for every sample (shared by perplexity and IFD)."""

    def compute() -> dict[str, Any]:
        path = str(ctx.models.path("language_model"))
        tok, model = load_causal_lm(path, ctx.models.device, p.gguf_file)
        pad = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
        pairs = [build_pair(tok, s, p.max_length, p.max_answer_tokens) for s in samples]
        live = [i for i, pr in enumerate(pairs) if pr is not None]
        cond = np.full(len(samples), np.nan)
        unc = np.full(len(samples), np.nan)
        if live:
            lens = [pairs[i].answer_len for i in live]
            cond[live] = answer_losses(model, [pairs[i].conditional for i in live], lens, pad, p.batch_size)
            unc[live] = answer_losses(model, [pairs[i].unconditional for i in live], lens, pad, p.batch_size)
        return {"conditional": cond, "unconditional": unc, "answer_tokens": [pr.answer_len if pr else 0 for pr in pairs],
                "template": bool(getattr(tok, "chat_template", None))}

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
        fields = [{"answer_perplexity": {"score": pct[i], "perplexity": float(ppl[i]) if np.isfinite(ppl[i]) else None,
                                         "answer_tokens": r["answer_tokens"][i]}} for i in range(n)]
        finite = ppl[np.isfinite(ppl)]
        return ScorerResult(scores=None, flags=[[] for _ in range(n)], fields=fields,
                            summary={"median_perplexity": float(np.median(finite)) if len(finite) else None,
                                     "chat_template": r["template"], "samples_scored": int(len(finite)),
                                     "score": "percentile of perplexity within the dataset (1 = lowest)"})


class IFDParams(LMParams):
    flag_at: float = Field(1.0, gt=0, description="Flag samples whose IFD is at least this.")


@register
class AnswerIFD(Scorer):
    """Instruction-following difficulty: loss of the answer given the instruction ÷ loss of the answer alone."""

    name = "answer_ifd"
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
                flags[i].append(Flag("instruction_does_not_help", "answer_quality", "warning",
                                     f"IFD {v:.2f}: the answer is no easier to predict with the instruction than without it "
                                     f"(loss {r['conditional'][i]:.2f} given the instruction, {r['unconditional'][i]:.2f} alone)"))
        finite = ifd[np.isfinite(ifd)]
        return ScorerResult(scores=None, flags=flags, fields=fields,
                            summary={"median_ifd": float(np.median(finite)) if len(finite) else None,
                                     "samples_ifd_at_least_flag": int((finite >= self.params.flag_at).sum()),
                                     "chat_template": r["template"], "samples_scored": int(len(finite))})


# --- reward model ---------------------------------------------------------------------------------------
def load_reward_model(path: str, device: str | None):
    _import_ml()
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    dev = _device(device)
    key = ("rm", path, dev)
    with _LOCK:
        if key not in _MODELS:
            tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True).to(dev).eval()
            if tok.pad_token_id is None:
                tok.pad_token = tok.eos_token or tok.unk_token
            if model.config.pad_token_id is None:
                model.config.pad_token_id = tok.pad_token_id
            tok.padding_side = "right"
            _MODELS[key] = (tok, model)
        return _MODELS[key]


class RewardParams(ScorerParams):
    batch_size: int = Field(16, ge=1, le=512, description="Pairs per forward pass.")
    max_length: int = Field(512, ge=8, description="Tokens of (instruction, answer) kept; the instruction is cut first.")


def rewards(samples: Sequence[Sample], tok, model, batch_size: int, max_length: int) -> np.ndarray:
    import torch

    dev = next(model.parameters()).device
    out = np.full(len(samples), np.nan)
    order = sorted(range(len(samples)), key=lambda i: len(samples[i].prompt_text) + len(samples[i].answer))
    for b in range(0, len(order), batch_size):
        idx = order[b : b + batch_size]
        enc = tok([samples[i].prompt_text for i in idx], [samples[i].answer for i in idx], padding=True,
                  truncation="only_first" if all(samples[i].prompt_text for i in idx) else True,
                  max_length=max_length, return_tensors="pt")
        with torch.no_grad():
            logits = model(**{k: v.to(dev) for k, v in enc.items()}).logits.float()
        vals = logits[:, 0] if logits.shape[1] == 1 else torch.log_softmax(logits, -1)[:, -1]
        out[idx] = vals.cpu().numpy()
    return out


@register
class AnswerReward(Scorer):
    """Reward-model score of (instruction, answer) with a local sequence-classification model."""

    name = "answer_reward"
    version = "1"
    dimension = "answer_quality"
    Params = RewardParams
    needs_models = ("reward_model",)

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        n = len(samples)
        if n == 0:
            return ScorerResult(scores=None, flags=[], fields=[], summary={})
        tok, model = load_reward_model(str(ctx.models.path("reward_model")), ctx.models.device)
        r = ctx.memo(f"reward:{ctx.models.model_id('reward_model')}:{self.params.model_dump_json()}",
                     lambda: rewards(samples, tok, model, self.params.batch_size, self.params.max_length))
        pct = percentile_scores(r, higher_is_better=True)
        fields = [{"answer_reward": {"score": pct[i], "reward": float(r[i]) if np.isfinite(r[i]) else None}} for i in range(n)]
        return ScorerResult(scores=None, flags=[[] for _ in range(n)], fields=fields,
                            summary={"median_reward": float(np.nanmedian(r)) if np.isfinite(r).any() else None,
                                     "score": "percentile of the reward within the dataset (1 = highest)"})
