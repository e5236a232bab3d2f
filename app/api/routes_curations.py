from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import ProjectDep, SessionDep, SettingsDep
from app.api.schemas import DatasetRead, JobRead
from app.curation.policy import CurationPolicy
from app.db.models import Dataset
from app.services import curation as svc

router = APIRouter(tags=["curations"])


class CurationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    audit_id: str = Field(description="A finished audit of this dataset.")
    policy: CurationPolicy = Field(default_factory=CurationPolicy)
    name: str | None = Field(None, description="Name of the curated dataset.")


class CurationRead(BaseModel):
    id: str
    status: str
    progress: float
    step: str
    error: str | None
    dataset_id: str
    audit_id: str
    policy: dict[str, Any]
    counts: dict[str, Any] | None = Field(None, description="Input rows, kept, dropped, and drops by reason.")
    curated: DatasetRead | None = None
    baselines: dict[str, DatasetRead] = Field(default_factory=dict,
                                              description="Random and longest-answers subsets of the same size.")
    job: JobRead


def _read(session, job) -> CurationRead:
    result = job.result or {}
    get = lambda i: DatasetRead.model_validate(session.get(Dataset, i)) if i and session.get(Dataset, i) else None  # noqa: E731
    return CurationRead(
        id=job.id, status=job.status, progress=job.progress, step=job.step, error=job.error,
        dataset_id=job.payload["dataset_id"], audit_id=job.payload["audit_id"], policy=job.payload["policy"],
        counts=result.get("counts"), curated=get(result.get("curated_dataset_id")),
        baselines={k: v for k, i in (result.get("baselines") or {}).items() if (v := get(i)) is not None},
        job=JobRead.model_validate(job),
    )


@router.post("/v1/datasets/{dataset_id}/curations", status_code=status.HTTP_202_ACCEPTED, response_model=CurationRead)
def create_curation(dataset_id: str, body: CurationCreate, project: ProjectDep, session: SessionDep,
                    settings: SettingsDep) -> CurationRead:
    job = svc.create_curation(session, settings, project.id, dataset_id, body.audit_id, body.policy, body.name)
    session.commit()
    return _read(session, job)


@router.get("/v1/curations/{curation_id}", response_model=CurationRead)
def get_curation(curation_id: str, project: ProjectDep, session: SessionDep) -> CurationRead:
    return _read(session, svc.get_curation(session, project.id, curation_id))
