"""Dependencies, as ``Annotated`` aliases so route signatures stay readable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.db.models import Project
from app.db.session import session_scope
from app.errors import AppError
from app.services.auth import key_for, project_for_key
from app.settings import Settings

if TYPE_CHECKING:
    from app.api.schemas import JobRead


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    with session_scope(settings.db_url) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
_bearer = HTTPBearer(auto_error=False, description="An API key from `sftaudit keys create`.")


def get_project(
    session: SessionDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Project:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise AppError(401, "unauthorized", "send an API key as 'Authorization: Bearer <key>'")
    project = project_for_key(session, creds.credentials)
    if project is None:
        raise AppError(401, "unauthorized", "unknown or revoked API key")
    return project


ProjectDep = Annotated[Project, Depends(get_project)]


def get_admin(session: SessionDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Project:
    """The key must be an admin key (``sftaudit keys create --admin``); returns its project."""
    project = get_project(session, creds)
    row = key_for(session, creds.credentials)  # type: ignore[union-attr]
    if row is None or row.scope != "admin":
        raise AppError(403, "forbidden", "this route needs an admin key (sftaudit keys create --admin)")
    return project


AdminDep = Annotated[Project, Depends(get_admin)]


def job_read(session: Session, settings: Settings, job) -> JobRead:  # noqa: ANN001
    """A job as the API shows it, with its place in the queue while queued."""
    from app.api.schemas import JobRead
    from app.services.jobs import queue_position

    read = JobRead.model_validate(job)
    read.queue_position = queue_position(session, settings, job)
    return read


def get_reader(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Project:
    """Read access: an API key, or a signed browser link (``?exp=…&sig=…``) to this resource."""
    from app.services import links

    sig = request.query_params.get("sig")
    if creds is not None or sig is None:
        if creds is None:
            raise AppError(
                401,
                "unauthorized",
                "send an API key as 'Authorization: Bearer <key>', or open a signed "
                "link (the API returns them with a finished audit or curation)",
            )
        return get_project(session, creds)
    scope = links.verify(settings, request.url.path, request.query_params.get("exp"), sig)
    return links.project_of(session, scope)


#: Project of a GET that a signed browser link may also open (reports, the browser's data calls).
ReaderDep = Annotated[Project, Depends(get_reader)]
