"""What /health reports: does the database answer, and which workers are alive (their last heartbeat)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, text

from app.db.models import WorkerRow, utcnow
from app.db.session import session_scope
from app.settings import Settings

#: workers whose last heartbeat is older than this are no longer listed (long gone, not just dead)
FORGET_AFTER = timedelta(hours=1)


def check(settings: Settings) -> dict[str, Any]:
    """The /health body (``app.api.schemas.HealthRead``)."""
    try:
        with session_scope(settings.db_url) as s:
            s.execute(text("SELECT 1"))
            now = utcnow()
            rows = s.scalars(
                select(WorkerRow)
                .where(WorkerRow.stopped_at.is_(None), WorkerRow.heartbeat_at > now - FORGET_AFTER)
                .order_by(WorkerRow.lane, WorkerRow.started_at)
            ).all()
            alive_after = now - timedelta(seconds=settings.worker.alive_seconds)
            workers = [
                {
                    "lane": w.lane,
                    "kinds": list(w.kinds or []),
                    "alive": w.heartbeat_at >= alive_after,
                    "last_heartbeat": w.heartbeat_at,
                    "busy": w.job_id is not None,
                }
                for w in rows
            ]
    except Exception as e:  # any failure to talk to the database is what this endpoint reports
        return {
            "status": "unavailable",
            "database": {"ok": False, "error": type(e).__name__},
            "workers": [],
            "workers_alive": 0,
        }
    alive = sum(w["alive"] for w in workers)
    return {
        "status": "ok" if alive else "degraded",
        "database": {"ok": True},
        "workers": workers,
        "workers_alive": alive,
    }
