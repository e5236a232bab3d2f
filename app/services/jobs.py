"""Any job, as the API reads and cancels it (the job table's functions are in ``app/db/queue.py``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.db import queue
from app.db.models import Job
from app.settings import Settings


def get_job(session: Session, project_id: str, job_id: str) -> Job:
    return queue.get_job(session, project_id, job_id)


def cancel_job(session: Session, project_id: str, job_id: str) -> Job:
    return queue.request_cancel(session, queue.get_job(session, project_id, job_id))


def queue_position(session: Session, settings: Settings, job: Job) -> int | None:
    """1 = the next job its lane claims; None when the job is not waiting."""
    return queue.queue_position(session, job, settings.worker.lanes)
