from scorers import run_audit, sample
from scorers.text.language import detect_language
from scorers.text.script import normalise_for_match


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
