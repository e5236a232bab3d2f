"""The per-sample marker, proved over the whole registry: a scorer that sets ``per_sample`` gives, for any chunk of
the samples, the slice of its whole-dataset result, and rebuilds the whole summary from the joined rows.

This is what lets the Ray backend (and a streaming audit) run such scorers chunk by chunk on any machine."""

from __future__ import annotations

import pytest

from scorers import ModelConfig, Sample, Turn, registry, sample
from scorers.base import Scorer, ScorerResult
from scorers.context import ScoringContext
from scorers.pipeline import dumps

PER_SAMPLE = sorted(n for n, cls in registry().items() if cls.per_sample)
CHUNKS = ((0, 9), (9, 21), (21, None))


def varied_samples() -> list[Sample]:
    """Rows a dataset-wide scorer would treat differently in chunks: duplicates across chunk borders, a length
    outlier, several languages and scripts, junk, damage, unseen content, chats and plain text."""
    rows = [
        sample(0, "Give three tips for staying healthy.", "1. Eat well.\n2. Sleep.\n3. Exercise."),
        sample(1, "What is the capital of France?", "Paris."),
        sample(2, "保持健康的三个提示。", "1. 多运动。2. 多睡觉。3. 均衡饮食。"),
        sample(3, "Translate 'good morning' to emoji 🌅", "☀️😊👋"),
        sample(4, "Summarise: " + "lorem ipsum dolor sit amet " * 400, "A placeholder text. " * 100),
        sample(5, "", ""),
        sample(6, "Describe the picture attached.", "I cannot see images."),
        sample(7, "Write a haiku about rain.", "As an AI language model, I cannot write poems."),
        sample(8, "Explain photosynthesis.", "Plants turn light into sugar â€™ with chlorophyll&nbsp;."),
        sample(9, "What is the capital of France?", "Paris."),  # duplicate of row 1, across a chunk border
        sample(10, "Quelle est la capitale de la France ?", "The capital of France is Paris, a large city."),
        sample(
            11, "Write a Python function that adds two numbers.", "```python\ndef add(a, b):\n    return a + b\n```"
        ),
        sample(12, "Name a colour.", "{{answer}}"),
        sample(13, "Was ist die Hauptstadt von Deutschland?", "Berlin ist die Hauptstadt von Deutschland."),
        sample(14, "List the planets.", "Mercury, Venus, Earth, Mars, Jupiter, Saturn, Uranus, Neptune."),
        sample(15, "Tell me a joke.", "Why did the chicken cross the road? To get to the other"),
        Sample(
            index=16,
            turns=(Turn("user", "Hi"), Turn("assistant", "Hello!"), Turn("user", "2+2?"), Turn("assistant", "4")),
            system="You are terse.",
        ),
        Sample(index=17, turns=(Turn("text", "Plain pre-training text about the weather in Paris."),)),
        sample(18, "用一句话介绍长城。", "The Great Wall is a long wall in northern China built over many centuries."),
        sample(19, "Give three tips for staying healthy.", "1. Eat well.\n2. Sleep.\n3. Exercise."),  # dup of 0
        sample(20, "Explain gravity to a child.", "Things fall down because the Earth pulls them. " * 3),
        sample(21, "What is 12 * 12?", "144"),
        sample(22, "Visit https://example.com/data.csv and summarise it.", "The file lists sales by month."),
        sample(23, "写一首关于秋天的诗。", "秋风起，落叶飞，\n金色田野满丰收。"),
        sample(24, "Rewrite this sentence formally: gonna be late.", "I am going to be late."),
        sample(25, "What is the capital of France?", "Paris is the capital."),
        sample(26, "Explain recursion.", "Recursion is when a function calls itself. " * 40),
    ]
    return rows


def _run(cls: type, samples: list[Sample]) -> ScorerResult:
    return _run_scorer(cls(), samples)


def _run_scorer(scorer: Scorer, samples: list[Sample]) -> ScorerResult:
    return scorer.score(samples, ScoringContext(samples=samples, models=ModelConfig(), seed=7))


def _rows(result: ScorerResult) -> list[str]:
    n = len(result.flags)
    scores = result.scores if result.scores is not None else [None] * n
    fields = result.fields or [{}] * n
    return [dumps([s, [f.to_dict() for f in fl], fd]) for s, fl, fd in zip(scores, result.flags, fields)]


def test_some_scorers_are_per_sample() -> None:
    assert {"text_damage", "language", "text_length", "wrong_language"} <= set(PER_SAMPLE)
    # not per-sample: whether a row is truncated reads the dataset's punctuation style (junk_answer is: the one fact
    # it reads of the whole set, is it a safety set, is settled by for_chunks before the chunks are scored)
    assert "broken_answer" not in PER_SAMPLE and "junk_answer" in PER_SAMPLE


@pytest.mark.parametrize("name", PER_SAMPLE)
def test_a_per_sample_scorer_gives_the_slice_of_the_whole_result_for_each_chunk(name: str) -> None:
    cls = registry()[name]
    samples = varied_samples()
    whole = _run(cls, samples)
    chunked = cls().for_chunks(samples, ScoringContext(samples=samples, models=ModelConfig(), seed=7))
    parts = [_run_scorer(chunked, samples[a:b]) for a, b in CHUNKS]
    assert sum(len(p.flags) for p in parts) == len(samples)
    assert [row for p in parts for row in _rows(p)] == _rows(whole)
    assert all((p.scores is None) == (whole.scores is None) for p in parts)
    assert all(p.scores_from_flags == whole.scores_from_flags and p.dataset_score is None for p in parts)

    joined = ScorerResult(
        scores=None if whole.scores is None else [s for p in parts for s in p.scores or ()],
        flags=[fl for p in parts for fl in p.flags],
        fields=[fd for p in parts for fd in p.fields],
        scores_from_flags=whole.scores_from_flags,
    )
    ctx = ScoringContext(samples=samples, models=ModelConfig(), seed=7)
    assert dumps(chunked.summarise(samples, joined, ctx)) == dumps(whole.summary)


@pytest.mark.parametrize("name", PER_SAMPLE)
def test_a_per_sample_scorer_reads_no_other_scorer(name: str) -> None:
    """Chunks run without the results of earlier scorers, so a per-sample scorer may not read them."""
    assert registry()[name].after == ()


def _audit_bytes(samples: list[Sample], backend: object) -> tuple[str, list[str]]:
    from scorers.pipeline import run_audit

    out = run_audit(samples, scorers=PER_SAMPLE + ["exact_duplicate"], seed=7, backend=backend)  # type: ignore[arg-type]
    return out.report_json(), list(out.samples_jsonl())


def test_the_local_process_pool_gives_the_same_report_bytes_as_one_process() -> None:
    """Per-sample scorers scored chunk by chunk in two worker processes join into the bytes one process writes."""
    from scorers.backends import LocalBackend

    samples = varied_samples()
    pool = LocalBackend(2, min_rows=1, chunk_rows=5)  # several chunks per process
    assert pool.chunks_per_sample(len(samples)) and not LocalBackend(1, min_rows=1).chunks_per_sample(len(samples))
    assert not LocalBackend(2).chunks_per_sample(len(samples))  # below min_rows: everything in this process
    assert _audit_bytes(samples, pool) == _audit_bytes(samples, LocalBackend(1))


def test_chunks_hold_about_equal_text() -> None:
    from scorers.backends import text_balanced_bounds

    rows = [sample(i, "q", "a" * (10 if i < 90 else 5000)) for i in range(100)]  # a tail of long answers
    bounds = text_balanced_bounds(rows, 8)
    assert bounds[0] == (0, 68) and bounds[-1][1] == 100  # the short rows share one chunk, the long ones spread
    assert all(a < b for a, b in bounds) and all(b == c for (_, b), (c, _) in zip(bounds, bounds[1:]))
    assert text_balanced_bounds(rows[:3], 8) == [(0, 1), (1, 2), (2, 3)] and text_balanced_bounds([], 4) == []


def test_a_cancel_heard_between_chunks_stops_the_pool() -> None:
    from scorers.backends import LocalBackend

    class Cancelled(Exception):
        pass

    samples = varied_samples()
    heard: list[tuple[int, int]] = []

    def hear(done: int, total: int) -> None:
        heard.append((done, total))
        raise Cancelled

    scorers = [registry()["text_length"](), registry()["language"]()]
    ctx = ScoringContext(samples=samples, models=ModelConfig(), seed=7)
    with pytest.raises(Cancelled):
        LocalBackend(2, min_rows=1, chunk_rows=3).score_per_sample(scorers, samples, ctx, hear)
    # several chunks, one report heard, nothing after the cancel (two chunks may finish before the first report)
    assert len(heard) == 1 and heard[0][1] > 1 and 1 <= heard[0][0] <= heard[0][1]


def test_the_pool_reads_ahead_the_languages_the_dataset_wide_scorers_will_ask() -> None:
    """The chunks read each row's views in the language a model must read (as ``ctx.readable`` asks) for the
    dataset-wide scorers, and the driver's context then holds exactly what it would have read itself."""
    from scorers.backends import LocalBackend
    from scorers.context import READING_LANGUAGE
    from scorers.pipeline import read_ahead
    from scorers.text.language import reading_language

    samples = varied_samples()
    ctx = ScoringContext(samples=samples, models=ModelConfig(embedding_languages="en"), seed=7)
    wide = [registry()["answer_agreement"](), registry()["semantic_diversity"]({"view": "text"})]
    ctx.read_ahead = read_ahead([*wide, registry()["language"]()], ctx)  # a per-sample scorer asks nothing
    assert ctx.read_ahead == ("context", "answer", "instruction", "text")
    LocalBackend(2, min_rows=1, chunk_rows=5).score_per_sample(
        [registry()["language"]()], samples, ctx, lambda *a: None
    )
    for view, attr in [
        ("context", "context"),
        ("answer", "answer"),
        ("instruction", "instruction"),
        ("text", "text"),
    ]:
        got = ctx.memo(READING_LANGUAGE + view, lambda view=view: pytest.fail(f"{view} was not read ahead"))
        assert got == [reading_language(getattr(s, attr)) for s in samples]
    assert {"en", "zh", "fr", "de"} <= set(ctx.reading_languages("context"))
    # an encoder that reads every language asks nothing: nothing is read ahead
    every = ScoringContext(samples=samples, models=ModelConfig(embedding_languages="*"), seed=7)
    assert read_ahead(wide, every) == ()
