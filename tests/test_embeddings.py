from __future__ import annotations

import numpy as np
import pytest

from scorers import ModelConfig, NotComputed, sample
from scorers import _vectors as V
from scorers.context import ScoringContext
from scorers.embeddings import get_embedder, language_warning, model_languages

TEXTS = [
    "What is the capital of France?",
    "Which city is the capital of France?",
    "Write a poem about the sea.",
    "法国的首都是哪里？",
]


@pytest.mark.slow
def test_fast_tier_is_a_normalised_static_model_of_the_default_encoder() -> None:
    ctx = ScoringContext([sample(i, t, "") for i, t in enumerate(TEXTS)])
    x = ctx.embeddings("instruction", tier="fast")
    assert x.shape[0] == 4 and x.dtype == np.float32
    assert np.allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    assert x[0] @ x[1] > x[0] @ x[2]  # paraphrase closer than an unrelated ask
    info = ctx.embedder("fast").describe()
    assert info["tier"] == "fast" and info["backend"] == "model2vec"
    assert "all-MiniLM-L6-v2" in info["model"] and info["languages"] == "en"


@pytest.mark.slow
def test_full_tier_minilm_with_cache_reuse() -> None:
    emb = get_embedder(ModelConfig(), tier="full")
    before = dict(emb.stats)
    a = emb.encode(TEXTS[:3])
    b = emb.encode(list(reversed(TEXTS[:3])))
    assert a.shape == (3, 384)
    assert np.allclose(a[::-1], b, atol=1e-6)  # same vectors whatever the order (length-sorted batches)
    assert emb.stats["cached"] - before["cached"] >= 3  # second call served from the cache
    assert a[0] @ a[1] > 0.8 > a[0] @ a[2]
    assert emb.describe() == {
        "model": "all-MiniLM-L6-v2",
        "tier": "full",
        "backend": "sentence-transformers",
        "languages": "en",
        "precision": emb.precision,
    }


@pytest.mark.slow
def test_bfloat16_encoder_gives_the_float32_vectors_to_the_last_bits_and_caches_them_apart(tmp_path) -> None:
    cache = str(tmp_path)
    f32 = get_embedder(ModelConfig(embedding_precision="float32"), tier="full", cache_dir=cache)
    bf16 = get_embedder(ModelConfig(embedding_precision="bfloat16"), tier="full", cache_dir=cache)
    assert (f32.precision, bf16.precision) == ("float32", "bfloat16")
    assert f32.model_id != bf16.model_id  # a float32 audit never reads a bf16 vector from the shared cache
    a, b = f32.encode(TEXTS), bf16.encode(TEXTS)
    assert b.dtype == np.float32 and np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-6)
    # measured: at most 6e-5 off on 2,000 texts of the mixed file (bench/encoder_precision.py)
    assert (a * b).sum(axis=1).min() > 0.999
    assert not np.array_equal(a, b)  # the pass did run in bfloat16
    assert bf16.describe()["precision"] == "bfloat16"


def test_auto_precision_is_bfloat16_only_where_the_hardware_computes_it(monkeypatch) -> None:
    from scorers import embeddings

    monkeypatch.setattr(embeddings, "native_bf16", lambda device: device == "cuda")
    assert embeddings.encoder_precision("auto", "cuda") == "bfloat16"
    assert embeddings.encoder_precision("auto", "cpu") == "float32"
    assert embeddings.encoder_precision("float32", "cuda") == "float32"
    assert embeddings.encoder_precision("bfloat16", "cpu") == "bfloat16"
    with pytest.raises(ValueError, match="precision"):
        embeddings.encoder_precision("int8", "cpu")
    with pytest.raises(ValueError):  # the settings refuse it before any encoder is built
        ModelConfig(embedding_precision="int8")  # type: ignore[arg-type]


def test_disk_cache_survives_a_new_embedder(tmp_path) -> None:
    from scorers.embeddings import VectorCache, text_key

    cache = VectorCache(tmp_path / "e.sqlite")
    k = text_key("m", "hello")
    cache.put_many({k: np.ones(3, dtype=np.float32)})
    again = VectorCache(tmp_path / "e.sqlite").get_many([k, text_key("m", "other")])
    assert list(again) == [k] and again[k].tolist() == [1.0, 1.0, 1.0]


def test_unknown_tier_and_missing_fast_model_are_explained(tmp_path) -> None:
    with pytest.raises(ValueError, match="tier"):
        get_embedder(ModelConfig(), tier="turbo")
    with pytest.raises(NotComputed, match="does not exist"):
        get_embedder(ModelConfig(fast_embedding_model=str(tmp_path / "nope")), tier="fast")


def test_language_warning_names_the_problem() -> None:
    class Emb:
        source_name = "all-MiniLM-L6-v2"

    assert model_languages("paraphrase-multilingual-MiniLM-L12-v2") == "multilingual"
    assert model_languages("all-MiniLM-L6-v2") == "en"
    warning = language_warning(["zh"] * 8 + ["en"] * 2, Emb())
    assert warning and "80%" in warning and "zh" in warning and "multilingual" in warning
    assert language_warning(["en"] * 99 + ["zh"], Emb()) is None
    # languages tied on count are named in the order they first appear, not in the order of a set (which follows
    # the process's hash seed, so the same audit wrote different report bytes from run to run)
    tied = ["fr", "de", "fr", "de", "zh", "ja", "ja", "en"]
    assert "(fr, de, ja)" in (language_warning(tied, Emb()) or "")
    Emb.source_name = "bge-m3"
    assert language_warning(["zh"] * 10, Emb()) is None


def test_inverted_file_search_agrees_with_exact_search(monkeypatch) -> None:
    from tests._embed_fakes import blobs

    x = blobs(20, 30, dim=24, spread=0.2).astype(np.float32)
    exact_idx, exact_sim = V.knn(x, 5)
    monkeypatch.setattr(V, "EXACT_MAX", 100)
    ivf_idx, ivf_sim = V.knn(x, 5)
    assert ivf_idx.shape == exact_idx.shape == (600, 5)
    assert (ivf_idx != np.arange(600)[:, None]).all()  # never itself
    recall = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(exact_idx, ivf_idx)])
    assert recall >= 0.9
    assert np.all(np.diff(ivf_sim, axis=1) <= 1e-6)  # sorted best first


def test_listing_the_registry_imports_no_model_libraries() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from scorers import registry; registry(); "
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'model2vec', 'jieba') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=__import__("pathlib").Path(__file__).resolve().parents[1],
    )
    assert out.stdout.strip() == "[]"


def test_blocks_are_the_blocks_encode_encodes_and_remembered_vectors_are_served_from_the_cache() -> None:
    """What lets another process (a Ray actor) encode for this one and give the same bits: ``blocks`` names the
    very batches ``encode`` would give the model, and ``remember`` fills the caches with their vectors."""
    import numpy as np

    from scorers.embeddings import BaseEmbedder

    class BlockSensitive(BaseEmbedder):
        """Like a real encoder, a text's vector depends on the batch it is encoded in (here: the batch's size)."""

        backend = "test"
        progress_chunk = 3

        def __init__(self):
            self._memory, self._disk, self.stats, self.model_id = {}, None, {"encoded": 0, "cached": 0}, "m"
            self.batches: list[list[str]] = []

        @property
        def dimension(self) -> int:
            return 2

        def _encode_uncached(self, texts):
            self.batches.append(list(texts))
            return np.array([[len(t), len(texts)] for t in texts], dtype=np.float32)

    texts = ["ccc", "a", "bbbb", "a", "dd", "eeeeeee", "ffffff", "gg", "h"]
    here, there, actor = BlockSensitive(), BlockSensitive(), BlockSensitive()
    for e in (here, there):
        e.encode(["dd"], progress=lambda *a: None)  # one text cached already: nobody encodes it again
    blocks = there.blocks(texts)
    assert blocks == [["a", "h", "gg"], ["ccc", "bbbb", "ffffff"], ["eeeeeee"]]  # distinct, by length, 3 a block
    vectors = here.encode(texts, progress=lambda *a: None)
    assert here.batches[1:] == blocks  # the batches encode() gave the model
    for block in blocks:  # encoded elsewhere, block by block, and remembered here
        there.remember(block, actor.encode_block(block))
    assert there.blocks(texts) == [] and there.pending(texts) == []
    assert np.array_equal(there.encode(texts), vectors)
    assert there.batches == [["dd"]]  # nothing more was encoded here


def test_row_norms_are_numpys_norms_bit_for_bit_across_blocks() -> None:
    """Row norms a block at a time (no squared copy of the whole matrix) give np.linalg.norm's exact bits, so unit
    vectors and the aligned tier do not move; float32 stays float32."""
    import numpy as np

    from scorers import embeddings as emb

    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((emb._NORM_BLOCK * 2 + 17, 24)).astype(dtype)
        x[5] = 0.0
        got = emb.row_norms(x)
        assert got.dtype == dtype and got.shape == (len(x), 1)
        assert np.array_equal(got, np.linalg.norm(x, axis=1, keepdims=True))
        assert np.array_equal(emb.unit_rows(x), x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12))
    assert emb.row_norms(np.zeros((0, 4), np.float32)).shape == (0, 1)
