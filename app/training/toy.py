"""A tiny random-init Llama and a tokenizer trained in code: for tests, benchmarks and smoke checks.

Nothing is downloaded.  ``build_toy_model(path)`` writes a transformers model directory that every
training method accepts; with ``chat_template=True`` the tokenizer carries a ChatML template whose
``<|im_end|>`` closes each turn.
"""

from __future__ import annotations

from pathlib import Path

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIALS = ["<s>", "</s>", "<pad>", "<unk>", "<|im_start|>", "<|im_end|>"]

_WORDS = (
    "the a an of to in is was for on that with as by it at from this be are or have not but what which "
    "you your we they he she his her their our how why when where who can will would should could explain "
    "write list give describe summarize translate answer question number one two three four five six seven "
    "eight nine ten red green blue cat dog bird tree river city country water fire earth air sun moon star "
    "python code function return value data model train test learn good bad fast slow big small happy sad "
    "hello world thanks please yes no system user assistant tool 中 文 你 好 世 界 数 据"
).split()


def toy_corpus(n: int = 400) -> list[str]:
    import random

    rng = random.Random(0)
    return [
        " ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 24))) + rng.choice([".", "?", "!"]) for _ in range(n)
    ]


def build_toy_tokenizer(chat_template: bool = True, vocab_size: int = 400, pad_is_eos: bool = False):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(toy_corpus() + ["### System:\n### User:\n### Assistant:\n"], trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="</s>" if pad_is_eos else "<pad>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
    )
    if chat_template:
        fast.chat_template = CHATML
    return fast


def build_toy_model(
    path: str | Path,
    chat_template: bool = True,
    hidden: int = 48,
    layers: int = 2,
    pad_is_eos: bool = False,
    seed: int = 0,
    init_range: float = 0.2,
) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    path = Path(path)
    tok = build_toy_tokenizer(chat_template=chat_template, pad_is_eos=pad_is_eos)
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        tie_word_embeddings=False,
        initializer_range=init_range,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(cfg)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path
