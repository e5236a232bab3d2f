"""Worker liveness rows (the ``workers`` table): register, beat, stop. ``/health`` reads them."""

from __future__ import annotations

import os
import socket

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.db.models import WorkerRow, utcnow


def register(session: Session, worker_id: str, lane: str | None, kinds: list[str]) -> None:
    now = utcnow()
    row = session.get(WorkerRow, worker_id)
    if row is None:
        session.add(
            WorkerRow(
                id=worker_id,
                hostname=socket.gethostname()[:200],
                pid=os.getpid(),
                lane=lane,
                kinds=kinds,
                started_at=now,
                heartbeat_at=now,
            )
        )
    else:
        row.heartbeat_at, row.stopped_at, row.lane, row.kinds = now, None, lane, kinds
    session.flush()


def beat(session: Session, worker_id: str, job_id: str | None) -> None:
    session.execute(
        update(WorkerRow)
        .where(WorkerRow.id == worker_id)
        .values(heartbeat_at=utcnow(), job_id=job_id, stopped_at=None)
        .execution_options(synchronize_session=False)
    )


def stopped(session: Session, worker_id: str) -> None:
    session.execute(
        update(WorkerRow)
        .where(WorkerRow.id == worker_id)
        .values(stopped_at=utcnow(), job_id=None)
        .execution_options(synchronize_session=False)
    )
