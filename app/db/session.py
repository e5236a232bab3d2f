"""Engines and sessions; one engine per URL per process.

Timeouts come from ``settings.database`` (registered per URL with :func:`configure`): a database that
is down or never answers makes a request fail within seconds (the API maps that to 503), never hang.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.jsonutil import dump_json, load_json
from app.settings import DatabaseSettings

_lock = threading.Lock()
_options: dict[str, DatabaseSettings] = {}
_engines: dict[str, Engine] = {}
_factories: dict[str, sessionmaker[Session]] = {}


def configure(url: str, options: DatabaseSettings) -> None:
    """Use these timeouts for ``url`` in this process (an engine made with other ones is replaced)."""
    with _lock:
        if _options.get(url) == options:
            return
        _options[url] = options
        old = _engines.pop(url, None)
        _factories.pop(url, None)
    if old is not None:
        old.dispose()


def _make_engine(url: str, opts: DatabaseSettings) -> Engine:
    if url.startswith("sqlite"):
        eng = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": opts.sqlite_busy_timeout_seconds},
            json_serializer=dump_json,
            json_deserializer=load_json,
        )

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={int(opts.sqlite_busy_timeout_seconds * 1000)}")
            cur.close()

        return eng
    connect_args = {}
    if url.startswith("postgresql"):
        statement_ms = int(opts.statement_timeout_seconds * 1000)
        connect_args = {
            "connect_timeout": max(1, round(opts.connect_timeout_seconds)),
            "options": f"-c statement_timeout={statement_ms}",
            # a peer that stops acknowledging (cable cut, dead host) fails the socket instead of hanging
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": int(max(opts.connect_timeout_seconds, opts.statement_timeout_seconds) * 1000),
        }
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        pool_timeout=opts.pool_timeout_seconds,
        connect_args=connect_args,
        json_serializer=dump_json,
        json_deserializer=load_json,
    )


def engine_for(url: str) -> Engine:
    with _lock:
        eng = _engines.get(url)
        if eng is None:
            eng = _engines[url] = _make_engine(url, _options.get(url, DatabaseSettings()))
        return eng


def session_factory(url: str) -> sessionmaker[Session]:
    eng = engine_for(url)
    with _lock:
        factory = _factories.get(url)
        if factory is None or factory.kw.get("bind") is not eng:
            factory = _factories[url] = sessionmaker(bind=eng, expire_on_commit=False)
        return factory


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A transaction: committed on success, rolled back on any error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
