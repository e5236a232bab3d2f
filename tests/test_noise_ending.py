"""answer_ending: a language model's view of whether an answer can end where it does (cut-off answers).

A tiny Llama is trained here for a few seconds on turns that always end after a finished sentence, so that it has
learnt where a turn ends; random weights would know nothing of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scorers import ModelConfig, run_audit, sample
from tests.test_quality_models import TEMPLATE, _llama_config, _tokenizer

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

TURNS = [
    ("what is the capital of france", "paris is the capital of france"),
    ("give three tips for staying healthy", "eat well sleep enough and exercise"),
    ("add two and three", "two plus three is five"),
    ("what is the sea", "the sea is wide and blue and deep"),
]


@pytest.fixture(scope="module")
def trained_lm(tmp_path_factory) -> Path:
    """A tiny chat LM that has seen each answer end its turn (``</s>``) right after its last word."""
    return _train(tmp_path_factory.mktemp("ending_lm"), TURNS)


ZH_TURNS = [  # words spaced for the tiny word-level tokenizer
    ("这些 数据 用于 什么", "这些 数据 用于 什么 工作"),
    ("你 想 做 什么", "我 想 用于 什么 工作"),
    ("列出 水果", "苹果 、 香蕉 、 橙子 、 西瓜"),
]


def _train(path: Path, turns, corpus: list[str] | None = None) -> Path:
    """A tiny chat LM that has seen each answer of ``turns`` end its turn (``</s>``) right after its last word."""
    from transformers import AutoTokenizer, LlamaForCausalLM

    _tokenizer(path, corpus)
    tok = AutoTokenizer.from_pretrained(path)
    tok.chat_template = TEMPLATE
    tok.save_pretrained(path)
    torch.manual_seed(0)
    model = LlamaForCausalLM(_llama_config(len(tok)))
    seqs = [
        tok.apply_chat_template([{"role": "user", "content": q}, {"role": "assistant", "content": a}], tokenize=True)
        for q, a in turns
    ]
    seqs = [list(s["input_ids"] if hasattr(s, "keys") else s) for s in seqs]
    width = max(map(len, seqs))
    ids = torch.tensor([s + [0] * (width - len(s)) for s in seqs])
    labels = ids.masked_fill(ids == 0, -100)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        loss = model(input_ids=ids, attention_mask=(ids != 0).long(), labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def trained_zh_lm(tmp_path_factory) -> Path:
    """The same for Chinese turns, with a vocabulary that also holds "什" and "西" as words of their own (a cut inside
    "什么" or "西瓜" ends on them)."""
    corpus = [w for qa in ZH_TURNS for w in qa] + ["什 西 user assistant system"]
    return _train(tmp_path_factory.mktemp("ending_zh_lm"), ZH_TURNS, corpus)


def _audit(path: Path, rows, **params):
    return run_audit(
        rows,
        scorers=["answer_ending"],
        models=ModelConfig(language_model=str(path), device="cpu"),
        params={"answer_ending": {"min_chars": 5, **params}},
    )


def test_a_cut_answer_is_flagged_and_its_finished_answer_is_not(trained_lm: Path) -> None:
    rows = [
        sample(0, TURNS[3][0], TURNS[3][1]),  # finished, without a full stop
        sample(1, TURNS[3][0], "the sea is wide and blue"),  # cut after "blue"
        sample(2, TURNS[2][0], TURNS[2][1]),
        sample(3, TURNS[2][0], "two plus three is"),
    ]
    # the defaults are set for a real LM; this tiny one has no "." or line break, so both readings are the turn's end
    out = _audit(trained_lm, rows, stop_below=-5.0, end_below=-5.0)
    logp = [rec["answer_ending"]["end_logprob"] for rec in out.samples]
    assert logp[0] > logp[1] + 3 and logp[2] > logp[3] + 3  # the finished answers end their turn far likelier
    flagged = [rec["index"] for rec in out.samples if any(f["code"] == "unfinished_answer" for f in rec["flags"])]
    assert flagged == [1, 3], logp
    reason = next(f["reason"] for f in out.samples[1]["flags"])
    assert "mid-sentence" in reason and "blue" in reason
    summary = out.report["dimensions"]["noise"]["figures"]["answer_ending"]
    assert summary["answers_read"] == 4 and summary["end_tokens"] == ["</s>"]
    budget = _audit(trained_lm, rows, max_answers=2)
    read = [rec["index"] for rec in budget.samples if "answer_ending" in rec]
    assert len(read) == 2 and read == [
        rec["index"] for rec in _audit(trained_lm, rows, max_answers=2).samples if "answer_ending" in rec
    ]
    assert budget.report["dimensions"]["noise"]["figures"]["answer_ending"]["answers_to_read"] == 4


def test_the_score_is_the_models_own_end_of_turn_probability(trained_lm: Path) -> None:
    """end_logprob is log p(end of turn | template prompt + answer), as the model itself gives it."""
    from transformers import AutoTokenizer, LlamaForCausalLM

    q, a = TURNS[1]
    got = _audit(trained_lm, [sample(0, q, a)]).samples[0]["answer_ending"]["end_logprob"]
    tok = AutoTokenizer.from_pretrained(trained_lm)
    model = LlamaForCausalLM.from_pretrained(trained_lm).eval()
    prompt = tok.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True, tokenize=True)
    prompt = list(prompt["input_ids"] if hasattr(prompt, "keys") else prompt)
    ids = torch.tensor([prompt + tok(a, add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        manual = torch.log_softmax(model(input_ids=ids).logits[0, -1].float(), -1)[tok.eos_token_id].item()
    assert got == pytest.approx(manual, abs=1e-3)


def test_only_unpunctuated_endings_are_read_and_certain_cuts_are_not_flagged_twice(trained_lm: Path) -> None:
    from scorers.noise_ending import needs_reading
    from scorers.text.endings import certain_cut

    assert not needs_reading("Paris is the capital of France.", 5)
    assert not needs_reading('He said "stop."', 5) and not needs_reading("巴黎是法国的首都。", 2)
    assert not needs_reading("```python\nprint(1)\n```", 5) and not needs_reading("#### 72", 5)
    assert needs_reading("- Go skating\n- Go snowshoeing", 5) and needs_reading("这本小说有", 2)
    assert not needs_reading("Blue", 40)  # a short answer is not judged
    assert not needs_reading("free from discrimination and inequality. \x03 \x01 \x01", 5)  # damage, not a cut
    assert needs_reading(
        "1.帐篷\n2.睡袋\n3.手电筒\n4. 火柴/打火机\n5.驱", 40, 15
    )  # Chinese says more in fewer characters
    assert not needs_reading("1.帐篷\n2.睡袋\n3.手电筒\n4. 火柴/打火机\n5.驱", 40)
    rows = [
        sample(0, TURNS[0][0], "Paris is the capital of France."),
        # "the" after six words: broken_answer's certain cut, which this scorer leaves to it
        sample(1, TURNS[3][0], "paris is the capital of france and it is the"),
    ]
    out = _audit(trained_lm, rows, stop_below=100.0, end_below=100.0)  # thresholds everything is under
    assert certain_cut(rows[1].answer) is not None
    assert "answer_ending" not in out.samples[0]
    assert out.samples[1]["answer_ending"]["end_logprob"] < 0
    assert out.samples[1]["flags"] == []


def test_end_tokens_are_the_templates_end_of_turn_and_eos(tmp_path: Path) -> None:
    """The token the chat template puts after an answer (a Gemma-style <end_of_turn>) and EOS."""
    from transformers import AutoTokenizer

    from scorers.noise_ending import end_tokens

    _tokenizer(tmp_path)
    tok = AutoTokenizer.from_pretrained(tmp_path)
    assert end_tokens(tok) == [tok.eos_token_id]  # no template
    tok.add_special_tokens({"additional_special_tokens": ["<end_of_turn>"]})
    tok.chat_template = (
        "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }}<end_of_turn> {% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    assert tok.convert_ids_to_tokens(end_tokens(tok)) == ["<end_of_turn>", "</s>"]


def test_not_computed_without_a_language_model() -> None:
    out = run_audit([sample(0, "q", "an answer that stops in the")], scorers=["answer_ending"], models=ModelConfig())
    run = out.report["scorers"][0]
    assert run["status"] == "not_computed" and "language model" in run["reason"]


def test_same_values_at_batch_1_and_16_and_for_two_end_tokens(trained_lm: Path) -> None:
    """Padding in a batch changes nothing; with two end tokens the value is log(p(a) + p(b))."""
    import math

    from scorers._lm import load_causal_lm, next_token_logprob

    rows = [sample(i, q, a if i % 2 else a.rsplit(" ", 2)[0]) for i, (q, a) in enumerate(TURNS)]
    one, many = (
        [r["answer_ending"]["end_logprob"] for r in _audit(trained_lm, rows, batch_size=b).samples] for b in (1, 16)
    )
    assert one == pytest.approx(many, abs=2e-3)
    tok, model = load_causal_lm(str(trained_lm), "cpu")
    seqs = [
        tok("the sea is wide", add_special_tokens=True)["input_ids"],
        tok("blue", add_special_tokens=True)["input_ids"],
    ]
    a, b = tok.eos_token_id, tok.convert_tokens_to_ids("blue")
    got = next_token_logprob(model, seqs, [[a, b], [a], [b]], 0, 16)
    assert got.shape == (2, 3)
    for k in range(2):
        assert got[k, 0] == pytest.approx(math.log(math.exp(got[k, 1]) + math.exp(got[k, 2])), abs=1e-5)
        assert got[k, 1] == pytest.approx(next_token_logprob(model, seqs[k : k + 1], [[a]], 0, 1)[0, 0], abs=1e-5)


def test_stop_tokens_are_sentence_ends_and_line_breaks(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from scorers.noise_ending import stop_tokens

    raw = Tokenizer(models.BPE(unk_token="<unk>"))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.train_from_iterator(
        ["It ends. Does it? Yes! 它结束了。\n\nA list:\n- one, two", "etc... and so on\n"] * 20,
        trainers.BpeTrainer(special_tokens=["<unk>"], vocab_size=300),
    )
    from tokenizers import decoders

    raw.decoder = decoders.ByteLevel()
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="<unk>")
    texts = {tok.decode([i]) for i in stop_tokens(tok)}
    assert {".", "?", "!", "\n"} <= texts and "。" in texts
    assert not texts & {",", ":", "-", "one", " and"}


def test_enumerations_code_and_mojibake_are_not_asked_and_structured_endings_meet_a_stricter_bar(
    trained_lm: Path,
) -> None:
    """Endings the model cannot tell from a cut (a bare enumeration) and text it cannot read are kept from it
    (scorers/text/endings.py LM_NOT_ASKED), counted by rule; a structured ending (a form, an unpunctuated list:
    LM_STRUCTURED) is read, and flagged only under ``structured_stop_below``."""
    from scorers.text.endings import lm_not_asked, lm_structured

    rows = [
        sample(
            0,
            "Categorize these.",
            "Insects - ant, bee, wasp, beetle, butterfly, moth\nFish - salmon, rohu, carp, pike, cod",
        ),
        sample(1, "Sort these proteins.", "Fibrous proteins: collagen, myosin\nGlobular proteins: hemoglobin"),
        sample(2, "Write the function.", "def f(x):\n    y = x * 2\n    return y"),
        sample(3, "Describe it.", "ä¸‰è§’é¾™æ˜¯è‰é£Ÿæ€§è§’é¾™ç§‘æé¾™çš„ä¸€ä¸ªå±ž and so on"),
        sample(4, TURNS[3][0], "the sea is wide and blue"),  # prose: asked
        sample(5, "list three fruits", "- apples\n- pears\n- plums"),  # an unpunctuated list: asked, stricter bar
    ]
    assert [r.name if (r := lm_not_asked(s.answer)) else None for s in rows] == [
        "enumeration",
        None,
        "code",
        "damaged text",
        None,
        None,
    ]
    assert [r.name if (r := lm_structured(s.answer)) else None for s in rows[1::2]] == [
        "form",
        None,
        "unpunctuated list",
    ]
    bars = {"stop_below": 100.0, "end_below": 100.0}
    out = _audit(trained_lm, rows, **bars, structured_stop_below=-100.0, form_stop_below=-100.0)
    assert [rec["index"] for rec in out.samples if "answer_ending" in rec] == [1, 4, 5]
    assert [out.samples[i]["answer_ending"].get("structured") for i in (1, 4, 5)] == ["form", None, "unpunctuated list"]
    assert [rec["index"] for rec in out.samples if rec["flags"]] == [4]  # the structured stops are above -100
    summary = out.report["dimensions"]["noise"]["figures"]["answer_ending"]
    assert summary["not_asked"] == {"enumeration": 1, "code": 1, "damaged text": 1}
    assert summary["structured"] == {"form": 1, "unpunctuated list": 1}
    lists = _audit(trained_lm, rows, **bars, structured_stop_below=100.0, form_stop_below=-100.0)
    assert [rec["index"] for rec in lists.samples if rec["flags"]] == [4, 5]
    assert "inside its last item (unpunctuated list)" in lists.samples[5]["flags"][0]["reason"]
    forms = _audit(trained_lm, rows, **bars, structured_stop_below=-100.0, form_stop_below=100.0)
    assert [rec["index"] for rec in forms.samples if rec["flags"]] == [1, 4]
    assert "inside its last item (form)" in forms.samples[1]["flags"][0]["reason"]
    # prose with a comma or two is not a list, nor one whose last part runs on, nor a list stopped on a separator
    assert lm_not_asked("People like the beach because it is relaxing, sunny, and it is known for its") is None
    assert (
        lm_not_asked(
            "Self-awareness is the capacity to recognize and understand our own emotions, values, and motives, "
            "as well as to be able to use this understanding to make"
        )
        is None
    )
    assert lm_not_asked("5. Hand, Foot and Mouth Disease: Symptoms include fever, sore throat,") is None
    # an "and" that joins pieces before the last comma is a sentence's (noise bench cuts of Dolly 793, 221 and
    # claude_t45 1428); a list joins only its last two items so, and a title's own "and" (Dolly 418) is an item's
    for prose in (
        "Headphones tend to have better sound quality and battery life, as they are larger and can fit more parts",
        "Dogs typically need more exercise and attention than cats, whereas cats are content",
        "Regulating metabolism, responding to stimuli, providing structure to cells and organisms, transporting molecules",
    ):
        assert lm_not_asked(prose) is None, prose
    for listed in (
        "Parasite, America, High and Low, Eternal Sunshine of the Spotless Mind, Tenet, Full Metal Jacket",
        "Mammut, REI, Marmot and Patagonia",
        "apples, pears, plums, cherries and grapes",
    ):
        assert (r := lm_not_asked(listed)) is not None and r.name == "enumeration", listed
    # an item does not run across a sentence end: after a list's full stop the line ends on a sentence begun (the
    # noise bench's cut of Dolly 41 at seed 5), while a list after a sentence, or names after "Mr.", stay a list
    assert (
        lm_not_asked(
            "They are Kanto, Johto, Hoenn, Sinnoh, Unova, Kalos, Alola, Galar, Hisui and Paldea. Certain Pokemon"
        )
        is None
    )
    # … and a line that is prose stays prose when its last sentence alone would read as a list (Dolly 355's cut)
    assert (
        lm_not_asked("Add salt after baking. The pizza dough typically consists of yeast, flour, salt, olive") is None
    )
    for listed in ("Here are some fruits. Apple, banana, cherry, durian", "Mr. Garrison, Mr. Hat, Craig Tucker, Stan"):
        assert (r := lm_not_asked(listed)) is not None and r.name == "enumeration", listed


@pytest.mark.parametrize(
    ("answer", "prompt", "rule"),
    [
        # complete answers the model read as cut on the panel (issue #12), each kept from it by a named rule
        ("1. Cryptocurrency  2. Bitcoin  3. Ethereum  4. Ripple  18. Exchange  19. NFT", "", "unpunctuated list"),
        ("EU Countries: Germany, France, Poland\nNon-EU Countries: Russia", "", "form"),
        ("Jogging, walking the dog, and jumping rope", "Jogging, walking the dog, and jump rope", "enumeration"),
        ("Deep Learning: The Future of Medical Imaging Performance", "Deep learning promises", "title"),
        (
            "It due own intentions ended up succeeding",
            "It was due to his own personal intentions that he ended up succeeding",
            "copied ending",
        ),
        (
            "-Canned pumpkin\n-Eggs\n-Ground cloves\n-Nutmeg",
            "-Canned pumpkin\n-Eggs\n-Nutmeg\n-Ground cloves",
            "copied ending",
        ),
        (  # Alpaca 22386: the given steps reordered and numbered
            "1. Turn on the oven\n2. Grease the baking pan\n3. Add flour\n4. Pour milk",
            "Sort the following list of steps by order.\n\n- Add flour \n- Turn on the oven\n- Grease the baking pan\n"
            "- Pour milk",
            "copied ending",
        ),
        (
            "80 pieces/day * 30 days/month = 2400 pieces/month\n2400 pieces/month * 6 months = 14400 pieces",
            "",
            "worked result",
        ),
        (
            "Since gas costs $2 a gallon, this means Tony spends 40*2=$80 on gas every month,",  # GSM8K 3894
            "",
            "worked result",
        ),
        ("我期待着向您学习并参与课程。\n\n真挚地，\n仁", "", "signature"),
        ("- Distractions\n- Boredom or apathy\n- Overwhelm", "Generate a list of reasons", "unpunctuated list"),
        ("Don't talk no slander 'round these parts\nEverybody know money is the art", "Generate a rap verse", "verse"),
        # cuts read right on the panel: still asked
        ("A linear regression would lead us to predict that sales in 2015 will be", "Predict the trend", None),
        ("The solution is x = 7.5. This means that 2x = 15, and 5 is added to make the equation equal to", "", None),
        ("Happy shopping!\n\nSincerely,\nThe Team at", "Create a greeting", None),
        ("举例说明这些性格特点在日常", "帮我想一个简报点子", None),
        ("- Sago palm leaves can release a toxin\n- Desert rose can affect heart rate\n- Bulbs of", "", None),
        # cuts of bench/noise_detection (seed 1) that read as enumerations: an item on "which", a clause after a list
        ("Freddie Mercury was known for his flamboyant, androgynous persona; his wide vocal range, which", "", None),
        ("网上银行的最佳密码是一个又长又复杂的密码，包含字母、大小写字母、数字和符号的组合，并且是该", "", None),
        (
            "健康生活方式的一些好处：改善身心健康、增加精力和警觉性、改善消化、降低患慢性病的风险、改善认知",
            "",
            "enumeration",
        ),
    ],
)
def test_ending_rules_on_panel_rows(answer: str, prompt: str, rule: str | None) -> None:
    from scorers.text.endings import lm_not_asked, lm_structured

    got = lm_not_asked(answer, prompt) or lm_structured(answer, prompt)
    assert (got.name if got else None) == rule


@pytest.mark.parametrize(
    ("answer", "prompt", "rule"),
    [
        # cuts of the noise bench (bench/noise_detection.py, seed 0) inside structured endings: read under the
        # stricter bar (Gemma 3 270M: stop -8.6, -7.5, -5.4, -9.3, -7.2), not kept from the model
        (
            "1. The Impact of Artificial Intelligence on Human Labor \n2. Evaluating the Benefits and Drawbacks of "
            "Blockchain Technology\n3. The Rise",
            "Generate a list of 3 article titles",
            "unpunctuated list",
        ),
        (
            "1.使用强密码\n2.使用双因素身份验证\n3. 监控您的帐户是否有可疑活动\n4.安装",
            "保护账户的方法",
            "unpunctuated list",
        ),
        (
            "2020 年 6 月：世卫组织宣布开始向低收入国家分发疫苗\n\n2020 年 7 月：发达国家开始接种疫苗\n\n2020 年 8 月：疫苗试",
            "创建时间线",
            "form",
        ),
        ("- Blondie – Heart Of Glass (1978)\n- Kraftwerk –", "Suggest songs", "verse"),
    ],
)
def test_cuts_inside_structured_endings_are_read(answer: str, prompt: str, rule: str) -> None:
    from scorers.text.endings import lm_not_asked, lm_structured

    assert lm_not_asked(answer, prompt) is None
    got = lm_structured(answer, prompt)
    assert got is not None and got.name == rule


def test_a_chinese_answer_cut_inside_a_word_is_flagged_by_the_longer_word_the_model_expected(
    trained_zh_lm: Path,
) -> None:
    """The answer "…用于什" ends on "什", where the model expected "什么": a cut inside a word, whatever the stop bar says.  A bare
    enumeration ("苹果 、 … 、 西") is read for that alone: it may stop after any whole item, not inside one."""
    from scorers.text.endings import lm_ending_rule

    q, fruit = ZH_TURNS[0][0], ZH_TURNS[2][0]
    rows = [
        sample(0, q, "这些 数据 用于 什么 工作"),  # finished
        sample(1, q, "这些 数据 用于 什"),  # cut inside 什么
        sample(2, fruit, "苹果 、 香蕉 、 橙子 、 西"),  # an enumeration cut inside 西瓜
        sample(3, fruit, "苹果 、 香蕉 、 橙子 、 西瓜"),  # the finished enumeration
        sample(4, "name a colour", "the colour of the sky is bl"),  # a Latin ending: no word is read
    ]
    assert [getattr(lm_ending_rule(r.answer, r.prompt_text), "name", None) for r in rows[2:4]] == ["enumeration"] * 2
    params = {"min_chars_cjk": 3}
    out = _audit(trained_zh_lm, rows, stop_below=-100.0, end_below=-100.0, **params)  # the stop bar never flags
    flagged = [rec["index"] for rec in out.samples if any(f["code"] == "unfinished_answer" for f in rec["flags"])]
    assert flagged == [1, 2]
    ratio = [rec.get("answer_ending", {}).get("cut_word_logratio") for rec in out.samples]
    assert ratio[1] > 4 and ratio[2] > 4 and ratio[0] is None and ratio[3] is None and ratio[4] is None
    reason = next(f["reason"] for f in out.samples[1]["flags"])
    assert "inside a word" in reason and "'什'" in reason
    summary = out.report["dimensions"]["noise"]["figures"]["answer_ending"]
    assert summary["read_for_a_cut_word_only"] == 2 and summary["word_cut_above"] == 4.0
    # a stop bar that flags every answer it judges leaves the whole enumeration alone: it is not asked that
    out = _audit(trained_zh_lm, rows, stop_below=100.0, end_below=100.0, **params)
    flagged = [rec["index"] for rec in out.samples if any(f["code"] == "unfinished_answer" for f in rec["flags"])]
    assert flagged == [0, 1, 2, 4]
    # above the measured bar, no word is cut
    out = _audit(trained_zh_lm, rows, stop_below=-100.0, end_below=-100.0, word_cut_above=1000.0, **params)
    assert not any(rec["flags"] for rec in out.samples)


def test_next_token_logprob_reads_the_last_token_and_the_longer_tokens_it_begins(trained_zh_lm: Path) -> None:
    """The two extra columns equal the log-softmax at the position before the last token, in any batch."""
    from scorers._lm import load_causal_lm, next_token_logprob
    from scorers.noise_ending import TokenExtensions

    tok, model = load_causal_lm(str(trained_zh_lm), "cpu")
    ext = TokenExtensions(tok)
    shi, shime, xi = (tok.convert_tokens_to_ids(w) for w in ("什", "什么", "西"))
    assert (
        shime in ext(shi) and shi not in ext(shi) and ext(shime) == [] and tok.convert_tokens_to_ids("西瓜") in ext(xi)
    )
    seqs = [
        tok("这些 数据 用于 什", add_special_tokens=True)["input_ids"],
        tok("这些 数据", add_special_tokens=True)["input_ids"],
    ]
    got = next_token_logprob(model, seqs, [[tok.eos_token_id]], 0, 16, extensions=ext)
    assert got.shape == (2, 3)
    for k, seq in enumerate(seqs):
        with torch.inference_mode():
            logp = torch.log_softmax(model(input_ids=torch.tensor([seq])).logits[0].float(), -1)
        assert got[k, 0] == pytest.approx(float(logp[-1, tok.eos_token_id]), abs=1e-4)
        assert got[k, 1] == pytest.approx(float(logp[-2, seq[-1]]), abs=1e-4)
        longer = ext(seq[-1])
        if longer:
            assert got[k, 2] == pytest.approx(float(torch.logsumexp(logp[-2, longer], 0)), abs=1e-4)
        else:
            assert np.isnan(got[k, 2])
    one = np.vstack([next_token_logprob(model, [s], [[tok.eos_token_id]], 0, 1, extensions=ext) for s in seqs])
    np.testing.assert_allclose(one, got, atol=1e-4)
