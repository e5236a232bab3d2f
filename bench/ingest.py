"""Ingest speed: Alpaca 52k into SQLite and PostgreSQL, against a bare parse + bulk insert of the same rows.

    python bench/ingest.py [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Goal (issue 2): overhead ≤ 1.5× the baseline, under 10 s on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
import uuid
from pathlib import Path

from _common import shared_data
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, create_engine, insert, text

from app.db.migrate import upgrade
from app.db.session import engine_for, session_scope
from app.services.auth import get_or_create_project
from app.services.datasets import IngestOptions, StoredUpload, ingest_upload
from app.settings import Settings


def baseline(url: str, path: Path) -> float:
    """json.load + one executemany of (id, idx, record JSON) rows: the least any ingest must do."""
    eng = create_engine(url)
    md = MetaData()
    t = Table(
        "bare_rows",
        md,
        Column("dataset_id", String(32), primary_key=True),
        Column("idx", Integer, primary_key=True),
        Column("data", JSON),
    )
    md.drop_all(eng)
    md.create_all(eng)
    t0 = time.perf_counter()
    rows = json.loads(path.read_bytes())
    ds = uuid.uuid4().hex
    with eng.begin() as c:
        for i in range(0, len(rows), 5000):
            c.execute(
                insert(t), [{"dataset_id": ds, "idx": i + j, "data": r} for j, r in enumerate(rows[i : i + 5000])]
            )
    dt = time.perf_counter() - t0
    md.drop_all(eng)
    eng.dispose()
    return dt


def ours(url: str, path: Path, data_dir: Path) -> tuple[float, int]:
    settings = Settings(database_url=url, storage={"data_dir": data_dir})
    upgrade(url)
    upload = StoredUpload(path, hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size, path.name, None)
    t0 = time.perf_counter()
    with session_scope(url) as s:
        pid = get_or_create_project(s, "bench").id
    ds, _ = ingest_upload(settings, pid, upload, IngestOptions(name="alpaca"))
    rows = ds.rows
    return time.perf_counter() - t0, rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    path = shared_data() / "stanford_alpaca" / "alpaca_data.json"
    tmp = Path(tempfile.mkdtemp())
    targets = {"sqlite": lambda: f"sqlite:///{tmp / f'{uuid.uuid4().hex}.db'}"}
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    pg_name = f"sftaudit_bench_{uuid.uuid4().hex[:6]}"
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{pg_name}"'))
        targets["postgresql"] = lambda: args.pg.rsplit("/", 1)[0] + "/" + pg_name
    except Exception as e:  # noqa: BLE001
        print(f"postgresql skipped: {e}")
    print(f"{'backend':<11} {'rows':>6} {'baseline s':>10} {'ingest s':>9} {'rows/s':>8} {'ratio':>6}")
    try:
        for name, make_url in targets.items():
            best_b, best_o, rows = float("inf"), float("inf"), 0
            for _ in range(args.repeat):
                url = make_url()
                best_b = min(best_b, baseline(url, path))
                dt, rows = ours(url, path, tmp / "data")
                best_o = min(best_o, dt)
                engine_for(url).dispose()
            print(f"{name:<11} {rows:>6} {best_b:>10.2f} {best_o:>9.2f} {rows / best_o:>8.0f} {best_o / best_b:>5.2f}x")
    finally:
        if "postgresql" in targets:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
    print("goal: ratio <= 1.5x and ingest < 10 s (best of --repeat runs)")


if __name__ == "__main__":
    main()
