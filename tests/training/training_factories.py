"""Plain factories for training tests (imported by the test modules)."""

from __future__ import annotations

import random

from scorers.samples import Sample, Turn, sample

ANSWERS = ["red cat.", "blue dog.", "green tree.", "big river.", "small moon.", "happy sun."]


def memorisable(n: int = 12) -> list[Sample]:
    """Short Q → A rows, a few multi-turn, that a tiny model memorises in a few dozen steps."""
    rows = []
    for i in range(n):
        if i % 4 == 3:
            rows.append(
                Sample(
                    i,
                    (
                        Turn("user", f"number {i}"),
                        Turn("assistant", ANSWERS[i % 6]),
                        Turn("user", "why?"),
                        Turn("assistant", "thanks."),
                    ),
                    system="be good",
                )
            )
        else:
            rows.append(sample(i, f"what is number {i}?", ANSWERS[i % 6]))
    return rows


def plain_text(n: int = 8) -> list[Sample]:
    rng = random.Random(1)
    words = "the cat dog tree river city water fire sun moon star".split()
    return [
        Sample(i, (Turn("text", " ".join(rng.choice(words) for _ in range(rng.randint(5, 30)))),)) for i in range(n)
    ]


def generate_beside_base(model, base, tok, question: str = "what is number 1?"):
    """Generate from ``model`` on a chat prompt and return (prompt ids, last-token logits of model and of base).

    Asserts what every exported method must show: it generates, and it is not the base model."""
    import torch

    prompt = tok.apply_chat_template(
        [{"role": "user", "content": question}], tokenize=False, add_generation_prompt=True
    )
    ids = tok(prompt, add_special_tokens=False, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=6, do_sample=False, pad_token_id=tok.pad_token_id)
        adapted = model(**ids).logits[:, -1]
        plain = base(**ids).logits[:, -1]
    assert out.shape[1] > ids["input_ids"].shape[1]
    assert not torch.allclose(adapted, plain, atol=1e-4)  # the trained part changes the model
    return ids, adapted, plain
