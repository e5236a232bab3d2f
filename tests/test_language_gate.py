"""A model judges only what it can read: embedding judgements skip rows in languages the encoder does not serve."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scorers import sample
from scorers.context import ScoringContext
from scorers.embeddings import card_languages, served_languages
from scorers.models import ModelConfig
from scorers.pipeline import run_audit
from scorers.text.language import reading_language
from tests._embed_fakes import FakeEmbedder
from tests.paths import shared_data_dir

EMBEDDING_JUDGEMENTS = (
    "semantic_duplicate",
    "mismatched_answer",
    "answer_relevance",
    "answer_agreement",
    "label_error",
)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Why do babies cry so much?", "en"),  # the compact lid model says Spanish at 0.99 (Dolly row)
        ("How long should I bake bread at 200 degrees?", "en"),
        ("为什么婴儿哭这么多？", "zh"),
        ("El perro come la comida de la casa", "es"),
        ("Wie geht es dir heute?", "de"),
        ("Farrokh Bulsara", "und"),  # a name: too short to tell, and never a reason to skip a row
        ("def f(x): return x + 1", "und"),  # code is code
    ],
)
def test_reading_language(text: str, lang: str) -> None:
    assert reading_language(text) == lang


def test_served_languages_from_setting_card_and_default(tmp_path) -> None:
    assert served_languages(ModelConfig())[0] == frozenset({"en"})  # the packaged MiniLM's card: language: en
    assert served_languages(ModelConfig(embedding_languages="*"))[0] is None
    assert served_languages(ModelConfig(embedding_languages="en, ZH"))[0] == frozenset({"en", "zh"})
    model = tmp_path / "paraphrase-multilingual-MiniLM-L12-v2"
    model.mkdir()
    (model / "README.md").write_text("---\nlanguage:\n- multilingual\n- en\n- zh-cn\n- zh-tw\n---\n# card\n")
    assert card_languages(model) == ["multilingual", "en", "zh-cn", "zh-tw"]
    assert served_languages(ModelConfig(embedding_model=str(model)))[0] == frozenset({"en", "zh"})
    bare = tmp_path / "my-encoder"
    bare.mkdir()
    langs, source = served_languages(ModelConfig(embedding_model=str(bare)))
    assert langs == frozenset({"en"}) and "assumed English-only" in source


def _mixed_rows() -> list:
    en = [
        (
            "Summarise the plot of Hamlet in two sentences.",
            "Prince Hamlet seeks revenge on his uncle, who murdered "
            "his father. His hesitation leads to the deaths of nearly everyone at court.",
        ),
        (
            "Explain why the sky is blue to a child.",
            "Sunlight is made of many colours, and the air scatters the "
            "blue part the most, so blue light reaches your eyes from every direction.",
        ),
    ]
    zh = [
        ("解释为什么天空是蓝色的。", "太阳光由多种颜色组成，空气分子对蓝光的散射最强，所以我们看到的天空是蓝色的。"),
        ("写一首关于秋天的短诗。", "秋风起，落叶飞，雁南归，夜渐长。"),
    ]
    rows = []
    for k in range(12):
        q, a = (en + zh)[k % 4]
        rows.append(sample(k, f"{q} ({k})", a))
    return rows


def test_english_encoder_does_not_judge_chinese_rows() -> None:
    rows = _mixed_rows()
    ctx = ScoringContext(samples=rows, models=ModelConfig())
    for tier in ("fast", "full"):  # every vector unrelated: an English model reading Chinese would flag them all
        ctx._memo[f"embedder:{tier}"] = FakeEmbedder({}, 16, name="all-MiniLM-L6-v2", tier=tier)
    readable = ctx.readable()
    assert readable.tolist() == [k % 4 < 2 for k in range(12)]
    from scorers.quality_relevance import AnswerRelevance

    res = AnswerRelevance({"min_samples": 3}).score(rows, ctx)
    for k in range(12):
        field = res.fields[k]["answer_relevance"]
        if k % 4 >= 2:
            assert field["score"] is None and "not read" in field["not_computed"]
            assert res.fields[k]["not_judged"] == ["answer_relevance"] and res.flags[k] == []
        else:
            assert field["score"] is not None
    nj = res.summary["not_judged"]
    assert nj["rows"] == 6 and nj["languages"] == {"zh": 6} and "multilingual" in nj["fix"]


def test_short_answers_are_not_judged_for_relevance() -> None:
    topics = ["bread", "tea", "rain", "chess", "bees", "tides", "kites", "glass", "maps", "salt"]
    rows = [
        sample(
            k,
            f"Explain in a few sentences how {t} works.",
            f"{t.capitalize()} is a topic with a long "
            f"history; here is how {t} works, step by step, in plain words for a curious reader.",
        )
        for k, t in enumerate(topics * 2)
    ]
    short = {
        20: ("Who was the lead singer of Queen?", "Farrokh Bulsara"),
        21: ("What is 7 times 6?", "42"),
        22: ("Name a Biblical king.", "King Herod"),
        23: ("Give a word for 'on fire' in slang.", "Lit"),
    }
    rows += [sample(k, q, a) for k, (q, a) in short.items()]
    out = run_audit(rows, scorers=["answer_relevance"])
    for r in out.samples[20:]:
        assert r["flags"] == [] and r["answer_relevance"] == {
            "score": None,
            "not_computed": "answer too short to judge by embedding",
        }
    assert out.samples[0]["answer_relevance"]["score"] is not None
    assert out.report["dimensions"]["answer_quality"]["figures"]["answer_relevance"]["short_answers_not_judged"] == 4


@pytest.mark.shared_data
@pytest.mark.slow
def test_chinese_alpaca_gets_no_embedding_judgement_from_the_english_encoder(tmp_path) -> None:
    path = shared_data_dir() / "alpaca_chinese_carbonz0" / "zh-data-part-00.json"
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    rows = json.loads(path.read_text(encoding="utf-8"))[:300]
    samples = [
        sample(i, r["instruction"] + ("\n\n" + r["input"] if r["input"] else ""), r["output"])
        for i, r in enumerate(rows)
    ]
    out = run_audit(samples, scorers=list(EMBEDDING_JUDGEMENTS), cache_dir=str(tmp_path))
    codes = {f["code"] for r in out.samples for f in r["flags"] if f["severity"] != "info"}
    assert codes == set(), codes
    not_judged = out.report["not_judged"]
    assert not_judged["mismatched_answer"]["share"] > 0.8 and not_judged["semantic_duplicate"]["share"] > 0.8
    assert np.mean(["mismatched_answer" in r.get("not_judged", []) for r in out.samples]) > 0.8
    relevance = next(r for r in out.report["scorers"] if r["name"] == "answer_relevance")
    assert relevance["status"] == "not_computed" and "multilingual" in relevance["reason"]
