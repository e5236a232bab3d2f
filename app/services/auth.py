"""Projects and API keys. Keys are shown once and stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.models import ApiKey, Project

KEY_PREFIX = "sfta_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def get_or_create_project(session: Session, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.name == name))
    if project is None:
        project = Project(name=name)
        session.add(project)
        session.flush()
    return project


def create_key(session: Session, project_name: str = "default", name: str = "") -> tuple[str, ApiKey]:
    """Create a key for a project (created if needed); returns the plain key, which is never stored."""
    project = get_or_create_project(session, project_name)
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(project_id=project.id, name=name, prefix=plain[:12], key_hash=hash_key(plain))
    session.add(row)
    session.flush()
    return plain, row


def project_for_key(session: Session, key: str) -> Project | None:
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None)))
    return None if row is None else session.get(Project, row.project_id)


def count_keys(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(ApiKey)) or 0)
