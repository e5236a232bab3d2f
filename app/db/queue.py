"""The job queue is the ``jobs`` table: enqueue, claim with a lease, heartbeat, finish, cancel.

Claiming is one ``UPDATE … WHERE id = (SELECT … LIMIT 1) RETURNING`` statement: on PostgreSQL the
sub-select takes ``FOR UPDATE SKIP LOCKED`` so concurrent workers never block on or double-claim a
row; on SQLite the single UPDATE runs under the database write lock, which gives the same guarantee.
A job whose lease expired (its worker died) is claimable again; after ``max_attempts`` it is failed
with the reason instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from app.db.models import Job, is_id, utcnow
from app.errors import AppError, not_found

ACTIVE = ("queued", "running")
FINAL = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class Claim:
    id: str
    kind: str
    attempt: int
    worker_id: str


def enqueue(session: Session, project_id: str, kind: str, payload: dict[str, Any], max_attempts: int) -> Job:
    job = Job(project_id=project_id, kind=kind, payload=payload, max_attempts=max_attempts, status="queued")
    session.add(job)
    session.flush()
    return job


def reap_exhausted(session: Session) -> int:
    """Fail jobs whose worker vanished after their last allowed attempt (never leave one 'running')."""
    now = utcnow()
    res = session.execute(
        update(Job)
        .where(Job.status == "running", Job.lease_until < now, Job.attempts >= Job.max_attempts)
        .values(
            status="failed",
            finished_at=now,
            error="the worker running this job stopped (lease expired) on its last allowed attempt",
        )
        .execution_options(synchronize_session=False)
    )
    return res.rowcount or 0


def claim(
    session: Session,
    worker_id: str,
    lease_seconds: float,
    kinds: tuple[str, ...] | None = None,
    prefer: tuple[str, ...] = (),
) -> Claim | None:
    """Claim the oldest claimable job (of ``kinds``); jobs of the ``prefer`` kinds go before all others."""
    now = utcnow()
    claimable = or_(
        Job.status == "queued", and_(Job.status == "running", Job.lease_until < now, Job.attempts < Job.max_attempts)
    )
    sub = select(Job.id).where(claimable, Job.cancel_requested.is_(False))
    if kinds:
        sub = sub.where(Job.kind.in_(kinds))
    first = [case((Job.kind.in_(prefer), 0), else_=1)] if prefer else []
    sub = sub.order_by(*first, Job.created_at, Job.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        sub = sub.with_for_update(skip_locked=True)
    stmt = (
        update(Job)
        .where(Job.id == sub.scalar_subquery(), claimable)
        .values(
            status="running",
            attempts=Job.attempts + 1,
            worker_id=worker_id,
            heartbeat_at=now,
            lease_until=now + timedelta(seconds=lease_seconds),
            error=None,
        )
        .returning(Job.id, Job.kind, Job.attempts)
        .execution_options(synchronize_session=False)
    )
    row = session.execute(stmt).first()
    if row is None:
        return None
    session.execute(
        update(Job)
        .where(Job.id == row.id, Job.started_at.is_(None))
        .values(started_at=now)
        .execution_options(synchronize_session=False)
    )
    return Claim(row.id, row.kind, row.attempts, worker_id)


def _mine(c: Claim):
    return and_(Job.id == c.id, Job.worker_id == c.worker_id, Job.attempts == c.attempt, Job.status == "running")


def heartbeat(session: Session, c: Claim, lease_seconds: float) -> tuple[bool, bool]:
    """Renew the lease. Returns (still ours, cancel requested)."""
    now = utcnow()
    res = session.execute(
        update(Job)
        .where(_mine(c))
        .values(heartbeat_at=now, lease_until=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    cancel = bool(session.scalar(select(Job.cancel_requested).where(Job.id == c.id)))
    return (res.rowcount or 0) == 1, cancel


def report_progress(
    session: Session,
    c: Claim,
    fraction: float,
    step: str,
    result: dict[str, Any] | None = None,
    eta_seconds: float | None = None,
) -> bool:
    values: dict[str, Any] = {"progress": max(0.0, min(1.0, fraction)), "step": step[:300], "eta_seconds": eta_seconds}
    if result is not None:
        values["result"] = result
    res = session.execute(update(Job).where(_mine(c)).values(**values).execution_options(synchronize_session=False))
    return (res.rowcount or 0) == 1


def finish(
    session: Session, c: Claim, status: str, *, error: str | None = None, result: dict[str, Any] | None = None
) -> bool:
    """Record the outcome if we still own the job; False means another worker took it over."""
    values: dict[str, Any] = {"status": status, "finished_at": utcnow(), "error": error, "lease_until": None}
    if status == "succeeded":
        values["progress"] = 1.0
        values["step"] = "done"
    if result is not None:
        values["result"] = result
    res = session.execute(update(Job).where(_mine(c)).values(**values).execution_options(synchronize_session=False))
    return (res.rowcount or 0) == 1


def release_for_retry(session: Session, c: Claim, error: str) -> str:
    """An attempt failed: queue the job again, or fail it for good after max_attempts. Returns the new status."""
    job = session.get(Job, c.id)
    if job is None or job.worker_id != c.worker_id or job.status != "running":
        return "lost"
    if job.attempts >= job.max_attempts:
        job.status, job.finished_at, job.error = "failed", utcnow(), f"failed after {job.attempts} attempt(s): {error}"
    else:
        job.status, job.error, job.lease_until = "queued", f"attempt {job.attempts} failed: {error}", None
    session.flush()
    return job.status


def hand_back(session: Session, c: Claim, reason: str) -> str:
    """A stopping worker returns its job to the queue: the attempt does not count (nothing failed), and a
    training job resumes from its last checkpoint. Returns the new status ('lost' if no longer ours)."""
    job = session.get(Job, c.id)
    if job is None or job.worker_id != c.worker_id or job.status != "running" or job.attempts != c.attempt:
        return "lost"
    if job.cancel_requested:
        job.status, job.finished_at, job.error = "cancelled", utcnow(), "cancelled by the user"
    else:
        job.status, job.attempts, job.lease_until = "queued", max(0, job.attempts - 1), None
        job.worker_id, job.step = None, f"handed back to the queue: {reason}"[:300]
    session.flush()
    return job.status


def lane_kinds(lanes: dict[str, list[str]], kind: str) -> list[list[str]]:
    """The kind lists of the lanes that take ``kind`` (an empty list takes every kind)."""
    return [kinds for kinds in lanes.values() if not kinds or kind in kinds] or [[]]


def queue_position(session: Session, job: Job, lanes: dict[str, list[str]]) -> int | None:
    """1 = the next job its lane claims. A kind served by several lanes gets its best position."""
    if job.status != "queued" or job.cancel_requested:
        return None
    ahead = and_(
        Job.status == "queued",
        Job.cancel_requested.is_(False),
        or_(Job.created_at < job.created_at, and_(Job.created_at == job.created_at, Job.id < job.id)),
    )
    best: int | None = None
    for kinds in lane_kinds(lanes, job.kind):
        q = select(func.count()).select_from(Job).where(ahead)
        if kinds:
            q = q.where(Job.kind.in_(kinds))
        n = int(session.scalar(q) or 0) + 1
        best = n if best is None else min(best, n)
    return best


def get_job(session: Session, project_id: str, job_id: str) -> Job:
    job = session.get(Job, job_id) if is_id(job_id) else None
    if job is None or job.project_id != project_id:
        raise not_found("job", job_id)
    return job


def request_cancel(session: Session, job: Job) -> Job:
    if job.status in FINAL:
        raise AppError(409, "job_finished", f"job {job.id} already {job.status}")
    if job.status == "queued":
        job.status, job.finished_at, job.error = "cancelled", utcnow(), "cancelled before it started"
    job.cancel_requested = True
    session.flush()
    return job
