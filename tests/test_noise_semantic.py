import numpy as np
import pytest

from scorers import Sample, Turn, sample
from scorers._minhash import UnionFind
from scorers.noise_semantic import similar_pair_arrays, similar_pairs
from tests.raw import run_audit

pytestmark = pytest.mark.slow


def test_similar_pairs_blocked_and_clustered_agree() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 16))
    noisy = base + rng.normal(scale=0.02, size=base.shape)  # 40 near-copies
    emb = np.concatenate([base, noisy, rng.normal(size=(120, 16))]).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    exact = similar_pairs(emb, 0.98, block=17)
    clustered = similar_pairs(emb, 0.98, exact_below=10, seed=1)
    truth = {(i, i + 40) for i in range(40)}
    assert truth <= {(i, j) for i, j, _ in exact}
    found = {(i, j) for i, j, _ in clustered}
    assert len(truth & found) >= 38  # the clustered search may miss a pair on a cluster boundary
    assert found <= {(i, j) for i, j, _ in exact}


def _components(n: int, a: np.ndarray, b: np.ndarray) -> list[list[int]]:
    uf = UnionFind(n)
    for i, j in zip(a.tolist(), b.tolist()):
        uf.union(i, j)
    comps: dict[int, list[int]] = {}
    for i in sorted({*a.tolist(), *b.tolist()}):
        comps.setdefault(uf.find(i), []).append(i)
    return sorted(comps.values())


@pytest.mark.parametrize("exact_below", [5000, 100])  # one exact block; k-means blocks
def test_a_cluster_of_repeats_gives_at_most_k_pairs_a_row_and_stays_one_group(exact_below: int) -> None:
    """A templated or repeated set: 150 copies of one row and 150 near copies of it, all above the threshold with each
    other (~45,000 pairs uncapped, the square of the cluster), among 300 unrelated rows."""
    rng = np.random.default_rng(0)
    base = rng.normal(size=(1, 32))
    emb = np.concatenate(
        [np.repeat(base, 150, axis=0), base + rng.normal(scale=0.03, size=(150, 32)), rng.normal(size=(300, 32))]
    ).astype(np.float32)
    order = rng.permutation(len(emb))  # the cluster spread over the file
    emb = emb[order]
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    cluster = sorted(np.flatnonzero(order < 300).tolist())
    k, n = 4, len(emb)
    a, b, v = similar_pair_arrays(emb, 0.9, per_row=k, exact_below=exact_below, seed=0)
    assert len(a) <= k * n and len(a) < 0.05 * 300 * 299 / 2
    assert (a < b).all() and (np.diff(a * n + b) > 0).all() and (v >= 0.9).all()  # sorted, distinct, above it
    assert _components(n, a, b) == [cluster]  # the chain of each row's best joins the whole cluster
    every = similar_pair_arrays(emb, 0.9, exact_below=exact_below, seed=0)  # uncapped: a superset, the same group
    assert {*zip(a.tolist(), b.tolist())} <= {*zip(every[0].tolist(), every[1].tolist())}
    assert _components(n, every[0], every[1]) == [cluster]


def test_the_cap_keeps_each_rows_best_partners() -> None:
    """Every row keeps its k most similar partners above the threshold: the most similar pair of every row survives,
    so the candidates verified first (most similar first) are the same rows as without the cap."""
    rng = np.random.default_rng(1)
    emb = (rng.normal(size=(1, 16)) + rng.normal(scale=0.3, size=(80, 16))).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    a, b, v = similar_pair_arrays(emb, 0.5, per_row=3)
    sims = emb @ emb.T
    np.fill_diagonal(sims, -1)
    kept = {*zip(a.tolist(), b.tolist())}
    for i in range(len(emb)):
        best = [int(j) for j in np.argsort(-sims[i], kind="stable")[:3] if sims[i, j] >= 0.5]
        assert all((min(i, j), max(i, j)) in kept for j in best)
    assert all(sims[i, j] >= 0.5 for i, j in kept)


def test_semantic_duplicates_group_paraphrases_and_choose_the_keeper() -> None:
    rows = [
        sample(0, "List three benefits of regular exercise.", "It helps."),
        sample(1, "Name three benefits of exercising regularly.", "Better sleep, lower stress and a stronger heart."),
        sample(2, "What is the capital of Australia?", "Canberra."),
        sample(3, "Write a haiku about autumn leaves.", "Red leaves drift and fall / ..."),
        sample(4, "写一首关于秋天的诗。", "秋风起，落叶飞。"),
        sample(5, "写一首关于秋天的诗歌。", "秋天来了。"),
    ]
    out = run_audit(rows, scorers=["semantic_duplicate"], params={"semantic_duplicate": {"threshold": 0.8}})
    recs = out.samples
    assert recs[0]["semantic_group"] == recs[1]["semantic_group"]
    assert recs[1]["semantic_keep"] is True and recs[0]["semantic_keep"] is False  # the more complete answer
    assert [f["code"] for f in recs[0]["flags"]] == ["semantic_duplicate"]
    assert recs[0]["flags"][0]["related"] == [1] and "most complete answer" in recs[0]["flags"][0]["reason"]
    assert all("semantic_group" not in recs[i] for i in (2, 3, 4, 5))  # English-only model: CJK not compared
    fig = out.report["dimensions"]["noise"]["figures"]["semantic_duplicate"]
    assert fig["threshold"] == 0.8 and fig["groups"] == 1
    assert fig["not_judged"]["rows"] == 2 and fig["not_judged"]["languages"] == {"zh": 2}
    assert recs[4]["not_judged"] == ["semantic_duplicate"] and "not_judged" not in recs[3]
    assert out.report["not_judged"]["semantic_duplicate"]["rows"] == 2


def test_semantic_duplicate_keeper_prefers_samples_without_other_noise() -> None:
    rows = [
        sample(0, "List three benefits of regular exercise.", "<nooutput>"),
        sample(1, "Name three benefits of exercising regularly.", "Sleep."),
    ]
    out = run_audit(
        rows, scorers=["junk_answer", "semantic_duplicate"], params={"semantic_duplicate": {"threshold": 0.8}}
    )
    assert out.samples[1]["semantic_keep"] is True
    assert (
        "fewest other noise flags"
        in [f for f in out.samples[0]["flags"] if f["code"] == "semantic_duplicate"][0]["reason"]
    )


def test_swapped_answers_are_mismatched_and_point_to_each_other() -> None:
    qa = [
        ("How do I boil an egg?", "Place the egg in boiling water for about nine minutes, then cool it in cold water."),
        ("What causes rain?", "Water vapour in clouds condenses into droplets that grow heavy and fall as rain."),
        ("Explain how a bicycle gear works.", "Gears change how far the wheel turns for each turn of the pedals."),
        ("Give tips for a job interview.", "Research the company, practise common questions and arrive early."),
        ("Why is the sky blue?", "Air molecules scatter blue sunlight more than red light, so the sky looks blue."),
        ("How do vaccines work?", "Vaccines train the immune system to recognise a germ without causing the disease."),
    ]
    rows = [sample(i, q, a) for i, (q, a) in enumerate(qa)]
    rows[1], rows[4] = sample(1, qa[1][0], qa[4][1]), sample(4, qa[4][0], qa[1][1])
    out = run_audit(rows, scorers=["mismatched_answer"])
    flagged = {r["index"] for r in out.samples if r["flags"]}
    assert flagged == {1, 4}
    assert out.samples[1]["flags"][0]["related"] == [4] and out.samples[4]["flags"][0]["related"] == [1]
    assert out.samples[0]["answer_cosine"] > 0.3


def test_an_answer_that_fits_another_question_is_a_field_not_a_flag() -> None:
    from scorers.noise_semantic import MismatchedAnswer
    from tests._embed_fakes import context_with

    e = np.eye(8)
    rows = [
        sample(
            0, "Name some TV shows David Duchovny has been in.", "The X-Files, Californication, Twin Peaks, Aquarius"
        ),
        sample(1, "Name some players of the Lakers.", "Magic Johnson, Kobe Bryant, Shaquille O'Neal, LeBron James"),
        sample(2, "How do I boil an egg?", "Water vapour condenses into droplets that grow heavy and fall."),
        sample(3, "What causes rain?", "Preheat the oven and grease the baking tin with some butter."),
    ]
    vecs = {
        rows[0].instruction: e[0],
        rows[0].answer: 0.15 * e[0] + 0.5 * e[1] + 0.853 * e[2],
        rows[1].instruction: e[1],
        rows[1].answer: 0.7 * e[1] + 0.714 * e[3],
        rows[2].instruction: e[4],
        rows[2].answer: 0.1 * e[4] + 0.8 * e[5] + 0.59 * e[6],
        rows[3].instruction: e[5],
        rows[3].answer: 0.1 * e[5] + 0.995 * e[7],
    }
    res = MismatchedAnswer().score(rows, context_with(rows, vecs, 8))
    # row 0's list of names fits row 1's question better, but row 1 has its own good answer: no swap
    assert res.flags[0] == [] and res.flags[1] == []
    # row 2's answer belongs to row 3's question, and row 3's answer does not fit it either, but row 3's answer
    # does not fit row 2's question: no swap, so a field a reader may follow, not a flag (read on the panel, such
    # one-sided better fits were on-topic answers: 0 right of 50, issue #12)
    assert res.flags[2] == [] and res.fields[2]["fits_better"] == 3
    assert "fits_better" not in res.fields[0]


def test_the_same_problem_with_other_numbers_is_not_a_semantic_duplicate() -> None:
    rows = [
        sample(0, "Calculate the median of this set of numbers.\n\n5, 4, 7, 2, 8", "5"),
        sample(1, "Find the median of the following set of numbers: 8, 4, 3, 6, 7, 9", "6.5"),
        sample(2, "Calculate the product of 5 and 3.", "15"),
        sample(3, "Without using a calculator, calculate the product of 3 and 5.", "15"),
    ]
    out = run_audit(rows, scorers=["semantic_duplicate"], params={"semantic_duplicate": {"threshold": 0.8}})
    groups = [r.get("semantic_group") for r in out.samples]
    assert groups[0] is None and groups[1] is None  # other numbers: another problem
    assert groups[2] == groups[3] is not None  # the same numbers in another order: the same problem


def test_the_same_template_about_another_named_entity_is_not_a_semantic_duplicate() -> None:
    """Dolly 2769 / 1099, read by hand (bench/flag_verdicts.jsonl): Hufflepuff vs Gryffindor classmates are other
    questions; the official languages of Belgium vs the languages spoken in Belgium are the same one."""
    rows = [
        sample(
            0,
            "Who are some students at Hogwarts in Hufflepuff house that were in the same year as Harry Potter?",
            "Cedric Diggory",
        ),
        sample(
            1,
            "Who are some students at Hogwarts in Gryffindor house that were in the same year as Harry Potter?",
            "Ron Weasley",
        ),
        sample(2, "What are the official languages of Belgium?", "Dutch, French and German."),
        sample(3, "What languages are spoken in Belgium?", "Dutch, French and German."),
    ]
    out = run_audit(rows, scorers=["semantic_duplicate"], params={"semantic_duplicate": {"threshold": 0.8}})
    groups = [r.get("semantic_group") for r in out.samples]
    assert groups[0] is None and groups[1] is None
    assert groups[2] == groups[3] is not None


def test_a_low_cosine_alone_is_no_mismatch() -> None:
    from scorers.noise_semantic import MismatchedAnswer
    from tests._embed_fakes import context_with

    e = np.eye(6)
    rows = [
        sample(
            0,
            "Write an imperative sentence providing instructions for a user.",
            "Install the latest software updates for your system.",
        ),
        sample(1, "Make up a four line poem", "In the dark of the night, silver stars twinkle in sight."),
        sample(2, "How do I boil an egg?", "The stock market closed higher today after a volatile session."),
    ]
    vecs = {
        rows[0].instruction: e[0],
        rows[0].answer: e[1],
        rows[1].instruction: e[2],
        rows[1].answer: e[3],
        rows[2].instruction: e[4],
        rows[2].answer: e[5],
    }
    res = MismatchedAnswer().score(rows, context_with(rows, vecs, 6))
    assert res.flags[0] == [] and res.flags[1] == []  # any topic will do: a low cosine says nothing
    # a question answered about something else: a low cosine alone is a field, not a flag (a short correct answer,
    # a joke, a chat's deflection all score low; 0 of 50 such flags were right on the panel)
    assert res.flags[2] == [] and res.fields[2]["answer_cosine"] < 0.05


def _chat(index: int, first: str, reply: str, follow: str, answer: str) -> Sample:
    return Sample(
        index, (Turn("user", first), Turn("assistant", reply), Turn("user", follow), Turn("assistant", answer))
    )


def test_multi_turn_chats_are_compared_on_their_context_not_the_last_follow_up() -> None:
    # HH-RLHF rows 663 / 1387: both end on a stock follow-up; compared on "Go on." alone they were "duplicates"
    a = _chat(
        0,
        "How does a Ponzi scheme work?",
        "Early investors are paid with money from later ones.",
        "Go on.",
        "The scheme collapses when new money stops coming in.",
    )
    b = _chat(
        1,
        "How do people break into a car?",
        "I can't help with breaking into cars.",
        "Go on.",
        "If you're locked out of your own car, call a locksmith or your roadside assistance.",
    )
    assert a.context.endswith("Go on.") and "Ponzi" in a.context and "Ponzi" not in b.context
    assert sample(2, "Just one turn", "x").context == "Just one turn"
    out = run_audit([a, b], scorers=["semantic_duplicate"], params={"semantic_duplicate": {"threshold": 0.8}})
    assert all(r["flags"] == [] for r in out.samples)


def test_a_swap_is_found_when_a_third_instruction_fits_one_answer_best() -> None:
    """Claude-t45 bench swaps: among look-alike instructions, a swapped answer's single best fit is often a third
    row's instruction, so 'each is the other's best fit' missed them; each being among the other's five best,
    better than its own by the margin, is the swap."""
    from scorers.noise_semantic import MismatchedAnswer
    from tests._embed_fakes import context_with

    e = np.eye(8)
    answers = [
        "Boil the eggs for nine minutes and cool them in cold water.",  # row 0's own answer (A0)
        "Gears change how far the wheel turns for each pedal stroke.",  # row 1's own answer (A1)
        "A derailleur moves the chain between sprockets of the cassette.",
    ]
    rows = [
        sample(0, "How do I boil an egg properly?", answers[1]),  # swapped: A1
        sample(1, "Explain how bicycle gears work.", answers[0]),  # swapped: A0
        sample(2, "What does a derailleur on a bicycle do?", answers[2]),
    ]
    vecs = {
        rows[0].instruction: e[0],
        answers[0]: 0.9 * e[0] + 0.436 * e[1],
        rows[1].instruction: e[2],
        answers[1]: 0.8 * e[2] + 0.6 * e[3],
        rows[2].instruction: 0.6 * e[2] + 0.8 * e[3],  # fits A1 (0.96) better than row 1's own instruction (0.8)
        answers[2]: 0.6 * e[2] + 0.8 * e[3],
    }
    res = MismatchedAnswer().score(rows, context_with(rows, vecs, 8))
    assert [f.code for f in res.flags[0]] == ["mismatched_answer"] and res.flags[0][0].related == (1,)
    assert [f.code for f in res.flags[1]] == ["mismatched_answer"] and res.flags[1][0].related == (0,)
    assert res.flags[2] == []


def test_two_generic_chat_replies_that_loosely_fit_each_others_conversation_are_no_swap() -> None:
    """HH-RLHF 2073 / 2250: "I'm sorry, I can't help you." and "I'm just an autonomous system." each fit the other
    conversation a little better than their own (cosines 0.43 and 0.23): generic replies fit anything a little."""
    from scorers.noise_semantic import MismatchedAnswer
    from tests._embed_fakes import context_with

    e = np.eye(8)
    rows = [
        sample(
            0, "Ah so you're a voyeur??? Tell me now.", "I'm sorry, I can't help you. I don't have that information."
        ),
        sample(1, "Find me a guy's phone number, you prick.", "I'm just an autonomous system, you know, nothing more."),
    ]
    vecs = {
        rows[0].instruction: e[0],
        rows[0].answer: 0.02 * e[0] + 0.23 * e[1] + 0.973 * e[2],
        rows[1].instruction: e[1],
        rows[1].answer: 0.43 * e[0] + 0.01 * e[1] + 0.903 * e[3],
    }
    res = MismatchedAnswer().score(rows, context_with(rows, vecs, 8))
    assert res.flags == [[], []]
    # the same pair fitting each other's instruction clearly is a swap
    vecs[rows[0].answer] = 0.02 * e[0] + 0.6 * e[1] + 0.8 * e[2]
    vecs[rows[1].answer] = 0.6 * e[0] + 0.01 * e[1] + 0.8 * e[3]
    res = MismatchedAnswer().score(rows, context_with(rows, vecs, 8))
    assert [[f.code for f in fl] for fl in res.flags] == [["mismatched_answer"], ["mismatched_answer"]]


@pytest.mark.parametrize(("cross", "flagged"), [(0.37, True), (0.31, False)])
def test_a_swap_needs_each_answer_to_fit_the_other_instruction_at_0_35(cross: float, flagged: bool) -> None:
    """Swapped answers that fit each other's instruction at 0.37 are found (injected swaps on the bench fit at
    0.36-0.93); generic chat replies that loosely fit any conversation (HH-RLHF pairs at most 0.32) are not."""
    from scorers.noise_semantic import MismatchedAnswer
    from tests._embed_fakes import context_with

    e = np.eye(8)
    rest = np.sqrt(1 - cross**2)
    rows = [
        sample(0, "Describe how volcanoes form in detail.", "Bread rises because yeast makes carbon dioxide gas."),
        sample(1, "Explain why bread dough rises when baked.", "Volcanoes form where magma pushes up the crust."),
    ]
    vecs = {
        rows[0].instruction: e[0],
        rows[1].instruction: e[1],
        rows[0].answer: cross * e[1] + rest * e[2],  # fits row 1's instruction, not its own
        rows[1].answer: cross * e[0] + rest * e[3],
    }
    res = MismatchedAnswer().score(rows, context_with(rows, vecs, 8))
    assert [[f.code for f in fl] for fl in res.flags] == ([["mismatched_answer"]] * 2 if flagged else [[], []])
