"""The features the learned quality ranker reads, built from what the audit already computed.

Two kinds of columns:

* **named** columns, one number per sample with a name a person can read in the report's
  ``top_features``: lengths and ratios, the checks' sub-scores (with a "missing" column beside each,
  since "nothing to check" is not "passed"), one column per flag code raised on the sample, the task
  type, and the model signals (perplexity, IFD, reward, judge) where they ran;
* **embedding blocks**: the instruction and answer vectors of each embedding tier, their elementwise
  product (which directions the two share) and their cosine.

Everything here is read from ``ctx.results`` or recomputed from the text; nothing loads a model
except through the context's embedders.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from scorers.context import ScoringContext
from scorers.samples import Sample

#: per-sample fields of signal scorers → the numbers read from them (field key, value key).
SIGNAL_VALUES: tuple[tuple[str, str], ...] = (
    ("answer_accuracy", "score"),
    ("answer_completeness", "score"),
    ("answer_conciseness", "score"),
    ("answer_conciseness", "length_ratio"),
    ("answer_clarity", "score"),
    ("answer_clarity", "mean_sentence_words"),
    ("answer_relevance", "score"),
    ("answer_perplexity", "score"),
    ("answer_ifd", "score"),
    ("answer_reward", "score"),
    ("answer_judge", "accuracy"),
    ("answer_judge", "completeness"),
    ("answer_judge", "conciseness"),
    ("answer_judge", "clarity"),
    ("answer_quality_breakdown", "accuracy"),
    ("answer_quality_breakdown", "completeness"),
    ("answer_quality_breakdown", "conciseness"),
    ("answer_quality_breakdown", "clarity"),
)
#: values that are heavy-tailed are read on a log scale.
_LOG_VALUES = {"length_ratio", "mean_sentence_words"}
_WORD = re.compile(r"[A-Za-z0-9'’-]+|[\u3400-\u4dbf\u4e00-\u9fff]")
_LIST_ITEM = re.compile(r"^\s*(?:\d{1,2}[.)、]|[-*•])\s+\S", re.M)
_SENTENCE = re.compile(r"[.!?。！？]+(?:\s|$)")


@dataclass
class Features:
    """A feature matrix with a name for every named column and a span for every embedding block."""

    named: np.ndarray
    names: list[str]
    blocks: dict[str, np.ndarray] = field(default_factory=dict)

    def matrix(self) -> np.ndarray:
        parts = [self.named, *self.blocks.values()]
        return np.hstack(parts).astype(np.float32) if parts else np.zeros((0, 0), np.float32)

    def column_names(self) -> list[str]:
        out = list(self.names)
        for name, block in self.blocks.items():
            out += [f"{name}[{j}]" for j in range(block.shape[1])]
        return out

    def block_spans(self) -> dict[str, tuple[int, int]]:
        spans, start = {}, len(self.names)
        for name, block in self.blocks.items():
            spans[name] = (start, start + block.shape[1])
            start += block.shape[1]
        return spans


def text_columns(s: Sample) -> dict[str, float]:
    """Lengths and shapes of one sample's instruction and answer."""
    ans, ins = s.answer, s.instruction
    aw, iw = len(_WORD.findall(ans)), len(_WORD.findall(ins))
    lines = [ln for ln in ans.splitlines() if ln.strip()]
    sentences = max(1, len(_SENTENCE.findall(ans)))
    chars = max(len(ans), 1)
    stripped = ans.rstrip()
    return {
        "answer words (log)": math.log1p(aw),
        "instruction words (log)": math.log1p(iw),
        "answer / instruction words (log)": math.log((aw + 1) / (iw + 1)),
        "answer lines (log)": math.log1p(len(lines)),
        "answer list items (log)": math.log1p(len(_LIST_ITEM.findall(ans))),
        "answer sentences (log)": math.log1p(sentences),
        "words per sentence (log)": math.log1p(aw / sentences),
        "answer has a code block": float("```" in ans),
        "answer digits share": sum(map(str.isdigit, ans)) / chars,
        "answer uppercase share": sum(map(str.isupper, ans)) / chars,
        "answer ends with a full stop": float(stripped[-1:] in ".!?。！？)\"'”`" if stripped else 0.0),
        "answer is empty": float(not ans.strip()),
        "prompt has an input passage": float("\n\n" in ins.strip()),
        "turns before the answer (log)": math.log1p(max(len(s.turns) - 2, 0)),
    }


def signal_columns(n: int, results: dict) -> dict[str, np.ndarray]:
    """The checks' and model signals' per-sample numbers, each with a missing-value indicator."""
    cols: dict[str, np.ndarray] = {}
    for scorer_field, key in SIGNAL_VALUES:
        values = np.full(n, np.nan)
        res = results.get("answer_quality" if scorer_field == "answer_quality_breakdown" else scorer_field)
        for i, f in enumerate(res.fields if res is not None and res.fields else ()):
            v = f.get(scorer_field)
            v = v.get(key) if isinstance(v, dict) else None
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                values[i] = float(v)
        if np.isnan(values).all():
            continue
        name = f"{scorer_field}.{key}"
        if key in _LOG_VALUES:
            values = np.log1p(np.clip(values, 0, None))
        missing = np.isnan(values)
        fill = float(np.nanmedian(values)) if (~missing).any() else 0.0
        cols[name] = np.where(missing, fill, values)
        if missing.any():
            cols[f"{name} missing"] = missing.astype(float)
    return cols


def flag_columns(results: dict, n: int) -> dict[str, np.ndarray]:
    """One 0/1 column per flag code raised in this audit (the learned ranker's flags are not read)."""
    cols: dict[str, np.ndarray] = {}
    for name, res in sorted(results.items()):
        if res is None or name == "learned_quality":
            continue
        for i, flags in enumerate(res.flags):
            for f in flags:
                cols.setdefault(f"flag {f.code}", np.zeros(n))[i] = 1.0
    return cols


def task_columns(samples: Sequence[Sample], results: dict) -> dict[str, np.ndarray]:
    """One-hot task type: the ``task_type`` scorer's label when it ran, else the cue words alone."""
    from scorers.task_mix import TASK_TYPES, cue_label

    res = results.get("task_type")
    if res is not None and res.fields and all("task_type" in f for f in res.fields):
        labels = [f.get("task_type") for f in res.fields]
    else:
        labels = [cue_label(s.instruction, len(s.history) > 0) for s in samples]
    cols = {}
    for t in (*TASK_TYPES, None):
        col = np.array([float(lab == t) for lab in labels])
        if col.any():
            cols[f"task {t or 'unknown'}"] = col
    return cols


def embedding_blocks(ctx: ScoringContext, tiers: Sequence[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(blocks, named cosine columns): instruction, answer and their product for each tier."""
    blocks: dict[str, np.ndarray] = {}
    cos: dict[str, np.ndarray] = {}
    for tier in tiers:
        ins = ctx.embeddings("instruction", tier=tier)
        ans = ctx.embeddings("answer", tier=tier)
        blocks[f"instruction embedding ({tier})"] = ins
        blocks[f"answer embedding ({tier})"] = ans
        blocks[f"instruction × answer ({tier})"] = ins * ans * math.sqrt(ins.shape[1])
        cos[f"instruction–answer cosine ({tier})"] = np.einsum("ij,ij->i", ins, ans).astype(float)
    return blocks, cos


def build_features(samples: Sequence[Sample], ctx: ScoringContext, results: dict, tiers: Sequence[str]) -> Features:
    n = len(samples)
    cols: dict[str, np.ndarray] = {}
    rows = [text_columns(s) for s in samples]
    for key in rows[0] if rows else ():
        cols[key] = np.array([r[key] for r in rows], dtype=float)
    cols.update(signal_columns(n, results))
    cols.update(flag_columns(results, n))
    cols.update(task_columns(samples, results))
    blocks, cos = embedding_blocks(ctx, tiers) if tiers else ({}, {})
    cols.update(cos)
    names = list(cols)
    named = np.column_stack([cols[k] for k in names]) if names else np.zeros((n, 0))
    return Features(named=named.astype(np.float32), names=names, blocks=blocks)
