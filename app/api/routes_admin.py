"""Key management for operators: needs an admin-scoped key (``sftaudit keys create --admin``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, status

from app.api.deps import AdminDep, SessionDep
from app.api.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from app.services import auth as svc

if TYPE_CHECKING:
    from app.db.models import ApiKey

router = APIRouter(prefix="/v1/admin", tags=["admin"])


def _read(row: ApiKey, project: str) -> ApiKeyRead:
    return ApiKeyRead(
        id=row.id,
        project=project,
        name=row.name,
        prefix=row.prefix,
        scope=row.scope,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


@router.get(
    "/keys", response_model=list[ApiKeyRead], description="Every API key of every project (never the keys themselves)."
)
def list_keys(admin: AdminDep, session: SessionDep, project: str | None = None) -> list[ApiKeyRead]:
    return [_read(k, p) for k, p in svc.list_keys(session, project)]


@router.post(
    "/keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    description="Create a key (the project is created if needed); the key is in this response only.",
)
def create_key(body: ApiKeyCreate, admin: AdminDep, session: SessionDep) -> ApiKeyCreated:
    plain, row = svc.create_key(session, body.project, body.name, body.scope)
    session.commit()
    return ApiKeyCreated(**_read(row, body.project).model_dump(), key=plain)


@router.post(
    "/keys/{key_id}/revoke",
    response_model=ApiKeyRead,
    description="Revoke a key (by id or printed prefix): it is refused from its next request on.",
)
def revoke_key(key_id: str, admin: AdminDep, session: SessionDep) -> ApiKeyRead:
    row = svc.revoke_key(session, key_id)
    session.commit()
    return _read(row, svc.project_name(session, row.project_id))
