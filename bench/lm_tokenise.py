"""Tokenising the two LM passes (perplexity / IFD): row by row (``build_pair``) against two batched calls
(``build_pairs``), on the same rows and tokenizer, with and without a chat template; the pairs must be identical.

    python bench/lm_tokenise.py [--rows 20000]

The tokenizer is a byte-level BPE of 32,000 tokens trained here on the rows (no download); rows are a seeded
sample of Alpaca (shared data).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._data import load  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20000)
    args = ap.parse_args()
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from app.training.toy import CHATML
    from scorers.quality_models import build_pair, build_pairs

    everything = load("stanford_alpaca/alpaca_data.json")
    samples = random.Random(0).sample(everything, min(args.rows, len(everything)))
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(
        [s.text for s in samples],
        trainers.BpeTrainer(
            vocab_size=32000,
            special_tokens=["<pad>", "<s>", "</s>", "<unk>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    print(f"{len(samples)} Alpaca rows (seed 0); BPE of {bpe.get_vocab_size()} tokens")
    for name in ("plain prompt", "chat template"):
        tok = PreTrainedTokenizerFast(
            tokenizer_object=bpe, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
        )
        if name == "chat template":
            tok.chat_template = CHATML
        t = time.perf_counter()
        one = [build_pair(tok, s, 1024, 512) for s in samples]
        t_one = time.perf_counter() - t
        t = time.perf_counter()
        many = build_pairs(tok, samples, 1024, 512)
        t_many = time.perf_counter() - t
        print(
            f"{name:<14} row by row {t_one:6.2f} s ({len(samples) / t_one:6.0f} rows/s)   batched {t_many:6.2f} s "
            f"({len(samples) / t_many:6.0f} rows/s)   x {t_one / t_many:4.2f}   identical: {one == many}"
        )


if __name__ == "__main__":
    main()
