from __future__ import annotations

import os
from pathlib import Path

import pytest
from paths import ROOT, shared_data_dir  # noqa: F401


@pytest.fixture
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared datasets not found at {path} (set SFTAUDIT_SHARED_DATA); CI has them")
    return path


# --- database fixtures: every DB test runs on SQLite and on PostgreSQL ------------------------------
import uuid  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402

PG_ADMIN_URL = os.environ.get("SFTAUDIT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
_TABLES = (
    "labels",
    "workers",
    "experiments",
    "training_metrics",
    "audit_samples",
    "audits",
    "samples",
    "jobs",
    "datasets",
    "api_keys",
    "projects",
)


def _pg_available() -> str | None:
    try:
        eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with eng.connect() as c:
            c.execute(text("select 1"))
        eng.dispose()
        return None
    except Exception as e:  # pragma: no cover - depends on the machine
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(e).__name__}"


@pytest.fixture(scope="session")
def _pg_database(worker_id: str = "master"):
    reason = _pg_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must run every DB test on PostgreSQL)")
        pytest.skip(reason)
    name = f"sftaudit_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    from app.db.migrate import upgrade

    upgrade(url)
    yield url
    from app.db.session import engine_for

    engine_for(url).dispose()
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        from app.db.migrate import upgrade

        upgrade(url)
        yield url
        from app.db.session import engine_for

        engine_for(url).dispose()
        return
    url = request.getfixturevalue("_pg_database")
    yield url
    from app.db.session import engine_for

    with engine_for(url).begin() as c:
        c.execute(text("TRUNCATE " + ", ".join(_TABLES) + " CASCADE"))


@pytest.fixture
def settings(db_url, tmp_path):
    from app.settings import Settings

    return Settings(
        database_url=db_url,
        storage={"data_dir": tmp_path / "data"},
        worker={"lease_seconds": 5, "heartbeat_seconds": 0.5, "poll_seconds": 0.1},
    )


@pytest.fixture
def api_key(settings) -> str:
    from app.db.session import session_scope
    from app.services.auth import create_key

    with session_scope(settings.db_url) as s:
        key, _ = create_key(s, "default")
    return key


@pytest.fixture
def client(settings, api_key):
    from fastapi.testclient import TestClient

    from app.api.main import create_app

    with TestClient(create_app(settings, migrate=False)) as c:
        c.headers["Authorization"] = f"Bearer {api_key}"
        yield c
