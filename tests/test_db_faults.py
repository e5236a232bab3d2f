"""Issue #14, items 3, 12, 13: the database down, silent or locked is a 503 with Retry-After (never a 500
and never a 2-minute hang); uploads are ingested in batches without holding the write lock; deleting
a dataset is a background job."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.api.main import create_app
from app.db.models import Audit, AuditSample, Dataset, SampleRow
from app.db.session import session_scope
from app.jobs.worker import Worker
from app.settings import Settings

GOOD = {"instruction": "Say hi", "input": "", "output": "Hi"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BlackHole:
    """A TCP server that accepts connections and never says a word (a hung database)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        self.sock.close()
        for c in self.conns:
            c.close()


def _client(url: str, tmp_path, **database) -> TestClient:
    settings = Settings(
        database_url=url, storage={"data_dir": tmp_path / "data"}, database={"connect_timeout_seconds": 2, **database}
    )
    return TestClient(create_app(settings, migrate=False))


def test_database_down_is_503_with_retry_after(tmp_path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/nothing"
    with _client(url, tmp_path) as c:
        for method, path in (("get", "/v1/datasets"), ("get", f"/v1/datasets/{'0' * 32}"), ("get", "/v1/scorers")):
            r = getattr(c, method)(path, headers={"Authorization": "Bearer sfta_x"})
            assert r.status_code == 503, (path, r.status_code, r.text)
            assert r.headers["Retry-After"] == "5" and r.json()["error"]["code"] == "database_unavailable"
        r = c.post(
            "/v1/datasets",
            files={"file": ("d.jsonl", json.dumps(GOOD).encode())},
            headers={"Authorization": "Bearer sfta_x"},
        )
        assert r.status_code == 503, r.text
        health = c.get("/health")
        assert health.status_code == 503 and health.json()["database"]["ok"] is False
    assert not list((tmp_path / "data" / "uploads").glob("*")) if (tmp_path / "data" / "uploads").exists() else True


def test_a_database_that_never_answers_fails_within_the_connect_timeout(tmp_path) -> None:
    hole = BlackHole()
    try:
        with _client(f"postgresql+psycopg://postgres@127.0.0.1:{hole.port}/x", tmp_path) as c:
            t0 = time.monotonic()
            r = c.get("/v1/datasets", headers={"Authorization": "Bearer sfta_x"})
            took = time.monotonic() - t0
        assert r.status_code == 503, r.text
        assert took < 15, f"took {took:.1f} s (connect timeout 2 s)"
    finally:
        hole.close()


@pytest.fixture
def sqlite_settings(tmp_path) -> Settings:
    from app.db.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'locks.db'}"
    upgrade(url)
    return Settings(
        database_url=url,
        storage={"data_dir": tmp_path / "data"},
        database={"sqlite_busy_timeout_seconds": 0.3},
        upload={"insert_batch": 50},
        worker={"lease_seconds": 5, "heartbeat_seconds": 0.5, "poll_seconds": 0.1},
    )


def _key(settings: Settings) -> str:
    from app.services.auth import create_key

    with session_scope(settings.db_url) as s:
        return create_key(s, "default")[0]


def test_sqlite_lock_held_elsewhere_is_503_not_500(sqlite_settings) -> None:
    key = _key(sqlite_settings)
    with TestClient(create_app(sqlite_settings, migrate=False)) as c:
        c.headers["Authorization"] = f"Bearer {key}"
        holder = sqlite3.connect(sqlite_settings.db_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a long write
        try:
            r = c.post("/v1/datasets", files={"file": ("d.jsonl", json.dumps(GOOD).encode())})
            assert r.status_code == 503, r.text
            assert r.headers["Retry-After"] and r.json()["error"]["code"] == "database_unavailable"
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert c.post("/v1/datasets", files={"file": ("d.jsonl", json.dumps(GOOD).encode())}).status_code == 201
        assert not list(sqlite_settings.storage.uploads.glob("*.upload"))[1:], "the refused upload's file is gone"


def test_an_upload_does_not_hold_the_write_lock_and_is_invisible_until_whole(sqlite_settings, monkeypatch) -> None:
    """Other writers get through between the ingest's batches; nobody sees a half-stored dataset."""
    import app.services.datasets as datasets

    key = _key(sqlite_settings)
    paused, resume = threading.Event(), threading.Event()
    real = datasets.normalise_records

    def slow(*args, **kwargs):
        for n, row in enumerate(real(*args, **kwargs)):
            if n == 175:  # three batches of 50 are in the database by now
                paused.set()
                resume.wait(30)
            yield row

    monkeypatch.setattr(datasets, "normalise_records", slow)
    rows = [{"instruction": f"question {i}", "output": f"answer {i}"} for i in range(400)]
    result = {}
    with TestClient(create_app(sqlite_settings, migrate=False)) as c:
        c.headers["Authorization"] = f"Bearer {key}"

        def upload() -> None:
            result["r"] = c.post("/v1/datasets", files={"file": ("d.jsonl", "\n".join(map(json.dumps, rows)).encode())})

        t = threading.Thread(target=upload)
        t.start()
        assert paused.wait(60), "the ingest reached its pause"
        try:
            other = _key(sqlite_settings)  # a write while the upload is half-way: no 'database is locked'
            assert c.get("/v1/datasets", headers={"Authorization": f"Bearer {other}"}).status_code == 200
            assert c.get("/v1/datasets").json()["total"] == 0, "a dataset being ingested is not visible"
            with session_scope(sqlite_settings.db_url) as s:
                staged = s.scalar(select(func.count()).select_from(SampleRow))
            assert staged >= 150, "earlier batches were committed on their own"
        finally:
            resume.set()
            t.join(60)
        assert result["r"].status_code == 201, result["r"].text
        assert c.get("/v1/datasets").json()["total"] == 1 and result["r"].json()["rows"] == 400


def test_a_failed_ingest_leaves_nothing_behind(client, settings) -> None:
    settings.upload.insert_batch = 10
    body = "\n".join([json.dumps(GOOD)] * 95 + ['{"instruction": "no answer"}']).encode()
    r = client.post("/v1/datasets", files={"file": ("d.jsonl", body)})
    assert r.status_code == 422, r.text
    with session_scope(settings.db_url) as s:
        assert s.scalar(select(func.count()).select_from(SampleRow)) == 0
        assert s.scalar(select(func.count()).select_from(Dataset)) == 0


def test_delete_hides_at_once_and_purges_in_a_job(client, settings) -> None:
    settings.upload.insert_batch = 40
    rows = [{"instruction": f"question {i}", "output": f"answer {i}"} for i in range(130)]
    ds = client.post(
        "/v1/datasets",
        files={"file": ("d.jsonl", "\n".join(map(json.dumps, rows)).encode())},
        headers={"Idempotency-Key": "k1"},
    ).json()
    audit = client.post(f"/v1/datasets/{ds['id']}/audits", json={"scorers": ["exact_duplicate"]}).json()
    assert Worker(settings).run_once() == audit["job"]["id"]
    file_count = len(list(settings.storage.uploads.glob("*")))
    r = client.delete(f"/v1/datasets/{ds['id']}")
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["kind"] == "dataset_purge" and job["status"] == "queued" and job["queue_position"] == 1
    assert client.get(f"/v1/datasets/{ds['id']}").status_code == 404
    assert client.get(f"/v1/audits/{audit['id']}").status_code == 404
    assert client.get("/v1/datasets").json()["total"] == 0
    assert client.delete(f"/v1/datasets/{ds['id']}").status_code == 404
    again = client.post(
        "/v1/datasets", files={"file": ("d.jsonl", json.dumps(GOOD).encode())}, headers={"Idempotency-Key": "k1"}
    )
    assert again.status_code == 201, "a deleted dataset releases its Idempotency-Key"
    with session_scope(settings.db_url) as s:
        assert s.scalar(select(func.count()).select_from(SampleRow).where(SampleRow.dataset_id == ds["id"])) == 130
    assert Worker(settings, kinds=["dataset_purge"]).run_once() == job["id"]
    done = client.get(f"/v1/jobs/{job['id']}").json()
    assert done["status"] == "succeeded" and done["result"] == {"samples": 130, "audits": 1}, done
    with session_scope(settings.db_url) as s:
        assert s.scalar(select(func.count()).select_from(SampleRow).where(SampleRow.dataset_id == ds["id"])) == 0
        assert s.scalar(select(func.count()).select_from(AuditSample)) == 0
        assert s.scalar(select(func.count()).select_from(Audit)) == 0
        assert s.get(Dataset, ds["id"]) is None
    assert len(list(settings.storage.uploads.glob("*"))) == file_count, "the deleted upload's file is removed"


def test_an_abandoned_staging_dataset_is_purged_by_a_worker(client, settings) -> None:
    """An API process that died mid-ingest leaves a staging dataset: invisible, and purged once stale."""
    from datetime import timedelta

    from app.db.models import Project, utcnow
    from app.services.datasets import insert_batches

    with session_scope(settings.db_url) as s:
        pid = s.scalar(select(Project.id))
        ds = Dataset(
            project_id=pid,
            name="half",
            format="",
            sha256="0" * 64,
            status="staging",
            idempotency_key="k",
            created_at=utcnow() - timedelta(days=1),
        )
        s.add(ds)
        s.flush()
        ds_id = ds.id
    insert_batches(
        settings.db_url,
        ds_id,
        iter(
            [
                {"idx": i, "conversation": {"system": None, "turns": []}, "original": None, "warnings": None}
                for i in range(30)
            ]
        ),
        10,
    )
    assert client.get("/v1/datasets").json()["total"] == 0
    assert client.get(f"/v1/datasets/{ds_id}").status_code == 404
    Worker(settings).run_once()
    with session_scope(settings.db_url) as s:
        assert s.get(Dataset, ds_id) is None
        assert s.scalar(select(func.count()).select_from(SampleRow)) == 0
    r = client.post(
        "/v1/datasets", files={"file": ("d.jsonl", json.dumps(GOOD).encode())}, headers={"Idempotency-Key": "k"}
    )
    assert r.status_code == 201, "the abandoned upload's key is free again"
