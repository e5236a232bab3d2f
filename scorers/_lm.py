"""Local transformers models for the model signals (perplexity/IFD, reward, the local judge).

* **Any local directory, or a clear reason.**  A directory is checked before and while loading: no
  tokenizer, no weights, a model of the wrong kind (an encoder or seq2seq model given as the language
  model, a causal LM given as the reward model) — each becomes :class:`NotComputed` with a sentence
  that says what is wrong, never a crash and never a randomly initialised head scoring the data.
* **Batches.**  Rows are sorted by token length and cut into batches of at most ``max_rows`` rows and
  ``max_tokens`` padded tokens (dynamic padding: each batch pads to its own longest row).
* **A GPU when there is one.**  ``device=None`` picks CUDA when visible; weights load in bfloat16 there.
* **Logits only where needed.**  :func:`answer_losses` runs the model body, keeps the hidden states of
  the positions that predict answer tokens, and applies the vocabulary-wide output layer to those only.

torch and transformers are imported lazily (the API process imports the scorer modules for the registry).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scorers.base import NotComputed

_MODELS: dict[tuple, Any] = {}
_ANSWER_HEAD: dict[int, bool] = {}
_LOCK = threading.Lock()
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer.model",
    "vocab.json",
    "vocab.txt",
    "spiece.model",
    "sentencepiece.bpe.model",
)


def import_ml() -> None:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as e:  # pragma: no cover - depends on the install
        raise NotComputed("torch and transformers are not installed: pip install 'sftaudit[ml]'") from e


def device_for(requested: str | None) -> str:
    import torch

    if requested:
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


def _dtype(device: str):
    """bfloat16 on a GPU that has it; float32 elsewhere (a bf16 checkpoint on CPU is slower and coarser)."""
    import torch

    if device.startswith("cuda") and torch.cuda.is_available() and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def split_gguf(path: str, gguf_file: str | None) -> tuple[str, str | None]:
    """A path to a ``.gguf`` file is its directory plus the file name."""
    p = Path(path)
    if gguf_file is None and p.suffix == ".gguf" and p.is_file():
        return str(p.parent), p.name
    return path, gguf_file


def check_directory(path: str, label: str, gguf_file: str | None = None) -> None:
    """What the file system alone can tell: a directory with a config and a tokenizer."""
    p = Path(path)
    if not p.is_dir():
        raise NotComputed(
            f"the {label} path {path} is not a directory (give the model's directory, as saved by save_pretrained)"
        )
    if gguf_file:
        if not (p / gguf_file).is_file():
            raise NotComputed(f"the {label} directory {path} has no file {gguf_file}")
        return
    if not (p / "config.json").is_file():
        raise NotComputed(f"the {label} directory {path} has no config.json: it is not a transformers model directory")
    if not any((p / f).is_file() for f in TOKENIZER_FILES):
        raise NotComputed(
            f"the {label} directory {path} has no tokenizer ({', '.join(TOKENIZER_FILES[:3])}, …): "
            "save the tokenizer beside the weights (tokenizer.save_pretrained)"
        )


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0][:300]}" if text else type(e).__name__


def _load(mapping, auto_cls, path: str, label: str, device: str, gguf_file: str | None, kind: str):
    """(tokenizer, model) or NotComputed; a model whose checkpoint lacks weights of its head is refused."""
    from transformers import AutoConfig, AutoTokenizer

    kw: dict[str, Any] = {"local_files_only": True, **({"gguf_file": gguf_file} if gguf_file else {})}
    try:
        config = AutoConfig.from_pretrained(path, **kw)
    except (OSError, ValueError, KeyError) as e:
        raise NotComputed(f"could not read the {label} config in {path} ({_first_line(e)})") from None
    if type(config) not in mapping:
        archs = ", ".join(getattr(config, "architectures", None) or []) or config.model_type
        raise NotComputed(f"the {label} in {path} is a {config.model_type} model ({archs}), not {kind}")
    try:
        tok = AutoTokenizer.from_pretrained(path, **kw)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise NotComputed(f"could not load the {label} tokenizer from {path} ({_first_line(e)})") from None
    dtype = _dtype(device)
    try:
        model, info = auto_cls.from_pretrained(path, output_loading_info=True, dtype=dtype, **kw)
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        raise NotComputed(f"could not load the {label} weights from {path} ({_first_line(e)})") from None
    missing = sorted(info.get("missing_keys") or [])
    if missing:
        archs = ", ".join(getattr(config, "architectures", None) or []) or config.model_type
        raise NotComputed(
            f"the {label} checkpoint in {path} ({archs}) lacks {len(missing)} weight(s) of {kind} "
            f"(e.g. {missing[0]}); they would be random, so its scores would mean nothing"
        )
    if len(tok) > model.get_input_embeddings().num_embeddings:
        raise NotComputed(
            f"the {label} tokenizer in {path} has {len(tok)} tokens but the model embeds only "
            f"{model.get_input_embeddings().num_embeddings}: they do not belong together"
        )
    return tok, model.to(device).eval()


def load_causal_lm(path: str, device: str | None, gguf_file: str | None = None, label: str = "language model"):
    """(tokenizer, model) of a causal LM from a local directory (or .gguf file), loaded once per process."""
    import_ml()
    from transformers import MODEL_FOR_CAUSAL_LM_MAPPING, AutoModelForCausalLM

    path, gguf_file = split_gguf(path, gguf_file)
    check_directory(path, label, gguf_file)
    dev = device_for(device)
    key = ("lm", path, dev, gguf_file)
    with _LOCK:
        if key not in _MODELS:
            _MODELS[key] = _load(
                MODEL_FOR_CAUSAL_LM_MAPPING,
                AutoModelForCausalLM,
                path,
                label,
                dev,
                gguf_file,
                "a causal language model",
            )
        return _MODELS[key]


def load_reward_model(path: str, device: str | None):
    """(tokenizer, model) of a sequence-classification reward model, right-padding, loaded once per process."""
    import_ml()
    from transformers import MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING, AutoModelForSequenceClassification

    check_directory(path, "reward model")
    dev = device_for(device)
    key = ("rm", path, dev)
    with _LOCK:
        if key not in _MODELS:
            tok, model = _load(
                MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING,
                AutoModelForSequenceClassification,
                path,
                "reward model",
                dev,
                None,
                "a sequence-classification (reward) model",
            )
            if tok.pad_token_id is None:
                tok.pad_token = tok.eos_token or tok.unk_token
            if model.config.pad_token_id is None:
                model.config.pad_token_id = tok.pad_token_id
            tok.padding_side = "right"
            _MODELS[key] = (tok, model)
        return _MODELS[key]


# --- batches ---------------------------------------------------------------------------------------------
#: (rows, padded tokens) per forward pass when a scorer's params leave them unset: small on CPU (bigger batches are no
#: faster there and cost memory), larger on a GPU, where a batch of 16 rows leaves most of the chip idle
#: (bench/gpu_figures.py measures both on an H200; docs/benchmarks.md)
CPU_BATCHES = (16, 16384)
GPU_BATCHES = (512, 131072)


def default_batches(device: str) -> tuple[int, int]:
    return GPU_BATCHES if str(device).startswith("cuda") else CPU_BATCHES


def length_batches(lengths: Sequence[int], max_rows: int, max_tokens: int | None = None) -> list[list[int]]:
    """Row indices sorted by length, cut into batches of ≤ ``max_rows`` rows and ≤ ``max_tokens`` padded tokens
    (a row longer than ``max_tokens`` gets a batch of its own)."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:  # ascending lengths: the newest row is the widest
        if current and (len(current) >= max_rows or (max_tokens and lengths[i] * (len(current) + 1) > max_tokens)):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


# --- answer-token losses -----------------------------------------------------------------------------------
def answer_head_ok(model) -> bool:
    """Whether ``output layer(body(x))`` reproduces the model's own logits (checked once per model): then only the
    answer positions go through the output layer.  Models that post-process logits fail the check and fall back
    to ``logits_to_keep``."""
    import torch

    key = id(model)
    if key not in _ANSWER_HEAD:
        ok = False
        try:
            body, head = model.base_model, model.get_output_embeddings()
            if body is not model and head is not None:
                dev = next(model.parameters()).device
                ids = torch.arange(1, 1 + min(8, model.get_input_embeddings().num_embeddings - 1), device=dev)[None]
                with torch.inference_mode():
                    full = model(input_ids=ids, use_cache=False).logits.float()
                    mine = head(body(input_ids=ids, use_cache=False).last_hidden_state).float()
                ok = bool(torch.allclose(full, mine, rtol=1e-3, atol=1e-3 * float(full.abs().max()) + 1e-6))
        except (AttributeError, TypeError, ValueError, RuntimeError):
            ok = False
        _ANSWER_HEAD[key] = ok
    return _ANSWER_HEAD[key]


def _position_logits(model, ids, mask, rows, cols):
    """Logits at (row, position) pairs only (the fallback for models whose output layer cannot be split off)."""
    first = int(cols.min())
    try:
        logits = model(input_ids=ids, attention_mask=mask, use_cache=False, logits_to_keep=ids.shape[1] - first).logits
    except TypeError:  # a model without logits_to_keep: every position, then the ones needed
        logits = model(input_ids=ids, attention_mask=mask, use_cache=False).logits[:, first:]
    return logits[rows, cols - first]


#: answer positions per output-layer call: bounds the float32 logits to HEAD_CHUNK x vocabulary (2.5 GB at a
#: 150k vocabulary) whatever the batch size
HEAD_CHUNK = 4096


def _logits_at(model, ids, mask, rows, cols):
    """The float32 logits at (row, position) pairs, as ``(slice of the pairs, logits)`` parts: the model body once,
    then the output layer on those positions only, ``HEAD_CHUNK`` at a time (:func:`answer_head_ok`), else the
    model's own logits (:func:`_position_logits`) in one part."""
    if not answer_head_ok(model):
        yield slice(0, len(rows)), _position_logits(model, ids, mask, rows, cols).float()
        return
    hidden = model.base_model(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state[rows, cols]
    head = model.get_output_embeddings()
    for at in range(0, len(rows), HEAD_CHUNK):
        part = slice(at, at + HEAD_CHUNK)
        yield part, head(hidden[part]).float()


def _token_losses(model, ids, mask, rows, cols, targets):
    """Cross-entropy of the token each (row, position) predicts."""
    import torch
    from torch.nn.functional import cross_entropy

    out = torch.empty(len(rows), dtype=torch.float32, device=ids.device)
    for part, logits in _logits_at(model, ids, mask, rows, cols):
        out[part] = cross_entropy(logits, targets[part], reduction="none")
    return out


def answer_losses(
    model,
    seqs: Sequence[list[int]],
    answer_lens: Sequence[int],
    pad_id: int,
    batch_size: int,
    batch_tokens: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Mean cross-entropy over the last ``answer_len`` tokens of each sequence (length-sorted, right-padded batches).
    ``progress(done, total)`` hears the rows scored after each batch. A batch the GPU has no memory for is split in
    two and retried (down to one row), so the GPU defaults are safe on a smaller card."""
    dev = next(model.parameters()).device
    return _in_batches(
        seqs,
        lambda idx: _batch_losses(model, [seqs[i] for i in idx], [answer_lens[i] for i in idx], pad_id, dev),
        batch_size,
        batch_tokens,
        progress,
    )


def next_token_logprob(
    model,
    seqs: Sequence[list[int]],
    token_sets: Sequence[Sequence[int]],
    pad_id: int,
    batch_size: int,
    batch_tokens: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    extensions: Callable[[int], Sequence[int]] | None = None,
) -> np.ndarray:
    """log p(the next token is one of ``token_sets[k]``) after each whole sequence, shape (sequences, sets): the
    output layer runs on each sequence's last position only (batched as :func:`answer_losses`).

    With ``extensions`` (a token id -> the ids of the longer tokens whose text starts with that token's text), two
    more columns, read at the position before the last token: log p(the last token itself) and log p(a token that
    extends its text) (NaN where none does).  A text cut inside a word ends on the word's first characters as a
    token of their own ("用于什" for "用于什么"), where the model expected the longer token."""
    import torch

    dev = next(model.parameters()).device
    wanted = [torch.tensor(sorted(set(ids)), dtype=torch.long, device=dev) for ids in token_sets]

    def batch(idx: list[int]) -> np.ndarray:
        part = [seqs[i] for i in idx]
        ids, mask = _padded(part, pad_id)
        last = [len(s) - 1 for s in part]
        if extensions is None:
            rows, cols = torch.arange(len(part)), torch.tensor(last)
        else:  # each row's last position, then the one before it
            rows = torch.arange(len(part)).repeat_interleave(2)
            cols = torch.tensor([c for n in last for c in (n, max(n - 1, 0))])
        width = len(wanted) + (0 if extensions is None else 2)
        out = torch.full((len(part), width), float("nan"), dtype=torch.float32, device=dev)
        with torch.inference_mode():
            ids, mask, rows, cols = ids.to(dev), mask.to(dev), rows.to(dev), cols.to(dev)
            for at, logits in _logits_at(model, ids, mask, rows, cols):
                logp = torch.log_softmax(logits, dim=-1)
                if extensions is None:
                    out[at] = torch.stack([torch.logsumexp(logp[:, w], dim=-1) for w in wanted], dim=1)
                    continue
                for j in range(at.start, min(at.stop, len(rows))):
                    r, row = j // 2, logp[j - at.start]
                    if j % 2 == 0:
                        out[r, : len(wanted)] = torch.stack([torch.logsumexp(row[w], dim=0) for w in wanted])
                    elif len(part[r]) > 1:
                        token = part[r][-1]
                        out[r, len(wanted)] = row[token]
                        ext = list(extensions(token))
                        if ext:
                            out[r, len(wanted) + 1] = torch.logsumexp(row[torch.tensor(ext, device=dev)], dim=0)
        return out.cpu().double().numpy()

    return _in_batches(seqs, batch, batch_size, batch_tokens, progress)


def _in_batches(
    seqs: Sequence[list[int]],
    run: Callable[[list[int]], np.ndarray],
    batch_size: int,
    batch_tokens: int | None,
    progress: Callable[[int, int], None] | None,
) -> np.ndarray:
    """``run(indices)`` over length-sorted batches, one value (or one row of values) a sequence; a batch the GPU has
    no memory for is split in two and retried (down to one row)."""
    import torch

    out: np.ndarray | None = None if seqs else np.full(0, np.nan)
    done = 0
    pending = length_batches([len(s) for s in seqs], batch_size, batch_tokens)[::-1]  # a stack: next batch last
    while pending:
        idx = pending.pop()
        try:
            values = run(idx)
            if out is None:
                out = np.full((len(seqs), *values.shape[1:]), np.nan)
            out[idx] = values
        except torch.OutOfMemoryError:
            if len(idx) == 1:
                raise
            torch.cuda.empty_cache()
            half = len(idx) // 2
            pending += [idx[half:], idx[:half]]
            continue
        done += len(idx)
        if progress is not None:
            progress(done, len(seqs))
    assert out is not None
    return out


def _padded(seqs: Sequence[list[int]], pad_id: int):
    """Right-padded ids and attention mask of a batch."""
    import torch

    width = max(map(len, seqs))
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for r, seq in enumerate(seqs):
        ids[r, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[r, : len(seq)] = 1
    return ids, mask


def _batch_losses(model, seqs: Sequence[list[int]], answer_lens: Sequence[int], pad_id: int, dev) -> np.ndarray:
    import torch

    ids, mask = _padded(seqs, pad_id)
    rows: list[int] = []
    cols: list[int] = []
    for r, (seq, a) in enumerate(zip(seqs, answer_lens, strict=True)):
        n = len(seq)
        rows += [r] * a
        cols += range(n - a - 1, n - 1)  # position t predicts token t + 1
    r_t, c_t = torch.tensor(rows), torch.tensor(cols)
    targets = ids[r_t, c_t + 1]
    with torch.inference_mode():
        loss = _token_losses(model, ids.to(dev), mask.to(dev), r_t.to(dev), c_t.to(dev), targets.to(dev)).cpu()
    sums = torch.zeros(len(seqs), dtype=torch.float64).index_add_(0, r_t, loss.double())
    return (sums / torch.tensor(answer_lens, dtype=torch.float64)).numpy()
