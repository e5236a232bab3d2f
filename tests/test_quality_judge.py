"""The LLM judge against a small OpenAI-compatible server started on loopback in the test."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scorers import ModelConfig, run_audit, sample
from scorers.pipeline import dumps
from scorers.quality_judge import API_KEY_ENV, JudgeParseError, parse_verdict

pytest.importorskip("httpx")

KEY = "sk-test-secret-123"
GOOD = {"accuracy": 5, "completeness": 4, "conciseness": 3, "clarity": 5, "reason": "fine"}


class _Judge(BaseHTTPRequestHandler):
    calls: Counter = Counter()
    auth: list = []

    def log_message(self, *args) -> None:  # keep pytest output clean
        return None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        user = body["messages"][-1]["content"]
        type(self).auth.append(self.headers.get("Authorization"))
        tag = next(
            (t for t in ("RATELIMIT", "BROKEN", "SLOW", "DOWN", "FENCED", "OUTOFRANGE", "AUTH") if t in user), "OK"
        )
        type(self).calls[tag] += 1
        n = type(self).calls[tag]
        if tag == "RATELIMIT" and n == 1:
            return self._send(429, {"error": "slow down"}, {"Retry-After": "0"})
        if tag == "SLOW" and n == 1:
            time.sleep(1.0)
        if tag == "AUTH":
            return self._send(401, {"error": "bad key"})
        if tag == "DOWN":
            return self._send(503, {"error": "overloaded"})
        content = {
            "BROKEN": "I think it is a 4 out of 5.",
            "FENCED": "```json\n" + json.dumps(GOOD) + "\n```",
            "OUTOFRANGE": json.dumps(dict(GOOD, accuracy=9)),
        }.get(tag, json.dumps(GOOD))
        self._send(200, {"choices": [{"message": {"role": "assistant", "content": content}}]})

    def _send(self, status: int, obj: dict, headers: dict | None = None) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def judge_url(monkeypatch):
    _Judge.calls = Counter()
    _Judge.auth = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Judge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(API_KEY_ENV, KEY)
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()
    server.server_close()


FAST = {"backoff_s": 0.01, "timeout_s": 0.5, "max_retries": 2, "concurrency": 2}


def test_ratings_retries_and_parse_failures(judge_url: str) -> None:
    rows = [
        sample(0, "Say hi.", "Hi!"),
        sample(1, "RATELIMIT please", "ok"),
        sample(2, "BROKEN reply", "ok"),
        sample(3, "SLOW reply", "ok"),
        sample(4, "FENCED reply", "ok"),
        sample(5, "OUTOFRANGE", "ok"),
        sample(6, "No answer here", ""),
    ]
    out = run_audit(
        rows,
        scorers=["answer_judge", "answer_quality"],
        params={"answer_judge": FAST},
        models=ModelConfig(judge_url=judge_url, judge_model="tiny-judge"),
    )
    run = next(r for r in out.report["scorers"] if r["name"] == "answer_judge")
    assert run["status"] == "ok"
    rec = out.samples
    assert rec[0]["answer_judge"]["ratings"] == {"accuracy": 5, "completeness": 4, "conciseness": 3, "clarity": 5}
    assert rec[0]["answer_judge"]["accuracy"] == 1.0 and rec[0]["answer_judge"]["conciseness"] == 0.5
    assert rec[1]["answer_judge"] is not None and _Judge.calls["RATELIMIT"] == 2  # 429 retried
    assert rec[3]["answer_judge"] is not None and _Judge.calls["SLOW"] == 2  # timeout retried
    assert rec[4]["answer_judge"] is not None  # fenced JSON accepted
    # unparseable and out-of-range replies are counted and flagged, never given a default score
    for i in (2, 5):
        assert rec[i]["answer_judge"] is None
        assert [f["code"] for f in rec[i]["flags"]] == ["judge_reply_unparseable"]
    assert rec[6]["answer_judge"] is None and _Judge.calls["OK"] == 1  # empty answer not sent
    summary = out.report["dimensions"]["answer_quality"]["figures"]["answer_judge"]
    assert summary["parse_failures"] == 2 and summary["rated"] == 4 and summary["request_failures"] == 0
    # judge sub-scores feed the breakdown
    assert rec[0]["answer_quality_breakdown"]["conciseness"] < 1.0
    # the key travels in the header only; neither key nor endpoint reach the report
    assert set(_Judge.auth) == {f"Bearer {KEY}"}
    text = dumps(out.report) + "".join(out.samples_jsonl())
    assert KEY not in text and "127.0.0.1" not in text


def test_server_errors_exhaust_retries_then_not_computed(judge_url: str) -> None:
    rows = [sample(0, "DOWN one", "a"), sample(1, "DOWN two", "b")]
    out = run_audit(
        rows, scorers=["answer_judge"], params={"answer_judge": FAST}, models=ModelConfig(judge_url=judge_url)
    )
    (run,) = out.report["scorers"]
    assert run["status"] == "not_computed" and "none of 2" in run["reason"]
    assert _Judge.calls["DOWN"] == 2 * 3  # 1 try + 2 retries each
    assert "127.0.0.1" not in run["reason"]


def test_some_request_failures_are_flagged(judge_url: str) -> None:
    rows = [sample(0, "DOWN", "a"), sample(1, "fine", "b")]
    out = run_audit(
        rows, scorers=["answer_judge"], params={"answer_judge": FAST}, models=ModelConfig(judge_url=judge_url)
    )
    assert [f["code"] for f in out.samples[0]["flags"]] == ["judge_request_failed"]
    assert out.report["dimensions"]["answer_quality"]["figures"]["answer_judge"]["request_failures"] == 1


def test_not_computed_without_endpoint() -> None:
    out = run_audit([sample(0, "a", "b")], scorers=["answer_judge"])
    assert out.report["scorers"][0]["status"] == "not_computed"


def test_parse_verdict() -> None:
    assert (
        parse_verdict('Sure: {"accuracy": "4", "completeness": 5, "conciseness": 5, "clarity": 1}')["accuracy"] == 4.0
    )
    for bad in (
        "not json",
        "[1, 2]",
        '{"accuracy": 5}',
        '{"accuracy": true, "completeness": 5, "conciseness": 5, "clarity": 5}',
    ):
        with pytest.raises(JudgeParseError):
            parse_verdict(bad)


def test_rejected_key_stops_as_not_computed_without_retrying(judge_url: str) -> None:
    out = run_audit(
        [sample(0, "AUTH please", "a")],
        scorers=["answer_judge"],
        params={"answer_judge": FAST},
        models=ModelConfig(judge_url=judge_url),
    )
    (run,) = out.report["scorers"]
    assert run["status"] == "not_computed" and "HTTP 401" in run["reason"] and API_KEY_ENV in run["reason"]
    assert KEY not in run["reason"] and _Judge.calls["AUTH"] == 1


# --- a local chat model as the judge (no endpoint) ------------------------------------------------------
TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


@pytest.fixture(scope="module")
def judge_dir(tmp_path_factory):
    """A tiny random Llama with a byte-level BPE tokenizer (its decode gives back the exact text) and a chat template."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from scorers.quality_judge import RUBRIC

    path = tmp_path_factory.mktemp("tiny_judge")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<pad>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
    tok.train_from_iterator(
        [RUBRIC, json.dumps(GOOD), "What is the capital of France? Paris."],
        trainers.BpeTrainer(
            vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        ),
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        additional_special_tokens=specials[3:],
    )
    fast.chat_template = TEMPLATE
    fast.save_pretrained(path)
    torch.manual_seed(0)
    LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(fast),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=2048,
            pad_token_id=0,
            bos_token_id=1,
            eos_token_id=2,
        )
    ).save_pretrained(path)
    return path


LOCAL_ROWS = [
    sample(0, "What is the capital of France?", "Paris."),
    sample(1, "Name a colour.", "Blue."),
    sample(2, "Say nothing.", ""),
    sample(3, "Summarise this. " * 50, "A summary."),
]


def test_local_judge_model_replies_are_parsed_per_sample(judge_dir, monkeypatch) -> None:
    """Generation is stubbed with a reply that depends on the prompt: it proves each row's prompt (left-padded in a
    batch) is the sample's own, and that only the generated tokens are parsed."""
    import torch

    from scorers._lm import load_causal_lm

    tok, model = load_causal_lm(str(judge_dir), "cpu", label="judge model")
    prompts_seen: list[str] = []

    def generate(input_ids, attention_mask, generation_config):
        replies = []
        for ids, mask in zip(input_ids, attention_mask, strict=True):
            prompt = tok.decode(ids[mask.bool()])
            prompts_seen.append(prompt)
            assert prompt.startswith("<|system|>") and prompt.endswith("<|assistant|>")
            accuracy = 5 if "Paris" in prompt else 2
            replies.append(tok(json.dumps(dict(GOOD, accuracy=accuracy)), add_special_tokens=False)["input_ids"])
        width = max(map(len, replies))
        tail = torch.tensor([r + [0] * (width - len(r)) for r in replies])
        return torch.cat([input_ids, tail], dim=1)

    monkeypatch.setattr(model, "generate", generate)
    out = run_audit(
        LOCAL_ROWS,
        scorers=["answer_judge"],
        models=ModelConfig(judge_model=str(judge_dir), device="cpu"),
        params={"answer_judge": {"batch_size": 2, "max_prompt_tokens": 600}},
    )
    (run,) = out.report["scorers"]
    assert run["status"] == "ok", run
    rec = out.samples
    assert rec[0]["answer_judge"]["ratings"]["accuracy"] == 5 and rec[1]["answer_judge"]["ratings"]["accuracy"] == 2
    assert rec[2]["answer_judge"] is None and len(prompts_seen) == 2  # no answer: not judged; row 3 is too long
    assert [f["code"] for f in rec[3]["flags"]] == ["judge_request_failed"] and "max_prompt_tokens" in rec[3]["flags"][
        0
    ]["reason"]
    summary = out.report["dimensions"]["answer_quality"]["figures"]["answer_judge"]
    assert summary["judge"] == "local model" and summary["judge_model"] == judge_dir.name
    assert summary["rated"] == 2 and summary["request_failures"] == 1 and str(judge_dir.parent) not in dumps(out.report)


def test_local_judge_model_generates_and_counts_unparseable_replies(judge_dir) -> None:
    """The real generate of a random model writes no JSON: every reply is counted and flagged, none scored."""
    out = run_audit(
        LOCAL_ROWS[:2],
        scorers=["answer_judge"],
        models=ModelConfig(judge_model=str(judge_dir), device="cpu"),
        params={"answer_judge": {"max_tokens": 16}},
    )
    summary = out.report["dimensions"]["answer_quality"]["figures"]["answer_judge"]
    assert summary["parse_failures"] == 2 and summary["rated"] == 0
    assert all(r["answer_judge"] is None and r["flags"][0]["code"] == "judge_reply_unparseable" for r in out.samples)


def test_judge_model_that_is_not_a_model_directory_says_why(tmp_path) -> None:
    for models, reason in (
        (ModelConfig(), "set judge_url"),
        (ModelConfig(judge_model=str(tmp_path / "nope")), "does not exist"),
        (ModelConfig(judge_model=str(tmp_path)), "no config.json"),
    ):
        out = run_audit([sample(0, "a", "b")], scorers=["answer_judge"], models=models)
        (run,) = out.report["scorers"]
        assert run["status"] == "not_computed" and reason in run["reason"], run
