"""Where a training job's ``base_model`` may come from — never an arbitrary path on the server.

``base_model`` is one of:

* a **name** from ``models.registry`` (models the operator made available);
* a **path under a model root** (``models.roots``; default ``<data_dir>/models``): absolute, or
  relative to a root (never to the server's working directory); symlinks are resolved first, so a link
  cannot lead out of a root;
* ``job:<id>`` — the exported model of one of **this project's** finished training jobs (full weights,
  or ``merged/`` when the job exported merged weights). Another project's artifacts are never reachable,
  by id or by path: the artifacts directory is not a model root even when it lies under one.

Anything else is refused with the same 422 whether or not the path exists, so the answer says nothing
about the server's file system.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from app.db.models import Job, is_id
from app.errors import AppError, RowError
from app.settings import Settings

JOB_PREFIX = "job:"
NOT_ALLOWED = (
    "base_model must be a model name from the registry, a model directory under a configured model root "
    "(models.roots), or job:<id> of one of this project's finished training jobs"
)


def _refuse() -> AppError:
    return AppError(
        422, "base_model_not_allowed", NOT_ALLOWED, [RowError("not an available model", field="base_model")]
    )


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def resolve_base_model(session: Session, settings: Settings, project_id: str, ref: str) -> Path:
    """The model directory ``ref`` names for this project, or a 422 that does not depend on the file system."""
    if not ref or "\x00" in ref or len(ref) > 1000:
        raise _refuse()
    if ref.startswith(JOB_PREFIX):
        return _from_job(session, settings, project_id, ref[len(JOB_PREFIX) :])
    if ref in settings.models.registry:
        path = Path(settings.models.registry[ref]).expanduser().resolve()
    else:
        path = _under_roots(settings, ref)
    if not (path / "config.json").is_file():
        raise AppError(
            422,
            "base_model_not_found",
            f"base_model {ref} has no config.json (not a transformers model directory)",
            [RowError("no config.json", field="base_model")],
        )
    return path


def _under_roots(settings: Settings, ref: str) -> Path:
    artifacts = settings.storage.artifacts.resolve()
    candidate = Path(ref).expanduser()
    for root in settings.model_roots:
        root = root.expanduser().resolve()
        try:
            path = (candidate if candidate.is_absolute() else root / candidate).resolve()
        except (OSError, RuntimeError, ValueError):
            continue
        if _inside(path, root) and not _inside(path, artifacts):
            return path
    raise _refuse()


def _from_job(session: Session, settings: Settings, project_id: str, job_id: str) -> Path:
    job = session.get(Job, job_id) if is_id(job_id) else None
    if job is None or job.project_id != project_id or job.kind != "training" or job.status != "succeeded":
        raise _refuse()
    final = (settings.storage.artifacts / job.id / "final").resolve()
    for candidate in (final / "merged", final):
        if (candidate / "config.json").is_file():
            return candidate
    raise AppError(
        422,
        "base_model_not_found",
        f"training job {job_id} exported an adapter without merged weights; train it with "
        "export_merged=true to continue from it",
        [RowError("adapter only", field="base_model")],
    )
