from __future__ import annotations

import numpy as np
import pytest

from scorers import ScorerResult, sample
from scorers.consistency import (
    AnswerAgreement,
    FormatConsistency,
    ReferenceAgreement,
    answer_format,
    normalise_answer,
    short_agree,
)
from scorers.context import ScoringContext
from tests._embed_fakes import context_with
from tests.raw import run_audit


def test_short_answers_are_compared_normalised() -> None:
    assert normalise_answer("  The answer is: PARIS! ") == "paris"
    assert short_agree("Paris.", "It is Paris")
    assert short_agree("72", "The total is 72 clips")
    assert short_agree("1,000", "1000")
    assert not short_agree("Paris", "Lyon")
    assert not short_agree("12", "13")


@pytest.mark.slow
def test_same_question_different_answers_is_flagged_with_the_real_encoders() -> None:
    rows = [
        sample(0, "What is the capital of France?", "Paris."),
        sample(1, "What is the capital city of France?", "Lyon"),
        sample(2, "what is the capital of France", "It is Paris"),
        sample(3, "What is the capital of Germany?", "Berlin"),
        sample(4, "Write a haiku about autumn.", "Leaves fall slowly down"),
    ]
    out = run_audit(rows, scorers=["answer_agreement"])
    flags = {r["index"]: [f for f in r["flags"] if f["code"] == "inconsistent_answers"] for r in out.samples}
    assert flags[1] and 0 in flags[1][0]["related"]
    assert flags[0] and flags[0][0]["related"] == [1]
    assert not flags[3] and not flags[4]  # Germany is another question, not a disagreement
    assert out.samples[1]["scores"]["consistency"] == 0.0 and out.samples[4]["scores"]["consistency"] == 1.0
    fig = out.report["dimensions"]["consistency"]["figures"]["answer_agreement"]
    assert fig["samples_flagged"] in (2, 3)  # sample 2 pairs with 1 only if MiniLM rates them >= 0.9
    assert not flags[2] or flags[2][0]["related"] == [1]  # "It is Paris" agrees with "Paris."
    assert fig["embedding"]["verification"]["model"] == "all-MiniLM-L6-v2"
    assert "not multilingual" in fig["cross_language"]


def _pair_vectors(texts: list[str], groups: list[int], dim: int = 8) -> dict[str, np.ndarray]:
    eye = np.eye(dim)
    return {t: eye[g] + 0.01 * np.arange(dim) * (i % 2) for i, (t, g) in enumerate(zip(texts, groups))}


def test_long_answers_and_cross_language_pairs_use_embeddings() -> None:
    rows = [
        sample(0, "How do I stay healthy?", "Eat well, sleep eight hours and exercise every day of the week."),
        sample(1, "How can I stay healthy?", "The French Revolution began in 1789 with the storming of the Bastille."),
        sample(2, "如何保持健康？", "多吃蔬菜，保证睡眠，每天锻炼身体，保持良好的心态和生活习惯。"),
        sample(3, "What is the boiling point of water at sea level?", "100 degrees Celsius at one atmosphere."),
        sample(4, "水在海平面的沸点是多少？", "水在一个标准大气压下的沸点是一百摄氏度左右。"),
    ]
    ins = [s.instruction for s in rows]
    ans = [s.answer for s in rows]
    vecs = _pair_vectors(ins, [0, 0, 0, 1, 1]) | _pair_vectors(ans, [2, 3, 2, 4, 4])
    ctx = context_with(rows, vecs, 8)
    ctx.results["language"] = ScorerResult(
        scores=None, flags=[[]] * 5, fields=[{"language": lang} for lang in ("en", "en", "zh", "en", "zh")]
    )
    res = AnswerAgreement({"cross_language": "on"}).score(rows, ctx)
    codes = [[f.code for f in fl] for fl in res.flags]
    assert codes[1] == ["inconsistent_answers"] and codes[0] == ["inconsistent_answers"]
    assert "cross_language_disagreement" in codes[2] and res.flags[2][0].related == (1,)
    assert codes[3] == [] and codes[4] == []  # same answer in two languages: consistent
    assert res.scores[3] == 1.0 and res.scores[1] < 0.5
    assert res.summary["cross_language"] == "checked"


def test_noise_family_duplicate_groups_are_candidates() -> None:
    rows = [sample(0, "Name a primary colour.", "Red"), sample(1, "Name one primary colour!", "Blue")]
    vecs = {"Name a primary colour.": np.array([1.0, 0, 0]), "Name one primary colour!": np.array([0.95, 0.3, 0])}
    ctx = context_with(rows, vecs, 3)
    ctx.results["near_duplicate"] = ScorerResult(
        scores=[1.0, 1.0], flags=[[], []], fields=[{"duplicate_group": 0}, {"duplicate_group": 0}]
    )
    res = AnswerAgreement({"candidate_similarity": 0.99, "same_question": 0.9}).score(rows, ctx)
    assert [f.code for f in res.flags[0]] == ["inconsistent_answers"]
    assert "near_duplicate groups" in res.summary["sources"]


def test_answer_formats() -> None:
    assert answer_format('{"a": 1}') == "json"
    assert answer_format("1. one\n2. two") == "numbered_list"
    assert answer_format("- a\n- b") == "bullet_list"
    assert answer_format("```python\nprint(1)\n```") == "code"
    assert answer_format("Yes") == "one_word"
    assert answer_format("巴黎") == "one_word"
    assert answer_format("This is a longer explanation with many words in one plain paragraph.") == "prose"
    assert answer_format("Paris is the capital.") == "short"
    assert answer_format("   ") == "empty"


def test_format_and_length_outliers_inside_a_cluster() -> None:
    rows = [sample(i, f"List three fruits, take {i}", f"1. apple\n2. pear\n3. plum {i}") for i in range(10)]
    rows.append(sample(10, "List three fruits, take 10", "Apples, pears and plums are all fruits that I like."))
    rows.append(sample(11, "List three fruits, take 11", "1. apple\n2. pear\n3. plum " + "and more words " * 300))
    ctx = ScoringContext(rows)
    ctx.results["instruction_clusters"] = ScorerResult(scores=None, flags=[[]] * 12, fields=[{"cluster": 0}] * 12)
    res = FormatConsistency().score(rows, ctx)
    assert [f.code for f in res.flags[10]] == ["format_inconsistent"]
    assert len(res.flags[10][0].related) == 3 and 10 not in res.flags[10][0].related
    assert "answer_length_outlier" in [f.code for f in res.flags[11]]
    assert not any(res.flags[i] for i in range(10))
    assert res.scores[10] == 0.5 and res.summary["cluster_norms"]["0"]["format"] == "numbered_list"
    assert res.fields[0]["answer_format"] == "numbered_list"


def test_reference_agreement_supported_contradicted_and_unmatched() -> None:
    refs = [
        sample(100, "What is the capital of France?", "Paris"),
        sample(101, "How do plants make food?", "Plants make food by photosynthesis using sunlight, water and CO2."),
    ]
    rows = [
        sample(0, "What is the capital of France?", "It's Paris."),
        sample(1, "What's the capital of France?", "Marseille"),
        sample(2, "How do plants make food?", "Plants use photosynthesis: light, water and carbon dioxide."),
        sample(3, "How do plants make their food?", "By eating insects at night."),
        sample(4, "Write a limerick about a cat.", "There once was a cat..."),
    ]
    vecs = _pair_vectors([r.instruction for r in refs + rows], [0, 1, 0, 0, 1, 1, 5])
    vecs |= _pair_vectors([refs[1].answer, rows[2].answer, rows[3].answer], [2, 2, 3])
    ctx = context_with(rows, vecs, 8, reference=refs)
    res = ReferenceAgreement().score(rows, ctx)
    status = [f["reference_status"] for f in res.fields]
    assert status == ["supported", "contradicted", "supported", "contradicted", "no_reference"]
    assert res.flags[1][0].code == "contradicts_reference" and res.flags[1][0].related == (100,)
    assert res.flags[3][0].related == (101,)
    assert res.scores[4] is None and res.scores[0] == 1.0 and res.scores[1] == 0.0
    assert (res.summary["supported"], res.summary["contradicted"], res.summary["no_reference"]) == (2, 2, 1)
    assert res.fields[0]["reference_index"] == 100


def test_reference_agreement_needs_a_reference() -> None:
    out = run_audit([sample(0, "q", "a")], scorers=["reference_agreement"])
    assert out.report["scorers"][0]["status"] == "not_computed"
    assert "reference" in out.report["scorers"][0]["reason"]


def test_verification_budget_keeps_the_most_similar_pairs() -> None:
    from scorers.consistency import within_budget

    pairs = {(0, 1): 0.91, (2, 3): 0.99, (4, 5): 2.0, (1, 2): 0.95}
    chosen, dropped = within_budget(pairs, 4)
    assert chosen == [(2, 3), (4, 5)] and dropped == 2
    assert within_budget(pairs, 100) == (sorted(pairs), 0)


def test_different_asks_on_one_passage_and_open_ended_asks_are_not_disagreements() -> None:
    article = "\n\n" + "The city council approved a new park with a lake and a library next to it. " * 3
    rows = [
        sample(0, "Write a headline for this article." + article, "Council Approves Lakeside Park and Library"),
        sample(1, "List the places named in this article." + article, "park, lake, library, city hall area"),
        sample(
            2, "Give me some ideas for a birthday party.", "A picnic, a karaoke night, or a treasure hunt with friends."
        ),
        sample(
            3,
            "Give me some ideas for a birthday party!",
            "Rent a bowling lane, bake a huge cake and invite the neighbours.",
        ),
    ]
    e = np.eye(6)
    vecs = {
        rows[0].instruction: e[0],
        rows[1].instruction: e[0],
        "Write a headline for this article.": e[4],
        "List the places named in this article.": e[5],
        rows[2].instruction: e[1],
        rows[3].instruction: e[1] + 0.01 * e[2],
        rows[2].answer: e[2],
        rows[3].answer: e[3],
    }
    res = AnswerAgreement().score(rows, context_with(rows, vecs, 6))
    assert not any(res.flags)
    assert res.summary["open_ended_pairs_not_judged"] == 1
    assert res.summary["same_question_pairs"] == 1  # the passage pair was rejected on its asks

    # a sample in one pair with a passage and another pair without one (regression: KeyError)
    rows.append(sample(4, "Write a short headline.", "Parks Are Great"))  # near sample 0 and near sample 5
    rows.append(sample(5, "Write a brief headline.", "Parks Are Great"))  # near sample 4 only
    vecs[rows[4].instruction] = e[0] + 0.45 * e[5]
    vecs[rows[5].instruction] = e[0] + 0.9 * e[5]
    res = AnswerAgreement().score(rows, context_with(rows, vecs, 6))
    assert res.summary["same_question_pairs"] >= 1


def test_identical_instructions_need_no_encoder_verification() -> None:
    rows = [
        sample(0, "Name a primary colour.", "Red"),
        sample(1, "name a  PRIMARY colour.", "Blue"),
        sample(2, "Name a primary colour.", "red"),
    ]
    ctx = context_with(rows, {}, 3)
    ctx.results["near_duplicate"] = ScorerResult(
        scores=[1.0] * 3, flags=[[], [], []], fields=[{"duplicate_group": 0}] * 3
    )
    res = AnswerAgreement({"max_candidates": 0}).score(rows, ctx)  # no encoder budget at all
    assert res.summary["identical_instruction_pairs"] == 3 and res.summary["verified_pairs"] == 0
    assert [f.related for f in res.flags[1]] == [(0, 2)]
    assert [f.related for f in res.flags[0]] == [(1,)] and [f.related for f in res.flags[2]] == [(1,)]


def test_a_plain_text_majority_sets_no_format_norm() -> None:
    rows = [
        sample(i, f"Explain topic {i}", "A fairly long plain answer that explains the topic in several words.")
        for i in range(8)
    ]
    rows += [sample(8, "Explain topic 8", "Short plain answer."), sample(9, "Explain topic 9", "1. a\n2. b")]
    ctx = ScoringContext(rows)
    ctx.results["instruction_clusters"] = ScorerResult(scores=None, flags=[[]] * 10, fields=[{"cluster": 0}] * 10)
    res = FormatConsistency().score(rows, ctx)
    assert not any(f.code == "format_inconsistent" for fl in res.flags for f in fl)  # prose sets no norm
    assert res.summary["cluster_norms"] == {}


def test_format_norms_are_per_cluster_and_task_type_when_both_ran() -> None:
    rows = [sample(i, f"Classify review {i}", "Positive") for i in range(9)]
    rows += [sample(9, "Classify review 9", "I think this review is rather positive overall.")]
    rows += [sample(10 + i, f"Explain review {i}", "A longer explanation of the review in words.") for i in range(9)]
    ctx = ScoringContext(rows)
    ctx.results["instruction_clusters"] = ScorerResult(scores=None, flags=[[]] * 19, fields=[{"cluster": 0}] * 19)
    ctx.results["task_type"] = ScorerResult(
        scores=None, flags=[[]] * 19, fields=[{"task_type": "classification"}] * 10 + [{"task_type": "open_qa"}] * 9
    )
    res = FormatConsistency().score(rows, ctx)
    assert res.summary["grouped_by"] == "instruction_clusters × task_type"
    assert res.summary["cluster_norms"] == {"0/classification": {"format": "one_word", "share": 0.9}}
    assert [f.code for f in res.flags[9]] == ["format_inconsistent", "answer_length_outlier"]
    assert res.flags[9][0].related == (0, 1, 2)
    assert not any(res.flags[i] for i in range(10, 19))
