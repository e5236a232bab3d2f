"""LLM judge: an OpenAI-compatible chat endpoint, or a local chat model, rates each answer on the four sub-dimensions.

The endpoint is ``ModelConfig.judge_url`` (a base URL such as ``http://localhost:8000/v1``; vLLM,
Ollama, llama.cpp server or a hosted API) and ``ModelConfig.judge_model``.  Without a ``judge_url``,
``judge_model`` may be a local chat model directory: the rubric is then answered in-process by greedy,
batched generation (:mod:`scorers._judge_local`; on the worker's GPU when it has one).
:func:`make_judge` returns whichever is configured; both answer ``judge_many(samples)``.  The API key is read from
the environment variable ``SFTAUDIT_JUDGE_API_KEY`` at call time, so it never enters the scorer's
parameters, the report, or a log line; neither does the URL (errors name the HTTP status only).

Every sample gets one request with a fixed rubric asking for JSON
``{"accuracy": 1-5, "completeness": 1-5, "conciseness": 1-5, "clarity": 1-5, "reason": "..."}``.
A reply that does not parse into that shape is *counted and flagged*, never replaced by a default
score.  429 and 5xx replies, timeouts and dropped connections are retried with exponential backoff
(honouring ``Retry-After``); a 401/403 stops the run as not computed.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from scorers.base import Flag, NotComputed, Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.samples import Sample

API_KEY_ENV = "SFTAUDIT_JUDGE_API_KEY"
RUBRIC_VERSION = "1"
SUBDIMENSIONS = ("accuracy", "completeness", "conciseness", "clarity")
RUBRIC = """You are a strict grader of training data for an instruction-following assistant.
Rate the ANSWER to the INSTRUCTION on four criteria, each an integer from 1 (very poor) to 5 (excellent):
- accuracy: facts, reasoning, arithmetic and code are correct; nothing is made up.
- completeness: every part of the instruction is addressed (counts, formats, length limits, each question).
- conciseness: no padding, filler, repetition or needless length for this kind of task.
- clarity: well organised, readable, correctly formatted, in the language of the instruction.
Reply with one JSON object and nothing else:
{"accuracy": <1-5>, "completeness": <1-5>, "conciseness": <1-5>, "clarity": <1-5>, "reason": "<one sentence>"}"""


class JudgeParams(ScorerParams):
    timeout_s: float = Field(60.0, gt=0, description="Seconds to wait for one reply.")
    max_retries: int = Field(
        4, ge=0, le=20, description="Retries after a 429, a 5xx, a timeout or a dropped connection."
    )
    backoff_s: float = Field(
        2.0, ge=0, description="First retry delay; doubles each retry (Retry-After wins when given)."
    )
    max_backoff_s: float = Field(60.0, ge=0, description="Longest single wait between retries.")
    concurrency: int = Field(4, ge=1, le=64, description="Requests in flight at once.")
    max_answer_chars: int = Field(
        6000, ge=100, description="Instruction and answer are each cut to this many characters."
    )
    json_mode: bool = Field(
        True, description="Ask for response_format=json_object (turn off for servers that reject it)."
    )
    max_tokens: int = Field(200, ge=16, description="Tokens the judge may write.")
    batch_size: int = Field(8, ge=1, le=256, description="Local judge model: prompts per generation batch.")
    max_prompt_tokens: int = Field(
        4096, ge=64, description="Local judge model: a longer prompt is not judged (counted as a failed request)."
    )


class JudgeParseError(ValueError):
    pass


def parse_verdict(content: str) -> dict[str, object]:
    """The four 1–5 ratings (and the reason) from a judge reply; :class:`JudgeParseError` otherwise."""
    text = content.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fenced:
        text = fenced.group(1).strip()
    elif not text.startswith("{") and "{" in text:
        text = text[text.find("{") : text.rfind("}") + 1]
    try:
        obj = json.loads(text)
    except ValueError as e:
        raise JudgeParseError(f"reply is not JSON ({e.msg})") from e
    if not isinstance(obj, dict):
        raise JudgeParseError("reply is JSON but not an object")
    out: dict[str, object] = {}
    for key in SUBDIMENSIONS:
        v = obj.get(key)
        if isinstance(v, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", v):
            v = float(v)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise JudgeParseError(f"rating {key!r} is missing or not a number")
        if not 1 <= v <= 5:
            raise JudgeParseError(f"rating {key!r} = {v} is outside 1–5")
        out[key] = float(v)
    out["reason"] = str(obj.get("reason", ""))[:500]
    return out


@dataclass
class Verdict:
    ratings: dict[str, object] | None = None
    error: str | None = None  # "parse: …" or "request: …"
    attempts: int = 0


class _Fatal(Exception):
    pass


def judge_messages(s: Sample, p: JudgeParams) -> list[dict[str, str]]:
    """The rubric (system) and the sample (user), instruction and answer each cut to ``max_answer_chars``."""
    cut = p.max_answer_chars
    user = f"INSTRUCTION:\n{s.prompt_text[:cut]}\n\nANSWER:\n{s.answer[:cut]}"
    return [{"role": "system", "content": RUBRIC}, {"role": "user", "content": user}]


def make_judge(models, params: JudgeParams):
    """The configured judge: the endpoint when ``judge_url`` is set, else the local model directory ``judge_model``.
    Both have ``judge_many(samples) -> list[Verdict]`` and ``close()``; :class:`NotComputed` when neither is usable."""
    if models.judge_url:
        return JudgeClient(models.judge_url, models.judge_model, params)
    ok, reason = models.check("judge")
    if not ok:
        raise NotComputed(reason or "no LLM judge configured")
    from scorers._judge_local import LocalJudge

    return LocalJudge(models.judge_model, models.device, params)


class JudgeClient:
    def __init__(self, base_url: str, model: str | None, params: JudgeParams):
        import httpx

        self._httpx = httpx
        self.p = params
        self.model = model or "default"
        key = os.environ.get(API_KEY_ENV)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(base_url=base_url.rstrip("/") + "/", headers=headers, timeout=params.timeout_s)

    def close(self) -> None:
        self.client.close()

    def judge_many(self, samples: Sequence[Sample]) -> list[Verdict]:
        """One verdict per sample, ``concurrency`` requests in flight; :class:`_Fatal` when the key is refused."""
        with ThreadPoolExecutor(max_workers=self.p.concurrency) as pool:
            return list(pool.map(self.judge, samples))

    def _body(self, s: Sample) -> dict:
        body = {
            "model": self.model,
            "temperature": 0,
            "max_tokens": self.p.max_tokens,
            "messages": judge_messages(s, self.p),
        }
        if self.p.json_mode:
            body["response_format"] = {"type": "json_object"}
        return body

    def judge(self, s: Sample) -> Verdict:
        httpx = self._httpx
        body = self._body(s)
        last = "no attempt"
        delay = 0.0
        for attempt in range(self.p.max_retries + 1):
            if attempt:
                time.sleep(min(self.p.max_backoff_s, delay))
            delay = self.p.backoff_s * 2**attempt
            try:
                r = self.client.post("chat/completions", json=body)
            except httpx.TimeoutException:
                last = "timed out"
                continue
            except httpx.TransportError as e:
                last = f"connection failed ({type(e).__name__})"
                continue
            if r.status_code in (401, 403):
                raise _Fatal(f"the judge endpoint refused the request (HTTP {r.status_code}); check {API_KEY_ENV}")
            if r.status_code == 429 or r.status_code >= 500:
                last = f"HTTP {r.status_code}"
                ra = r.headers.get("retry-after")
                if ra and re.fullmatch(r"\d+(\.\d+)?", ra.strip()):
                    delay = float(ra)
                continue
            if r.status_code >= 400:
                return Verdict(error=f"request: HTTP {r.status_code}", attempts=attempt + 1)
            try:
                content = r.json()["choices"][0]["message"]["content"]
            except (ValueError, KeyError, IndexError, TypeError):
                return Verdict(error="parse: the reply is not an OpenAI chat completion", attempts=attempt + 1)
            try:
                return Verdict(ratings=parse_verdict(content or ""), attempts=attempt + 1)
            except JudgeParseError as e:
                return Verdict(error=f"parse: {e}", attempts=attempt + 1)
        return Verdict(
            error=f"request: gave up after {self.p.max_retries + 1} attempts ({last})", attempts=self.p.max_retries + 1
        )


@register
class AnswerJudge(Scorer):
    """LLM judge (OpenAI-compatible endpoint) rating accuracy, completeness, conciseness and clarity with a fixed rubric."""

    name = "answer_judge"
    cost = 20000  # generation per row, ~0.26 rows/s with a local judge on CPU
    version = "1"
    dimension = "answer_quality"
    Params = JudgeParams
    needs_models = ("judge",)

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        n = len(samples)
        if n == 0:
            return ScorerResult(scores=None, flags=[], fields=[], summary={})
        try:
            import httpx  # noqa: F401
        except ImportError as e:  # pragma: no cover - depends on the install
            raise NotComputed("httpx is not installed: pip install 'sftaudit[ml]'") from e
        live = [i for i, s in enumerate(samples) if s.answer.strip()]
        client = make_judge(ctx.models, self.params)
        try:
            verdicts = dict(zip(live, client.judge_many([samples[i] for i in live]), strict=True))
        except _Fatal as e:
            raise NotComputed(str(e)) from None
        finally:
            client.close()
        flags: list[list[Flag]] = [[] for _ in range(n)]
        fields: list[dict] = []
        errors: Counter[str] = Counter()
        for i in range(n):
            v = verdicts.get(i)
            if v is None:
                fields.append({"answer_judge": None})
                continue
            if v.ratings is None:
                kind, _, detail = (v.error or "request: unknown").partition(": ")
                errors[kind] += 1
                code = "judge_reply_unparseable" if kind == "parse" else "judge_request_failed"
                flags[i].append(
                    Flag(
                        code,
                        "answer_quality",
                        "info",
                        f"the LLM judge gave no usable rating ({detail}); this sample has no judge score",
                    )
                )
                fields.append({"answer_judge": None})
                continue
            r = v.ratings
            fields.append(
                {
                    "answer_judge": {
                        **{k: (float(r[k]) - 1) / 4 for k in SUBDIMENSIONS},
                        "ratings": {k: r[k] for k in SUBDIMENSIONS},
                        "reason": r["reason"],
                    }
                }
            )
        if live and errors["request"] == len(live):
            raise NotComputed(
                f"the LLM judge answered none of {len(live)} requests (every request failed after retries)"
            )
        rated = sum(1 for f in fields if f.get("answer_judge"))
        local = not ctx.models.judge_url
        return ScorerResult(
            scores=None,
            flags=flags,
            fields=fields,
            summary={
                "judge": "local model" if local else "endpoint",
                "judge_model": Path(ctx.models.judge_model or "").name if local else ctx.models.judge_model,
                "rubric_version": RUBRIC_VERSION,
                "requested": len(live),
                "rated": rated,
                "parse_failures": errors["parse"],
                "request_failures": errors["request"],
                "attempts": sum(v.attempts for v in verdicts.values()),
            },
        )
