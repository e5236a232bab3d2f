"""The Ray backend on a real local Ray cluster: the same report bytes as the local backend, progress, cancel.

The encoder is a tiny sentence-transformers model built here (random BERT, a tokenizer trained in code), so the
embedding stage runs for real on Ray actors in seconds. Skipped with a reason where Ray is not installed
(``pip install 'sftaudit[ray]'``; ``make setup`` installs it)."""

from __future__ import annotations

from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'sftaudit[ray]'")

from scorers import ModelConfig, Sample, sample  # noqa: E402
from scorers._ray_backend import RayBackend  # noqa: E402
from scorers.pipeline import run_audit  # noqa: E402

#: one cluster for the module: under xdist every test of it goes to the same worker (`make test` runs
#: ``--dist loadgroup``), so the 2 cores never host two clusters at once
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray_cluster")]

#: scorers that cover every stage: the embedding stage (full and aligned tier), the per-sample chunks, and the
#: dataset-wide steps on the driver over what came back (MinHash, neighbours, clusters)
SCORERS = [
    "semantic_duplicate",
    "mismatched_answer",
    "answer_relevance",
    "near_duplicate",
    "exact_duplicate",
    "instruction_clusters",
    "language",
    "wrong_language",
    "junk_answer",
    "text_damage",
    "unseen_content",
    "text_length",
    "answer_clarity",
    "answer_accuracy",
    "answer_completeness",
    "broken_answer",
]


@pytest.fixture(scope="module")
def encoder(tmp_path_factory) -> Path:
    """A tiny sentence-transformers encoder: a 2-layer BERT of width 32 over the toy tokenizer, mean pooled."""
    import torch
    from sentence_transformers import SentenceTransformer

    try:
        from sentence_transformers.sentence_transformer import modules as models
    except ImportError:  # older sentence-transformers
        from sentence_transformers import models  # type: ignore[no-redef]
    from transformers import BertConfig, BertModel

    from app.training.toy import build_toy_tokenizer

    root = tmp_path_factory.mktemp("encoder")
    tok = build_toy_tokenizer(chat_template=False)
    cfg = BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    BertModel(cfg).save_pretrained(root / "hf")
    tok.save_pretrained(root / "hf")
    modules = [models.Transformer(str(root / "hf"), max_seq_length=128), models.Pooling(32, "mean"), models.Normalize()]
    SentenceTransformer(modules=modules, device="cpu").save(str(root / "tiny-encoder"))
    return root / "tiny-encoder"


@pytest.fixture(scope="module")
def cluster():
    """A real two-node Ray cluster on this machine (``ray start --head``, then ``ray start --address``; one CPU
    each), joined as a driver with the test's own ``scorers`` shipped to its workers."""
    from bench._ray_cluster import TwoNodeCluster

    with TwoNodeCluster(cpus=1) as nodes:
        RayBackend(nodes.address).connect()
        assert len([n for n in ray.nodes() if n["Alive"]]) == 2
        yield nodes
        ray.shutdown()


def rows(n: int = 90) -> list[Sample]:
    """Varied rows, with duplicates and near duplicates far apart (in different chunks)."""
    topics = ["rivers", "the moon", "python lists", "bread", "chess", "volcanoes", "tea", "bicycles", "jazz"]
    out = []
    for i in range(n):
        t = topics[i % len(topics)]
        if i % 11 == 5:
            q, a = "What is the capital of France?", "Paris."
        elif i % 13 == 7:
            q, a = f"写一个关于{t}的句子。", f"这是一个关于{t}的句子。"
        elif i % 17 == 3:
            q, a = f"Describe {t} in one line.", "As an AI language model, I cannot help with that."
        else:
            q = f"Explain {t} to a student, example {i % 23}."
            a = f"{t.capitalize()} are interesting. Here is fact {i % 19} about {t}, explained simply."
        out.append(sample(i, q, a))
    return out


def _audit(samples: list[Sample], models: ModelConfig, backend=None, **kw):
    from scorers import embeddings

    embeddings._EMBEDDERS.clear()  # nothing cached between runs: each encodes every block itself
    embeddings.get_embedder(models, "full").progress_chunk = 48  # blocks of 48 texts: several blocks, two actors
    return run_audit(samples, SCORERS, models=models, seed=3, backend=backend, **kw)


def _same_bytes(a, b) -> None:
    assert a.report_json() == b.report_json()
    assert list(a.samples_jsonl()) == list(b.samples_jsonl())


@pytest.mark.parametrize("full_tier_max_samples", [10_000, 40], ids=["full_tier", "aligned_tier"])
def test_the_ray_backend_gives_the_local_report_bytes(cluster, encoder, full_tier_max_samples) -> None:
    """Several chunks of per-sample scorers and several embedding blocks, on two actors: the same bytes."""
    models = ModelConfig(
        embedding_model=str(encoder), embedding_languages="*", full_tier_max_samples=full_tier_max_samples
    )
    samples = rows()
    local = _audit(samples, models)
    heard: list[tuple[float, str]] = []
    backend = RayBackend(chunk_rows=16, actors=2)
    distributed = _audit(samples, models, backend, progress=lambda f, s: heard.append((f, s)))
    _same_bytes(local, distributed)
    status = {r["name"]: r["status"] for r in local.report["scorers"]}
    assert status == dict.fromkeys(SCORERS, "ok")  # the encoder was used, every scorer computed
    steps = [s for _, s in heard]
    assert any("chunks scored" in s for s in steps)
    if full_tier_max_samples > len(samples):
        assert any("blocks of texts embedded" in s for s in steps)
    fractions = [f for f, _ in heard]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_a_cancelled_audit_stops_inside_the_ray_stage_and_the_cluster_runs_the_next(cluster, encoder) -> None:
    class Cancelled(Exception):
        pass

    def cancel_in_stage(fraction: float, step: str) -> None:
        if "chunks scored" in step or "blocks of texts embedded" in step:
            raise Cancelled(step)

    models = ModelConfig(embedding_model=str(encoder), embedding_languages="*")
    samples = rows(60)
    with pytest.raises(Cancelled):
        _audit(samples, models, RayBackend(chunk_rows=8), progress=cancel_in_stage)
    small = ["language", "text_length", "exact_duplicate"]  # the cluster takes the next audit at once
    again = run_audit(samples, small, models=models, backend=RayBackend(chunk_rows=8))
    assert again.report_json() == run_audit(samples, small, models=models).report_json()


# --- through the worker: SFTAUDIT_EXECUTOR=ray, progress and cancel as for any job ------------------------
def _audit_rows(n: int) -> list[dict[str, str]]:
    return [{"instruction": s.instruction, "input": "", "output": s.answer} for s in rows(n)]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_audit_job_on_ray_stores_the_local_report_and_writes_progress_from_the_ray_stages(
    cluster, encoder, client, settings, monkeypatch
) -> None:
    from app.db import queue
    from app.jobs.worker import Worker
    from scorers import embeddings
    from tests.test_api_audits import make_dataset

    settings.models.embedding_model, settings.models.embedding_languages = str(encoder), "*"
    settings.worker.progress_interval_seconds = 0.01
    settings.ray.chunk_rows = 8
    written: list[str] = []
    real = queue.report_progress

    def spy(session, c, fraction, step, result=None, eta_seconds=None):
        written.append(step)
        return real(session, c, fraction, step, result, eta_seconds=eta_seconds)

    monkeypatch.setattr(queue, "report_progress", spy)
    ds = make_dataset(client, _audit_rows(60))
    reports = {}
    for executor in ("ray", "local"):  # Ray first: it encodes every block (the local run reads its cached vectors)
        embeddings._EMBEDDERS.clear()
        settings.executor = executor
        audit = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": SCORERS, "seed": 3}).json()
        assert Worker(settings).run_once() == audit["job"]["id"]
        assert client.get(f"/v1/audits/{audit['id']}").json()["status"] == "succeeded"
        reports[executor] = client.get(f"/v1/audits/{audit['id']}/report.json").content
        if executor == "ray":
            assert any("blocks of texts embedded" in s for s in written), written
            assert any("chunks scored" in s for s in written), written
    assert reports["ray"] == reports["local"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cancelling_an_audit_job_on_ray_cancels_it(cluster, encoder, client, settings, monkeypatch) -> None:
    from app.db import queue
    from app.db.models import Job
    from app.db.session import session_scope
    from app.jobs.worker import Worker
    from tests.test_api_audits import make_dataset

    settings.models.embedding_model, settings.models.embedding_languages = str(encoder), "*"
    settings.executor, settings.ray.chunk_rows = "ray", 4
    ds = make_dataset(client, _audit_rows(90))
    audit = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": SCORERS}).json()
    real = queue.report_progress

    def cancel_in_the_ray_stage(session, c, fraction, step, result=None, eta_seconds=None):
        if "embedding texts" in step or "chunks" in step:
            with session_scope(settings.db_url) as s:
                queue.request_cancel(s, s.get(Job, c.id))
        return real(session, c, fraction, step, result, eta_seconds=eta_seconds)

    monkeypatch.setattr(queue, "report_progress", cancel_in_the_ray_stage)
    assert Worker(settings).run_once() == audit["job"]["id"]
    done = client.get(f"/v1/audits/{audit['id']}").json()
    assert done["job"]["status"] == "cancelled" and done["job"]["progress"] < 1.0, done["job"]
