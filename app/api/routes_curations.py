from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import ProjectDep, ReaderDep, SessionDep, SettingsDep, job_read
from app.api.schemas import DatasetRead, IdRef, JobRead, Name
from app.curation.policy import CurationPolicy
from app.services import audits as audits_svc
from app.services import curation as svc
from app.services import links

router = APIRouter(tags=["curations"])


class CurationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    audit_id: IdRef = Field(description="A finished audit of this dataset.")
    policy: CurationPolicy = Field(default_factory=CurationPolicy)
    name: Name | None = Field(None, description="Name of the curated dataset.")


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
    warnings: list[str] = Field(
        default_factory=list,
        description=(
            "What the policy asked for and could not get: a budget not filled, a target mix level short, a mix part short."
        ),
    )
    curated: DatasetRead | None = None
    baselines: dict[str, DatasetRead] = Field(
        default_factory=dict, description="Random and longest-answers subsets of the same size."
    )
    job: JobRead
    links: dict[str, str] | None = Field(
        None,
        description=(
            "Once finished: a signed URL that opens the curation report in a browser without an API key (`report`), "
            "until `expires_at`."
        ),
    )


def _read(session, job, settings=None, base: str = "") -> CurationRead:
    result = job.result or {}
    curated, baselines = svc.result_datasets(session, job)
    return CurationRead(
        id=job.id,
        status=job.status,
        progress=job.progress,
        step=job.step,
        error=job.error,
        dataset_id=job.payload["dataset_id"],
        audit_id=job.payload["audit_id"],
        policy=job.payload["policy"],
        counts=result.get("counts"),
        warnings=result.get("warnings") or [],
        curated=DatasetRead.model_validate(curated) if curated is not None else None,
        baselines={k: DatasetRead.model_validate(ds) for k, ds in baselines.items()},
        job=job_read(session, settings, job) if settings is not None else JobRead.model_validate(job),
        links=links.links_for(settings, base, report=f"/v1/curations/{job.id}/report.html")
        if job.status == "succeeded" and settings is not None
        else None,
    )


@router.post("/v1/datasets/{dataset_id}/curations", status_code=status.HTTP_202_ACCEPTED, response_model=CurationRead)
def create_curation(
    dataset_id: str, body: CurationCreate, project: ProjectDep, session: SessionDep, settings: SettingsDep
) -> CurationRead:
    job = svc.create_curation(session, settings, project.id, dataset_id, body.audit_id, body.policy, body.name)
    session.commit()
    return _read(session, job, settings)


@router.get("/v1/curations/{curation_id}", response_model=CurationRead)
def get_curation(
    curation_id: str, project: ReaderDep, session: SessionDep, settings: SettingsDep, request: Request
) -> CurationRead:
    return _read(session, svc.get_curation(session, project.id, curation_id), settings, str(request.base_url))


@router.get(
    "/v1/curations/{curation_id}/report.html",
    response_class=HTMLResponse,
    description="The audit's report with the curation section: kept vs dropped by reason, and the curated, "
    "random and longest subsets' distributions side by side.",
)
def curation_report(curation_id: str, project: ReaderDep, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    from app.reporting.html import render_report_html
    from app.reporting.view import needed_text_indices

    audit, curation = svc.report_section(session, project.id, curation_id)
    samples = [json.loads(r) for r in audits_svc.all_records(session, audit)]
    texts = audits_svc.sample_texts(session, audit.dataset_id, needed_text_indices(samples))
    return HTMLResponse(
        render_report_html(
            json.loads(audit.report_json or "{}"),
            samples,
            texts,
            curation,
            browser_url=links.signed_url(settings, f"/v1/audits/{audit.id}/browser"),
        )
    )
