"""Session-scoped tiny models for the training tests (built in code, nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def chat_model(tmp_path_factory) -> Path:
    """A 2-layer Llama (hidden 48) whose tokenizer has a ChatML template."""
    from app.training.toy import build_toy_model

    return build_toy_model(tmp_path_factory.mktemp("toy") / "chat", chat_template=True)


@pytest.fixture(scope="session")
def base_model(tmp_path_factory) -> Path:
    """The same shape without a chat template (the default format applies); pad == eos."""
    from app.training.toy import build_toy_model

    return build_toy_model(tmp_path_factory.mktemp("toy") / "base", chat_template=False, pad_is_eos=True)
