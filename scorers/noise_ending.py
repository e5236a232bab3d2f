"""Answers cut off mid-sentence, read by the configured language model: can the answer end where it ends?

A model-free reader (:func:`scorers.text.endings.certain_cut`, raised by ``broken_answer``) is sure of a cut only
where no text can end: on a comma, an open bracket, "the".  Most cuts stop on an ordinary word ("… it is known
for its", "… 这本小说有"), which finished text without its full stop also does ("Farrokh Bulsara", "- Go
snowshoeing"); telling the two apart needs a language model's view of whether the text can stop there.

``answer_ending`` asks the configured causal LM (``ModelConfig.language_model``) what may come right after the
answer, given the prompt (its chat template when it has one) and the answer's last ``max_answer_tokens`` tokens:
the probability that the turn ends (the template's end-of-turn token or EOS), and that the text stops at all —
the turn ends, or a full stop or a line break comes next.  A finished answer without its full stop ("… born
Farrokh Bulsara", "- Go snowshoeing") could take one; a cut one ("… it is known for its") could not.  An answer
is flagged ``unfinished_answer`` when both are low (``stop_below``, ``end_below``); answers ``broken_answer``
already flags as certainly cut are not flagged twice.  Structured endings
(:data:`~scorers.text.endings.LM_STRUCTURED`: a list item, a form's field, a table row, a title, verse), which close
after any item without punctuation, are held to a stricter bar (``structured_stop_below``): only an item the model
finds no way to stop at all ("3. The Rise", "4.安装") is a cut.  It reads only the answers that do not end with
punctuation, a closing bracket or quote, a symbol or a digit (the rest need no model), and not those
:data:`~scorers.text.endings.LM_NOT_ASKED` keeps from it (bare enumerations, an ending copied from the prompt, a
stated result, code, mojibake, which the model cannot read), in length-sorted batches with the output layer run on
each row's last position only (:func:`scorers._lm.next_token_logprob`).

Chinese and Japanese are written without spaces, so a cut often lands inside a word ("…用于什" for "用于什么"), which
the stop probability does not see.  For an answer ending on such a character the same pass also reads, at its last
token, how much likelier the model found a longer token beginning with that token's text; above ``word_cut_above``
the answer stops inside a word.  Code, enumerations and stated results ending so are read for this alone.

Without a configured LM the scorer is reported as not computed, with the reason (the default audit).
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field

from scorers._lm import default_batches, load_causal_lm, next_token_logprob
from scorers._noise_text import result_from_flags, sample_cut
from scorers.base import Flag, NotComputed, Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.quality_models import prompt_ids
from scorers.samples import Sample
from scorers.text.endings import LM_NOT_ASKED, ends_punctuated, lm_ending_rule
from scorers.text.script import CJK_CHAR, is_cjk

D = "noise"

#: LM_NOT_ASKED endings read all the same when they end on a Chinese or Japanese character, for a cut inside their last
#: word only (code, a bare enumeration or a stated result can stop after any whole word, not inside one: noise bench
#: cuts "…返回反向列", "…改善认"); not links or tags (any string), copied endings (the prompt's own words), mojibake
WORDS_READ = frozenset({"code", "enumeration", "worked result"})
_PROBE = "\u2063ANSWER\u2063"  # an answer text no template alters, to find what follows it
#: a token that closes a sentence or a line: sentence-final marks (with spaces) or line breaks only
_STOP_TEXT = re.compile(r"^[ \t]*[.!?。！？…]+[ \t]*$|^[ \t]*\n[\s]*$")
_VOCAB: dict[tuple[str, int], list[str]] = {}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")


def needs_reading(answer: str, min_chars: int, min_chars_cjk: int | None = None) -> bool:
    """Whether the LM must judge this ending: long enough, and not ended by a mark, a closing bracket or quote, a
    symbol or a digit (:func:`~scorers.text.endings.ends_punctuated`: 2 of 131 cuts of the noise bench end so, and
    half of the unpunctuated answers of the flag panel — code, GSM8K's "#### 72" — need no model then)."""
    a = _CONTROL.sub("", answer).rstrip()  # control characters after a finished text are text_damage's, not a cut
    least = min_chars_cjk if min_chars_cjk is not None and is_cjk(a[-200:]) else min_chars
    return len(a) >= least and not ends_punctuated(a)


def end_tokens(tok) -> list[int]:
    """The tokens that close an assistant turn: the one the chat template puts right after the answer when it is a
    special token (``<end_of_turn>``, ``<|im_end|>``, ``<|eot_id|>``), and the tokenizer's EOS.  Both count: a base
    model given a chat template ends a turn with EOS (Gemma 3 270M gives ``<end_of_turn>`` e^-40 after a finished
    answer, and EOS e^-9), a chat model with its end-of-turn token."""
    ids = [t for t in (_template_end(tok), tok.eos_token_id) if t is not None]
    return list(dict.fromkeys(int(t) for t in ids))


def _vocabulary(tok) -> list[str]:
    """Each token's text (one pass over the vocabulary, ~2 s for 262k tokens; kept per tokenizer)."""
    key = (getattr(tok, "name_or_path", ""), len(tok))
    if key not in _VOCAB:
        _VOCAB[key] = [tok.decode([i]) for i in range(len(tok))]
    return _VOCAB[key]


def stop_tokens(tok) -> list[int]:
    """Every token whose text is a sentence-final mark or a line break (``.``, `` ?``, ``。``, ``\\n\\n``…): what
    can follow a finished sentence or line."""
    return [i for i, text in enumerate(_vocabulary(tok)) if _STOP_TEXT.match(text or "x")]


class TokenExtensions:
    """A token id -> the ids of the longer tokens whose text starts with its text ("什" -> "什么", "什麽"…), from a
    sorted copy of the vocabulary's texts.  A token whose text is a broken byte sequence has none."""

    def __init__(self, tok) -> None:
        self.texts = _vocabulary(tok)
        self.order = sorted(range(len(self.texts)), key=self.texts.__getitem__)
        self.sorted = [self.texts[i] for i in self.order]

    def __call__(self, token: int) -> list[int]:
        text = self.texts[token] if 0 <= token < len(self.texts) else ""
        if not text or "\ufffd" in text:
            return []
        lo = bisect.bisect_left(self.sorted, text)
        hi = bisect.bisect_left(self.sorted, text + "\U0010ffff", lo)
        return [self.order[k] for k in range(lo, hi) if len(self.sorted[k]) > len(text)]


def _template_end(tok) -> int | None:
    if getattr(tok, "chat_template", None):
        from jinja2 import TemplateError

        try:
            text = tok.apply_chat_template(
                [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": _PROBE}], tokenize=False
            )
        except (TemplateError, ValueError):
            text = ""
        if _PROBE in text:
            after = tok(text.split(_PROBE, 1)[1], add_special_tokens=False)["input_ids"]
            # special or added tokens (a GGUF-converted Gemma lists <end_of_turn> as added, not special)
            special = set(getattr(tok, "all_special_ids", []) or []) | set(getattr(tok, "added_tokens_decoder", {}))
            for t in list(after)[:3]:
                if t in special:
                    return int(t)
    return None


class AnswerEndingParams(ScorerParams):
    stop_below: float = Field(
        -3.0,
        description=(
            "Flag an answer when the LM's log-probability that its text stops here — the turn ends, or a full stop "
            "or a line break comes next — is below this (natural log), and ``end_below`` holds too. Chosen on Gemma "
            "3 270M (docs/noise.md): finished answers without a full stop scored above -3, answers cut mid-sentence "
            "mostly below. Another model may need other values."
        ),
    )
    end_below: float = Field(
        -6.0,
        description="… and the log-probability that the turn ends right here is below this (natural log).",
    )
    structured_stop_below: float = Field(
        -5.0,
        description=(
            "The stop threshold for structured endings (a list item, a form's field, a table row, a title, verse: "
            "scorers/text/endings.py LM_STRUCTURED), which close without punctuation after any item. Chosen on Gemma "
            "3 270M: finished ones scored above -3.3 on the noise bench's bases, injected cuts inside them below -5.3."
        ),
    )
    form_stop_below: float = Field(
        -7.0,
        description=(
            "The stop threshold for a form's last 'label: value' field, stricter still: a value may be any word the "
            "model did not expect ('鹰：鸟'). On the flag panel's 686 finished forms read, 5 scored between -6.9 and "
            "-5.1 and none below -7; the noise bench's cut field scored -9.3."
        ),
    )
    word_cut_above: float = Field(
        4.0,
        description=(
            "An answer ending on a Chinese or Japanese character is cut inside a word when, at its last token, the LM "
            "gave the longer tokens that begin with that token's text ('什么' for a last '什') more than e^this times "
            "the probability of the token itself (natural log).  Chosen on Gemma 3 270M: of the 562 answers ending so "
            "that the flag panel gave it, one scored above 3.3, a real cut (4.8); the noise bench's cuts inside a word "
            "('…用于什', '…规则和程') scored 4.7 to 12.3."
        ),
    )
    min_chars: int = Field(40, ge=1, description="Shorter answers are not judged (a name, a number, a label).")
    min_chars_cjk: int = Field(15, ge=1, description="The same for answers in Chinese or Japanese script.")
    max_answers: int | None = Field(
        None,
        ge=1,
        description="Read at most this many of the answers that need reading, a seeded sample by hash of the row "
        "index (unset: all). A budget for a CPU: a 270M LM reads a few answers a second on two cores.",
    )
    max_prompt_tokens: int = Field(
        192, ge=16, description="The prompt's first tokens kept (with the template's last 16, which open the answer)."
    )
    max_answer_tokens: int = Field(192, ge=8, description="The answer's last tokens kept (its ending is what counts).")
    batch_size: int | None = Field(None, ge=1, le=512, description="Rows per forward pass (unset: 16 CPU, 512 GPU).")
    batch_tokens: int | None = Field(None, ge=64, description="Padded tokens per forward pass (unset: by device).")
    gguf_file: str | None = Field(None, description="File name inside the LM directory when it is a GGUF checkpoint.")


@register
class AnswerEnding(Scorer):
    """Answers the configured language model reads as cut off mid-sentence (the turn cannot end there)."""

    name = "answer_ending"
    cost = 300  # one forward pass over the unpunctuated endings only, ~5 rows/s on two CPU cores with a 270M LM
    version = "1"
    dimension = D
    Params = AnswerEndingParams
    params: AnswerEndingParams
    needs_models = ("language_model",)

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        p = self.params
        n = len(samples)
        answers = [s.answer for s in samples]
        todo: list[int] = []
        not_asked: Counter[str] = Counter()  # unpunctuated endings kept from the model, by rule
        structured: dict[int, str] = {}  # answers read under the stricter bar -> their LM_STRUCTURED rule
        words_only: set[int] = set()  # not asked whether the text may stop, only whether its last word is whole
        cjk_end: set[int] = set()  # answers ending on a Chinese or Japanese character
        for i, s in enumerate(samples):
            if s.is_plain_text or not needs_reading(answers[i], p.min_chars, p.min_chars_cjk):
                continue
            if CJK_CHAR.match(answers[i].rstrip()[-1]):  # needs_reading: not empty
                cjk_end.add(i)
            rule = lm_ending_rule(answers[i], s.prompt_text)
            if rule in LM_NOT_ASKED:
                not_asked[rule.name] += 1
                if not (i in cjk_end and rule.name in WORDS_READ):
                    continue
                words_only.add(i)
            todo.append(i)
            if rule is not None and i not in words_only:
                structured[i] = rule.name
        summary: dict[str, Any] = {
            "answers_to_read": len(todo),
            "not_asked": dict(not_asked),
            "read_for_a_cut_word_only": len(words_only),
            "structured": dict(Counter(structured.values())),
        }
        if p.max_answers is not None and len(todo) > p.max_answers:
            # the rows with the smallest seeded hash of their index: the same rows are read when rows are added or
            # a rule lets more answers through (a random draw over ``todo`` would change them all)
            def rank(i: int) -> str:
                return hashlib.sha1(f"{ctx.seed}:{samples[i].index}".encode()).hexdigest()

            todo = sorted(sorted(todo, key=rank)[: p.max_answers])
        summary.update(
            answers_read=len(todo),
            stop_below=p.stop_below,
            end_below=p.end_below,
            structured_stop_below=p.structured_stop_below,
            form_stop_below=p.form_stop_below,
            word_cut_above=p.word_cut_above,
        )
        # log p(the turn ends), log p(the turn ends or a sentence or line does); at the last token: log p(that token),
        # log p(a longer token that begins with its text)
        logp = np.full((n, 4), np.nan)
        last_token: dict[int, str] = {}  # the read answers' last token's text
        if todo:
            tok, model = load_causal_lm(str(ctx.models.path("language_model")), ctx.models.device, p.gguf_file)
            ends = end_tokens(tok)
            if not ends:
                raise NotComputed("the language model's tokenizer has no end-of-turn or EOS token")
            pad = tok.pad_token_id if tok.pad_token_id is not None else ends[0]
            seqs = [self._sequence(tok, samples[i]) for i in todo]
            rows, tokens = default_batches(str(next(model.parameters()).device))
            logp[todo] = next_token_logprob(
                model,
                seqs,
                [ends, ends + stop_tokens(tok)],
                pad,
                p.batch_size or rows,
                p.batch_tokens or tokens,
                progress=lambda d, t: ctx.step(d, t, "answer endings read"),
                extensions=TokenExtensions(tok),
            )
            vocabulary = _vocabulary(tok)
            last_token = {i: vocabulary[seq[-1]] for i, seq in zip(todo, seqs, strict=True) if seq}
            summary.update(
                end_tokens=tok.convert_ids_to_tokens(ends),
                chat_template=bool(getattr(tok, "chat_template", None)),
                device=str(next(model.parameters()).device),
            )
        flags: list[list[Flag]] = [[] for _ in range(n)]
        fields: list[dict[str, Any]] = [{} for _ in range(n)]
        for i in todo:
            end, stop, own, longer = (float(v) for v in logp[i])
            if not (np.isfinite(end) and np.isfinite(stop)):
                continue
            kind = structured.get(i)
            fields[i]["answer_ending"] = {"end_logprob": round(end, 3), "stop_logprob": round(stop, 3)}
            if kind is not None:
                fields[i]["answer_ending"]["structured"] = kind
            word = longer - own if i in cjk_end and np.isfinite(own) and np.isfinite(longer) else None
            if word is not None:
                fields[i]["answer_ending"]["cut_word_logratio"] = round(word, 3)
            tail = answers[i].rstrip()[-40:].replace("\n", " ")
            bar = p.stop_below if kind is None else p.form_stop_below if kind == "form" else p.structured_stop_below
            if i not in words_only and stop < bar and end < p.end_below:
                where = "mid-sentence" if kind is None else f"inside its last item ({kind})"
                reason = (
                    f"the answer stops {where}: the language model gives a full stop, a line break or the turn's end "
                    f"here a probability of {np.exp(stop):.1e} (\u2026{tail!r})"
                )
            elif word is not None and word > p.word_cut_above:
                piece = last_token.get(i, "")
                reason = (
                    f"the answer stops inside a word: the language model expected a longer word beginning with "
                    f"{piece!r} {np.exp(word):,.0f} times more than {piece!r} itself (\u2026{tail!r})"
                )
            else:
                continue
            if sample_cut(samples[i], answers[i]) is None:  # a certain cut is broken_answer's flag
                flags[i].append(Flag("unfinished_answer", D, "warning", reason))
        read = set(todo)
        applies = [i in read for i in range(n)]
        return result_from_flags(samples, flags, summary, fields, applies=applies)

    def _sequence(self, tok, s: Sample) -> list[int]:
        p = self.params
        prompt = prompt_ids(tok, s)
        if len(prompt) > p.max_prompt_tokens:
            prompt = prompt[: p.max_prompt_tokens - 16] + prompt[-16:]
        answer = list(tok(s.answer.rstrip(), add_special_tokens=False)["input_ids"])[-p.max_answer_tokens :]
        return prompt + answer
