from scorers import run_audit, sample
from scorers.text_stats import detect_language, normalise_for_match


def test_exact_duplicates_are_grouped_with_related_indices() -> None:
    rows = [sample(0, "What is 2+2?", "4"), sample(1, "what  is 2+2? ", "4"), sample(2, "What is 2+3?", "5"),
            sample(3, "WHAT IS 2+2?", "4")]
    out = run_audit(rows, scorers=["exact_duplicate"])
    assert out.samples[0]["flags"] == []
    assert [f["related"] for f in out.samples[1]["flags"]] == [[0, 3]]
    assert [f["related"] for f in out.samples[3]["flags"]] == [[0, 1]]
    assert out.samples[2]["flags"] == []
    fig = out.report["dimensions"]["noise"]["figures"]["exact_duplicate"]
    assert fig["groups"] == 1 and fig["redundant_samples"] == 2
    assert out.report["dimensions"]["noise"]["score"] == 0.5


def test_lengths_in_chars_and_tokens() -> None:
    out = run_audit([sample(0, "Hello world", "Hi there, friend.")], scorers=["text_length"])
    rec = out.samples[0]
    assert rec["instruction_chars"] == 11 and rec["answer_chars"] == 17
    assert rec["instruction_tokens"] == 2  # "hello", "world" in MiniLM's WordPiece vocabulary
    assert rec["answer_tokens"] >= 4


def test_language_english_chinese_and_undetermined() -> None:
    assert detect_language("Give three tips for staying healthy.") == "en"
    assert detect_language("保持健康的三个提示。") == "zh"
    assert detect_language("12345 + 678") == "und"
    out = run_audit([sample(0, "Bonjour, comment allez-vous aujourd'hui ?", "Bien.")], scorers=["language"])
    assert out.samples[0]["language"] == "fr"
    assert out.report["dataset"]["languages"] == {"fr": 1}


def test_normalise_for_match() -> None:
    assert normalise_for_match("  Ｈｅｌｌｏ\n\tWORLD ") == "hello world"
