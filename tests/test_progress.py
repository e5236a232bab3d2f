"""Progress by work done and the ETA: inner progress from a slow scorer, cost-weighted shares, the throttle in
front of the job row, and the ETA as the API and the estimator give it."""

from __future__ import annotations

import threading
import time
from itertools import pairwise

import pytest

from app.db import queue
from app.jobs.progress import Eta, Throttle, format_eta
from app.jobs.worker import Worker
from scorers import Sample
from scorers.base import _REGISTRY, Scorer, ScorerResult, register
from scorers.pipeline import progress_weights, resolve_scorers, run_audit
from tests.test_api_audits import make_dataset
from tests.test_jobs import enqueue, project_id, with_handlers  # noqa: F401  (project_id is a fixture)

ITEMS, ITEM_SECONDS = 30, 0.1  # the stepping scorer's work: 3 s, reported per item


class SteppingScorer(Scorer):
    """Works through ``ITEMS`` items, reporting each one (as a slow scorer reports its batches)."""

    name = "test_stepping"
    version = "1"
    dimension = "profile"
    cost = 50.0

    def score(self, samples, ctx):
        for i in range(ITEMS):
            time.sleep(ITEM_SECONDS)
            ctx.step(i + 1, ITEMS, "items")
        return ScorerResult(
            scores=None, flags=[[] for _ in samples], fields=[{} for _ in samples], summary={"rows": len(samples)}
        )


@pytest.fixture
def stepping_scorer():
    register(SteppingScorer)
    yield SteppingScorer.name
    _REGISTRY.pop(SteppingScorer.name, None)


def _samples(n: int = 4) -> list[Sample]:
    from scorers.samples import Turn

    return [
        Sample(index=i, turns=(Turn("user", f"question {i}?"), Turn("assistant", f"answer {i}."))) for i in range(n)
    ]


def _is_monotonic(xs: list[float]) -> bool:
    return all(b >= a for a, b in pairwise(xs))


# --- the pipeline ----------------------------------------------------------------------------------------
def test_a_slow_scorer_moves_the_bar_from_inside_and_it_never_goes_back(stepping_scorer) -> None:
    seen: list[tuple[float, str]] = []
    run_audit(_samples(), ["text_length", stepping_scorer, "language"], progress=lambda f, s: seen.append((f, s)))
    fractions = [f for f, _ in seen]
    inside = [f for f, s in seen if s.startswith(f"scoring: {stepping_scorer} (items ")]
    assert len(set(inside)) >= 4, seen  # the bar moved while the scorer ran, not only when it started
    assert _is_monotonic(fractions) and fractions[-1] == 1.0 and seen[-1][1] == "assembling report"
    # the slow scorer's share is its cost's share: 50 of 50 + 3.5 (text_length) + 1 (language)
    start = next(f for f, s in seen if s == f"scoring: {stepping_scorer}")
    end = next(f for f, s in seen if s == "scoring: text_length")
    assert end - start == pytest.approx(50 / 54.5, abs=1e-6)
    assert max(inside) == pytest.approx(end, abs=1e-6)  # its last item done = its share done


def test_a_scorer_that_will_not_run_takes_a_sliver_of_the_bar() -> None:
    from scorers.context import ScoringContext

    instances = resolve_scorers(["answer_perplexity", "text_length"])
    weights = progress_weights(instances, ScoringContext(samples=_samples()))  # no language model configured
    assert [w * 10_000 / 4 for w in weights] == pytest.approx([0.01, 3.5])  # cost × rows / 10,000


def test_at_the_full_tier_the_first_scorer_to_embed_a_view_carries_its_encoding() -> None:
    from scorers.context import ScoringContext, encode_cost
    from scorers.models import ModelConfig

    models = ModelConfig()  # the packaged MiniLM: the embedding scorers run
    instances = resolve_scorers(["answer_relevance", "mismatched_answer", "semantic_duplicate"])
    assert [type(s).name for s in instances] == ["answer_relevance", "mismatched_answer", "semantic_duplicate"]
    per_row = lambda ws: [w * 10_000 / 4 for w in ws]
    full = progress_weights(instances, ScoringContext(samples=_samples(), models=models))
    # relevance encodes questions and answers; mismatch reuses both; semantic_duplicate's instructions are the
    # questions already encoded
    ctx = ScoringContext(samples=_samples(), models=models)
    questions, answers = encode_cost(ctx.texts("context")), encode_cost(ctx.texts("answer"))
    assert questions > 0 and answers > 0
    assert full == pytest.approx([(16 * 4 / 10_000) + questions + answers, 7 * 4 / 10_000, 22 * 4 / 10_000])
    aligned = models.model_copy(update={"full_tier_max_samples": 0})  # "large": search on the aligned tier
    assert per_row(progress_weights(instances, ScoringContext(samples=_samples(), models=aligned))) == pytest.approx(
        [16, 7, 22]
    )


def test_encoding_takes_the_part_of_the_bar_its_cost_says() -> None:
    import numpy as np

    from scorers.context import ScoringContext, encode_cost
    from tests._embed_fakes import FakeEmbedder

    seen: list[float] = []
    ctx = ScoringContext(samples=[], progress=lambda f, s: seen.append(f), progress_interval=0.0)
    ctx._memo["embedder:full"] = FakeEmbedder({}, 8, tier="full")
    questions = [f"question {i}?" for i in range(100)]
    answers = [f"answer {i}: " + "many words " * 30 for i in range(100)]  # longer: they cost more to encode
    q, a = encode_cost(questions), encode_cost(answers)
    assert a > 2 * q
    ctx.begin(0.0, 0.8, "scoring: x", weight=2 * (q + a))  # a scorer that encodes both and as much again of work
    ctx.embed(questions)
    assert seen[-1] == pytest.approx(0.8 * q / (2 * (q + a))) and np.all(np.diff(seen) >= 0)
    ctx.embed(answers)
    assert seen[-1] == pytest.approx(0.4)  # the rest of the scorer's share is left for the rest of its work


def test_parts_narrow_inner_progress_and_halves_keep_moving() -> None:
    from scorers.context import ScoringContext

    seen: list[float] = []
    ctx = ScoringContext(samples=[], progress=lambda f, s: seen.append(f), progress_interval=0.0)
    ctx.begin(0.2, 0.6, "scoring: x")
    with ctx.part(0.5):  # the first half of [0.2, 0.6]
        ctx.step(1, 2)
        ctx.step(2, 2)
    with ctx.part():  # half of what is left: [0.4, 0.5]
        ctx.step(1, 1)
    with ctx.part(1.0):  # the rest: [0.5, 0.6]
        ctx.step(1, 4)
    assert seen == pytest.approx([0.2, 0.3, 0.4, 0.5, 0.525])


def test_inner_steps_are_throttled_in_the_scorer() -> None:
    from scorers.context import ScoringContext

    seen: list[float] = []
    ctx = ScoringContext(samples=[], progress=lambda f, s: seen.append(f), progress_interval=60.0)
    ctx.begin(0.0, 1.0, "scoring: x")
    for i in range(1, 10_001):
        ctx.step(i, 10_000)
    assert seen == [0.0, 0.0001, 1.0]  # the start, the first item, and the last (always reported)


def test_chunked_encoding_reports_progress_and_gives_the_same_vectors() -> None:
    import numpy as np

    from scorers.embeddings import BaseEmbedder

    class Counting(BaseEmbedder):
        backend = "test"
        progress_chunk = 3

        def __init__(self):
            self._memory, self._disk, self.stats, self.model_id = {}, None, {"encoded": 0, "cached": 0}, "m"

        @property
        def dimension(self) -> int:
            return 2

        def _encode_uncached(self, texts):
            return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    texts = ["a" * k for k in (5, 1, 4, 2, 3, 7, 6)]
    heard: list[tuple[int, int, float]] = []
    chunked = Counting().encode(texts, progress=lambda d, t, f: heard.append((d, t, f)))
    assert [(d, t) for d, t, _ in heard] == [(3, 7), (6, 7), (7, 7)]
    work = sum(90 + k for k in range(1, 8))  # a text weighs 90 + its length
    assert [f for _, _, f in heard] == pytest.approx([(270 + 6) / work, (540 + 1 + 2 + 3 + 4 + 5 + 6) / work, 1.0])
    assert np.array_equal(chunked, Counting().encode(texts))


# --- the estimator and the throttle --------------------------------------------------------------------
def test_eta_is_non_negative_and_falls_on_a_steady_workload() -> None:
    now = [0.0]
    eta = Eta(clock=lambda: now[0])
    values = []
    for t in range(101):  # 1 % a second: 100 s of work
        now[0] = float(t)
        values.append(eta.update(t / 100))
    assert values[0] is None  # nothing to go on yet
    known = [v for v in values if v is not None]
    assert len(known) >= 95 and all(v >= 0 for v in known)
    assert all(b < a for a, b in pairwise(known))
    assert values[50] == pytest.approx(50, rel=0.05) and values[-1] == 0.0


def test_eta_bends_instead_of_jumping_when_the_pace_changes() -> None:
    now = [0.0]
    eta = Eta(clock=lambda: now[0])
    for t in range(11):
        now[0] = float(t)
        eta.update(t / 100)  # 1 %/s: 90 s left at t = 10
    before = eta.current()
    now[0] = 11.0
    after = eta.update(0.2)  # a cheap stretch: 9 % in one second
    raw = 11.0 * 0.8 / 0.2  # 44 s
    assert before is not None and after is not None and raw < after < before


def test_format_eta() -> None:
    assert format_eta(None) == "" and format_eta(42.4) == "ETA 42 s" and format_eta(200) == "ETA 3 min 20 s"
    assert format_eta(3 * 3600 + 125) == "ETA 3 h 02 min"


def test_throttle_writes_at_most_once_per_interval_and_then_the_last_report() -> None:
    writes: list[tuple[float, float, str]] = []
    # each write is timed by the throttle's own decision (its clock reading, taken under the lock just before it
    # writes), not by a clock read inside the callback: on two loaded cores a thread preempted between the two made
    # a 0.2 s gap look like 6 ms (seen once in `make test`)
    t = Throttle(lambda f, s, e: writes.append((t._last, f, s)), interval=0.2)
    start = time.monotonic()
    for i in range(1, 101):  # 100 reports over ~0.5 s
        t(i / 100, f"step {i}", None)
        time.sleep(0.005)
    time.sleep(0.3)  # the held report is written when its interval is up
    assert writes[-1][1:] == (1.0, "step 100")
    assert len(writes) <= (writes[-1][0] - start) / 0.2 + 2
    gaps = [b[0] - a[0] for a, b in pairwise(writes)]
    assert all(g >= 0.19 for g in gaps), gaps


# --- through the worker and the API (SQLite and PostgreSQL) --------------------------------------------
def test_audit_job_progress_moves_inside_a_slow_scorer_and_ends_at_one(
    client, settings, stepping_scorer, monkeypatch
) -> None:
    settings.worker.progress_interval_seconds = 0.1
    written: list[tuple[float, str, float | None]] = []
    real = queue.report_progress

    ds = make_dataset(client)
    audit = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": ["text_length", stepping_scorer]}).json()

    def spy(session, c, fraction, step, result=None, eta_seconds=None):
        if c.id == audit["job"]["id"]:  # not a report of another test's job
            written.append((fraction, step, eta_seconds))
        return real(session, c, fraction, step, result, eta_seconds=eta_seconds)

    monkeypatch.setattr(queue, "report_progress", spy)
    assert Worker(settings).run_once() == audit["job"]["id"]

    inside = [f for f, s, _ in written if s.startswith(f"scoring: {stepping_scorer} (items")]
    assert len(set(inside)) >= 4, written  # several distinct values written while the one scorer ran
    fractions = [f for f, _, _ in written]
    assert _is_monotonic(fractions), fractions
    etas = [e for _, _, e in written if e is not None]
    assert etas and all(e >= 0 for e in etas)
    done = client.get(f"/v1/audits/{audit['id']}").json()
    assert done["status"] == "succeeded" and done["progress"] == 1.0 and done["job"]["progress"] == 1.0
    assert done["eta_seconds"] is None and done["job"]["eta_seconds"] is None  # nothing left to estimate


def test_eta_in_the_job_read_falls_while_a_steady_job_runs(client, settings, project_id) -> None:  # noqa: F811
    settings.worker.progress_interval_seconds = 0.1
    jid = enqueue(settings, project_id, "test_steps", {"n": 40, "seconds": 0.1})
    worker = threading.Thread(target=Worker(with_handlers(settings)).run_once)
    worker.start()
    seen: list[tuple[float, float]] = []
    while worker.is_alive():
        j = client.get(f"/v1/jobs/{jid}").json()
        if j["status"] == "running" and j["eta_seconds"] is not None:
            seen.append((j["progress"], j["eta_seconds"]))
        time.sleep(0.25)
    worker.join()
    assert len(seen) >= 4, seen
    assert all(e >= 0 for _, e in seen)
    assert _is_monotonic([p for p, _ in seen])
    etas = [e for _, e in seen]
    assert all(b <= a + 0.5 for a, b in pairwise(etas)), etas  # falls (within timing jitter)
    assert etas[-1] < etas[0] - 1.0, etas
    assert client.get(f"/v1/jobs/{jid}").json()["eta_seconds"] is None


def test_closing_the_throttle_writes_what_it_holds_at_once() -> None:
    writes: list[str] = []
    t = Throttle(lambda f, s, e: writes.append(s), interval=60.0)
    t(0.1, "first", None)
    t(0.2, "held", None)
    assert writes == ["first"]
    t.close()
    assert writes == ["first", "held"] and t._timer is None
