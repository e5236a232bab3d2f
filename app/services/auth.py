"""Projects and API keys. Keys are shown once and stored only as SHA-256 hashes; a revoked key is
refused on its very next request (every request looks the key up; nothing is cached)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.db.models import ApiKey, Project, is_id, utcnow
from app.errors import AppError, not_found

KEY_PREFIX = "sfta_"
SCOPES = ("project", "admin")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def get_or_create_project(session: Session, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        project = Project(name=name)
        session.add(project)
        session.flush()
    return project


def create_key(
    session: Session, project_name: str = "default", name: str = "", scope: str = "project"
) -> tuple[str, ApiKey]:
    """Create a key for a project (created if needed); returns the plain key, which is never stored."""
    if scope not in SCOPES:
        raise AppError(422, "invalid_scope", f"scope must be one of {', '.join(SCOPES)}")
    project = get_or_create_project(session, project_name)
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(project_id=project.id, name=name, prefix=plain[:12], key_hash=hash_key(plain), scope=scope)
    session.add(row)
    session.flush()
    return plain, row


def key_for(session: Session, key: str) -> ApiKey | None:
    """The live (not revoked) key row for a plain key."""
    return session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None)))


def project_for_key(session: Session, key: str) -> Project | None:
    row = key_for(session, key)
    return None if row is None else session.get(Project, row.project_id)


def count_keys(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(ApiKey)) or 0)


def list_keys(
    session: Session, project_name: str | None = None, include_revoked: bool = True
) -> list[tuple[ApiKey, str]]:
    """(key row, project name), oldest first."""
    q = select(ApiKey, Project.name).join(Project, Project.id == ApiKey.project_id)
    if project_name is not None:
        q = q.where(Project.name == project_name)
    if not include_revoked:
        q = q.where(ApiKey.revoked_at.is_(None))
    return [(k, p) for k, p in session.execute(q.order_by(ApiKey.created_at, ApiKey.id)).all()]


def find_key(session: Session, ref: str) -> ApiKey:
    """A key by its id or by its printed prefix (``sfta_xxxxxxx``); an ambiguous prefix is refused."""
    conds = [ApiKey.prefix == ref]
    if is_id(ref):
        conds.append(ApiKey.id == ref)
    rows = session.scalars(select(ApiKey).where(or_(*conds))).all() if ref and "\x00" not in ref else []
    if not rows:
        raise not_found("API key", ref)
    if len(rows) > 1:
        raise AppError(409, "ambiguous_key", f"{len(rows)} keys start with {ref!r}; revoke by id")
    return rows[0]


def project_name(session: Session, project_id: str) -> str:
    project = session.get(Project, project_id)
    return project.name if project else ""


def revoke_key(session: Session, ref: str) -> ApiKey:
    """Revoke a key (idempotent: revoking a revoked key keeps its first revocation time)."""
    row = find_key(session, ref)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row
