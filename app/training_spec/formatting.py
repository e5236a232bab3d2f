"""Turn samples into token ids and a label mask.

Two formats:

* **the tokenizer's chat template** when it has one.  Each supervised turn's character span is found
  by rendering the conversation up to the turn with ``add_generation_prompt=True`` (the prompt) and
  up to and including the turn (prompt + answer + end-of-turn marker); the full conversation is then
  tokenised once with offsets and every token that starts inside a span is supervised.  The
  template's end-of-turn marker (``<|im_end|>``, ``</s>``…) lies inside the span, so it is in the loss.
* **the default format** otherwise (documented in docs/training.md)::

      <bos>### System:\\n{system}\\n\\n### User:\\n{user}\\n\\n### Assistant:\\n{answer}<eos>\\n\\n...

  built segment by segment, so the mask is exact by construction; ``<eos>`` closes every assistant
  turn and is supervised.

Masking is by position, never by token id: a pad token equal to eos can never mask a real eos.
Assistant and function-call turns are supervised (sft); every token is supervised in pretrain mode.
A turn that came with a ``loss_weight`` (LLaMA-Factory's per-message weight, kept by the ingest in
``Sample.meta["loss_weights"]``) overrides that: 0 leaves the turn out of the loss, any other weight
trains it (a user turn too) with its tokens' loss scaled by the weight (``Encoded.weights``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scorers.samples import Sample

IGNORE = -100
SUPERVISED_ROLES = frozenset({"assistant", "function_call"})
DEFAULT_HEADERS = {
    "system": "### System:\n",
    "user": "### User:\n",
    "assistant": "### Assistant:\n",
    "function_call": "### Function call:\n",
    "tool": "### Tool:\n",
    "text": "",
}


class DataValidationError(ValueError):
    """The data cannot be trained on as given; ``row`` is the sample's index in the user's file."""

    def __init__(self, row: int | None, message: str):
        self.row = row
        super().__init__(f"row {row}: {message}" if row is not None else message)


@dataclass
class Encoded:
    index: int
    input_ids: list[int]
    labels: list[int]
    truncated: bool = False
    # positions of end-of-turn tokens that must be supervised (checked by validate)
    end_of_turn: list[int] = field(default_factory=list)
    # per-token loss weight (0 where not supervised); None when every supervised token weighs 1
    weights: list[float] | None = None

    @property
    def n_supervised(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


@dataclass
class EncodeReport:
    rows_in: int = 0
    rows_kept: int = 0
    truncated: list[int] = field(default_factory=list)
    dropped_overlength: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_in": self.rows_in,
            "rows_kept": self.rows_kept,
            "truncated": len(self.truncated),
            "dropped_overlength": len(self.dropped_overlength),
            "truncated_rows": self.truncated[:100],
            "dropped_rows": self.dropped_overlength[:100],
        }


def load_tokenizer(path: str | Path):
    """The model's tokenizer, loaded the same way for preview (API) and training (worker).

    With a ``tokenizer.json`` (every modern model) the generic fast tokenizer is used: it reads the
    same file and chat template as ``AutoTokenizer`` but does not import torch, so the API process
    can preview masks.  Without one, ``AutoTokenizer`` (which imports torch).
    """
    if (Path(path) / "tokenizer.json").is_file():
        from transformers import PreTrainedTokenizerFast

        tok = PreTrainedTokenizerFast.from_pretrained(str(path))
    else:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(str(path))
    if tok.pad_token_id is None:
        # Safe: labels are masked by position, never by pad id.
        tok.pad_token = tok.eos_token if tok.eos_token is not None else tok.unk_token
    return tok


def turn_weights(sample: Sample) -> list[float]:
    """Each turn's loss weight: the uploaded ``loss_weight`` where there was one, else 1 for assistant and
    function-call turns and 0 for the rest."""
    given = sample.meta.get("loss_weights")
    if not given or len(given) != len(sample.turns):
        given = [None] * len(sample.turns)
    return [
        float(w) if w is not None else (1.0 if t.role in SUPERVISED_ROLES else 0.0)
        for t, w in zip(sample.turns, given, strict=True)
    ]


def _messages(sample: Sample) -> list[dict[str, Any]]:
    msgs: list[dict[str, Any]] = [{"role": "system", "content": sample.system}] if sample.system else []
    for t, w in zip(sample.turns, turn_weights(sample), strict=True):
        role = "assistant" if t.role == "function_call" else ("user" if t.role == "text" else t.role)
        msgs.append({"role": role, "content": t.content, "_weight": w, "_reply": t.role in SUPERVISED_ROLES})
    return msgs


def _weights_or_none(labels: list[int], weights: list[float]) -> list[float] | None:
    return None if all(w == 1.0 for w, lab in zip(weights, labels, strict=True) if lab != IGNORE) else weights


class Formatter:
    """Encodes samples for one tokenizer, mode and length budget."""

    def __init__(self, tokenizer, mode: str = "sft", max_length: int = 1024, overlength: str = "truncate"):
        self.tok = tokenizer
        self.mode = mode
        self.max_length = max_length
        self.overlength = overlength
        self.uses_template = bool(getattr(tokenizer, "chat_template", None))

    # -- public --------------------------------------------------------------------------------
    def encode(self, sample: Sample) -> Encoded:
        """Encode one sample, untruncated."""
        if sample.is_plain_text or (self.mode == "pretrain" and not self.uses_template):
            enc = self._encode_default(sample) if not sample.is_plain_text else self._encode_text(sample)
        elif self.uses_template:
            enc = self._encode_template(sample)
        else:
            enc = self._encode_default(sample)
        if self.mode == "pretrain":
            enc.labels = list(enc.input_ids)
            enc.weights = None
        return enc

    def encode_all(self, samples: Sequence[Sample]) -> tuple[list[Encoded], EncodeReport]:
        """Encode, then apply the over-length policy; every truncation and drop is counted."""
        report = EncodeReport(rows_in=len(samples))
        out: list[Encoded] = []
        for s in samples:
            enc = self.encode(s)
            if len(enc.input_ids) > self.max_length:
                if self.overlength == "drop":
                    report.dropped_overlength.append(s.index)
                    continue
                enc = Encoded(
                    s.index,
                    enc.input_ids[: self.max_length],
                    enc.labels[: self.max_length],
                    True,
                    [p for p in enc.end_of_turn if p < self.max_length],
                    enc.weights[: self.max_length] if enc.weights is not None else None,
                )
                report.truncated.append(s.index)
            out.append(enc)
        report.rows_kept = len(out)
        return out, report

    def render_text(self, sample: Sample) -> str:
        """The whole conversation as the model sees it (no masking), e.g. for reward scoring."""
        return self.tok.decode(self.encode(sample).input_ids)

    # -- formats --------------------------------------------------------------------------------
    def _ids(self, text: str) -> list[int]:
        return self.tok(text, add_special_tokens=False)["input_ids"] if text else []

    def _encode_text(self, sample: Sample) -> Encoded:
        """A plain-text row: every token trains in pretrain mode, none in sft (refused by validate)."""
        ids = self._bos() + self._ids(sample.turns[0].content) + self._eos()
        return Encoded(sample.index, ids, list(ids) if self.mode == "pretrain" else [IGNORE] * len(ids))

    def _bos(self) -> list[int]:
        return [self.tok.bos_token_id] if self.tok.bos_token_id is not None else []

    def _eos(self) -> list[int]:
        if self.tok.eos_token_id is None:
            raise DataValidationError(None, "the tokenizer has no eos token; the model could never learn to stop")
        return [self.tok.eos_token_id]

    def _encode_default(self, sample: Sample) -> Encoded:
        ids = self._bos()
        labels = [IGNORE] * len(ids)
        weights = [0.0] * len(ids)
        eot: list[int] = []

        def add(part: list[int], weight: float) -> None:
            ids.extend(part)
            labels.extend(part if weight > 0 else [IGNORE] * len(part))
            weights.extend([weight] * len(part))

        if sample.system:
            add(self._ids(DEFAULT_HEADERS["system"] + sample.system + "\n\n"), 0.0)
        for t, w in zip(sample.turns, turn_weights(sample), strict=True):
            add(self._ids(DEFAULT_HEADERS.get(t.role, f"### {t.role}:\n")), 0.0)
            if t.role in SUPERVISED_ROLES:  # a reply ends with eos, trained with the reply
                add(self._ids(t.content), w)
                if w > 0:
                    eot.append(len(ids))
                add(self._eos(), w)
                add(self._ids("\n\n"), 0.0)
            else:
                add(self._ids(t.content), w)
                add(self._ids("\n\n"), 0.0)
        return Encoded(sample.index, ids, labels, end_of_turn=eot, weights=_weights_or_none(labels, weights))

    def _render(self, msgs: list[dict[str, Any]], generation_prompt: bool, row: int) -> str:
        clean = [{"role": m["role"], "content": m["content"]} for m in msgs]
        try:
            return self.tok.apply_chat_template(clean, tokenize=False, add_generation_prompt=generation_prompt)
        except Exception as err:  # jinja raises on roles/orders a template does not support
            roles = [m["role"] for m in clean]
            raise DataValidationError(row, f"the chat template cannot render roles {roles}: {err}") from err

    def _encode_template(self, sample: Sample) -> Encoded:
        msgs = _messages(sample)
        full = self._render(msgs, False, sample.index)
        spans: list[tuple[int, int, float, bool]] = []
        for i, m in enumerate(msgs):
            if not m.get("_weight"):
                continue
            # a reply's span starts after the generation prompt; a trained user turn's after the previous turn
            prompt = self._render(msgs[:i], m["_reply"], sample.index) if i or m["_reply"] else ""
            upto = self._render(msgs[: i + 1], False, sample.index)
            if not (upto.startswith(prompt) and full.startswith(upto)):
                raise DataValidationError(
                    sample.index,
                    "the chat template renders earlier turns differently once later turns are added, so the "
                    "assistant span cannot be located; use model_kind='base' formatting or a prefix-stable template",
                )
            spans.append((len(prompt), len(upto), m["_weight"], m["_reply"]))
        enc = self.tok(full, add_special_tokens=False, return_offsets_mapping=True)
        ids, offsets = enc["input_ids"], enc["offset_mapping"]
        labels = [IGNORE] * len(ids)
        weights = [0.0] * len(ids)
        eot: list[int] = []
        special = set(self.tok.all_special_ids)
        for a, b, w, reply in spans:
            inside = [j for j, (s, e) in enumerate(offsets) if a <= s < b and e > s]
            for j in inside:
                labels[j] = ids[j]
                weights[j] = w
            if not reply:
                continue
            # the turn's end marker: the last special token inside the span
            marks = [j for j in inside if ids[j] in special]
            if marks:
                eot.append(marks[-1])
            else:
                eot.append(-1)  # template without an end-of-turn marker: refused by validate
        return Encoded(sample.index, ids, labels, end_of_turn=eot, weights=_weights_or_none(labels, weights))


def validate_encoded(encoded: Sequence[Encoded], mode: str = "sft") -> None:
    """Refuse rows the model would learn nothing (or the wrong thing) from."""
    for e in encoded:
        if e.n_supervised == 0:
            why = (
                "all supervised tokens were cut by max_length (raise max_length or use overlength='drop')"
                if e.truncated
                else "no supervised tokens (sft trains on assistant turns; this row has none, or every turn's "
                "loss_weight is 0 — plain-text rows belong in a mode='pretrain' stage)"
            )
            raise DataValidationError(e.index, why)
        if mode != "sft":
            continue
        for p in e.end_of_turn:
            if p == -1:
                raise DataValidationError(
                    e.index,
                    "the chat template ends assistant turns with no special end-of-turn token, so the "
                    "model would never learn to stop",
                )
            if p < len(e.labels) and e.labels[p] == IGNORE:
                raise DataValidationError(
                    e.index,
                    "the end-of-turn/eos token is masked out of the loss (pad == eos?); the model would "
                    "never learn to stop",
                )


def preview(formatter: Formatter, samples: Sequence[Sample], n: int = 3) -> list[dict[str, Any]]:
    """Render samples with their label mask: consecutive tokens grouped into trained / not-trained runs."""
    out = []
    for s in list(samples)[:n]:
        enc = formatter.encode(s)
        segments: list[dict[str, Any]] = []
        for tid, lab in zip(enc.input_ids, enc.labels, strict=True):
            trained = lab != IGNORE
            if segments and segments[-1]["trained"] == trained:
                segments[-1]["ids"].append(tid)
            else:
                segments.append({"trained": trained, "ids": [tid]})
        for seg in segments:
            seg["text"] = formatter.tok.decode(seg.pop("ids"))
        out.append(
            {
                "index": s.index,
                "n_tokens": len(enc.input_ids),
                "n_supervised": enc.n_supervised,
                "over_max_length": len(enc.input_ids) > formatter.max_length,
                "format": "chat_template" if formatter.uses_template else "default",
                "segments": segments,
                "rendered": "".join(f"[[{seg['text']}]]" if seg["trained"] else seg["text"] for seg in segments),
            }
        )
    return out
