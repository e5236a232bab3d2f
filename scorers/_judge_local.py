"""The LLM judge's rubric answered by a local chat model (``ModelConfig.judge_model`` as a directory).

Same rubric, same reply parsing and the same :class:`~scorers.quality_judge.Verdict` as the endpoint;
prompts are built with the tokenizer's chat template (the rubric as the system turn, or folded into
the user turn for templates without one) and generated greedily in length-sorted, left-padded batches
on the worker's GPU when it has one.  A reply that does not parse is a parse failure, as with the
endpoint; a prompt over ``max_prompt_tokens`` is a failed request, never a truncated rubric.
"""

from __future__ import annotations

from collections.abc import Sequence

from scorers._lm import length_batches, load_causal_lm
from scorers.quality_judge import RUBRIC, JudgeParams, JudgeParseError, Verdict, judge_messages, parse_verdict
from scorers.samples import Sample


class LocalJudge:
    def __init__(self, path: str, device: str | None, params: JudgeParams):
        self.tok, self.model = load_causal_lm(path, device, label="judge model")
        self.p = params

    def close(self) -> None:
        return None

    def prompt_ids(self, s: Sample) -> list[int]:
        from jinja2 import TemplateError

        messages = judge_messages(s, self.p)
        if getattr(self.tok, "chat_template", None):
            folded = [{"role": "user", "content": f"{messages[0]['content']}\n\n{messages[1]['content']}"}]
            for attempt in (messages, folded):  # some templates refuse a system turn
                try:
                    ids = self.tok.apply_chat_template(attempt, add_generation_prompt=True, tokenize=True)
                except (TemplateError, ValueError):
                    continue
                return list(ids["input_ids"] if hasattr(ids, "keys") else ids)
        text = f"{RUBRIC}\n\n{messages[1]['content']}\n\nJSON:"
        return list(self.tok(text, add_special_tokens=True)["input_ids"])

    def judge_many(self, samples: Sequence[Sample]) -> list[Verdict]:
        import torch
        from transformers import GenerationConfig

        prompts = [self.prompt_ids(s) for s in samples]
        out: list[Verdict | None] = [None] * len(samples)
        fits = []
        for i, ids in enumerate(prompts):
            if len(ids) > self.p.max_prompt_tokens:
                out[i] = Verdict(
                    error=f"request: the prompt has {len(ids)} tokens, more than max_prompt_tokens "
                    f"({self.p.max_prompt_tokens})",
                    attempts=1,
                )
            else:
                fits.append(i)
        pad = self.tok.pad_token_id if self.tok.pad_token_id is not None else (self.tok.eos_token_id or 0)
        config = GenerationConfig(
            max_new_tokens=self.p.max_tokens, do_sample=False, pad_token_id=pad, eos_token_id=self.tok.eos_token_id
        )
        dev = next(self.model.parameters()).device
        for batch in length_batches([len(prompts[i]) for i in fits], self.p.batch_size):
            rows = [fits[k] for k in batch]
            width = max(len(prompts[i]) for i in rows)
            ids = torch.full((len(rows), width), pad, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for r, i in enumerate(rows):  # left padding: every prompt ends where generation starts
                ids[r, width - len(prompts[i]) :] = torch.tensor(prompts[i], dtype=torch.long)
                mask[r, width - len(prompts[i]) :] = 1
            with torch.inference_mode():
                generated = self.model.generate(
                    input_ids=ids.to(dev), attention_mask=mask.to(dev), generation_config=config
                )
            for r, i in enumerate(rows):
                reply = self.tok.decode(generated[r, width:], skip_special_tokens=True)
                try:
                    out[i] = Verdict(ratings=parse_verdict(reply), attempts=1)
                except JudgeParseError as e:
                    out[i] = Verdict(error=f"parse: {e}", attempts=1)
        return [v if v is not None else Verdict(error="request: not judged") for v in out]
