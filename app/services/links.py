"""Signed browser links: a report or the sample browser opened from a pasted URL, without an API key.

A link carries ``exp`` (unix seconds) and ``sig`` = HMAC-SHA256(secret, "<scope>\\n<exp>"), where the
scope is the resource the link opens: ``/v1/audits/{id}`` or ``/v1/curations/{id}``.  It grants read
access (GET) to that resource and every path under it until ``exp``; the routes that accept it use
``ReaderDep``.  Anyone who can read a resource with a key can mint a link to it (the API returns them),
so a link gives no access the key did not.  The secret is ``links.secret`` or a random key created
once in the data dir.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from app.db.models import Audit, Job, Project
from app.errors import AppError
from app.settings import Settings

#: The resources a link can open: path segment → (model, kind of job when the model is a job).
KINDS = {"audits": (Audit, None), "curations": (Job, "curation")}


def _secret(settings: Settings) -> bytes:
    if settings.links.secret is not None:
        return settings.links.secret.get_secret_value().encode()
    path = Path(settings.storage.data_dir) / "link_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: two processes starting at once agree on one key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
    for _ in range(50):  # the creator may still be writing
        key = path.read_text().strip()
        if key:
            return key.encode()
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty; delete it to create a new link secret")


def scope_of(path: str) -> str:
    """The resource a path belongs to: ``/v1/audits/{id}/samples`` → ``/v1/audits/{id}``."""
    return "/".join(path.split("/")[:4])


def _sig(settings: Settings, scope: str, exp: int) -> str:
    return hmac.new(_secret(settings), f"{scope}\n{exp}".encode(), hashlib.sha256).hexdigest()


def sign(settings: Settings, path: str, now: float | None = None) -> dict[str, str]:
    """The query parameters that open ``path`` (and everything under its resource) until ``exp``."""
    exp = int((time.time() if now is None else now) + settings.links.ttl_seconds)
    return {"exp": str(exp), "sig": _sig(settings, scope_of(path), exp)}


def signed_url(settings: Settings, path: str, base: str = "", now: float | None = None) -> str:
    return f"{base.rstrip('/')}{path}?{urlencode(sign(settings, path, now))}"


def links_for(settings: Settings, base: str, **paths: str) -> dict[str, str]:
    """Signed absolute URLs by name, plus when they stop working (``expires_at``, UTC)."""
    now = time.time()
    out = {name: signed_url(settings, path, base, now) for name, path in paths.items()}
    exp = int(now + settings.links.ttl_seconds)
    out["expires_at"] = datetime.fromtimestamp(exp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def verify(settings: Settings, path: str, exp: str | None, sig: str | None, now: float | None = None) -> str:
    """The scope a valid link opens; 401 for a link that is tampered with, for another resource, or expired."""
    try:
        exp_i = int(exp or "")
    except ValueError:
        raise AppError(401, "invalid_link", "the link's exp is not a time; ask for a new link") from None
    scope = scope_of(path)
    parts = scope.split("/")
    if len(parts) != 4 or parts[2] not in KINDS or not hmac.compare_digest(_sig(settings, scope, exp_i), sig or ""):
        raise AppError(401, "invalid_link", "this link is not valid for this page; ask for a new link")
    if exp_i < (time.time() if now is None else now):
        raise AppError(
            401,
            "link_expired",
            "this link has expired; ask for a new one (GET the audit or curation "
            "with your API key, or run `sftaudit link`)",
        )
    return scope


def project_of(session: Session, scope: str) -> Project:
    """The project that owns a link's resource (the link was minted by someone who could read it)."""
    _, _, kind, ident = scope.split("/")
    model, job_kind = KINDS[kind]
    row = session.get(model, ident)
    if row is None or (job_kind and row.kind != job_kind):
        raise AppError(404, "not_found", f"{kind[:-1]} {ident} not found")
    project = session.get(Project, row.project_id)
    assert project is not None
    return project
