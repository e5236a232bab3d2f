from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi import Path as FPath
from fastapi.responses import HTMLResponse, Response

from app.api.deps import ProjectDep, ReaderDep, SessionDep, SettingsDep, job_read
from app.api.schemas import INT32_MAX, AuditCreate, AuditCurationItem, AuditRead, AuditSamplePage, JobRead, ScorerRead
from app.errors import AppError
from app.services import audits as svc
from app.services import curation as curation_svc
from app.services import jobs as jobs_svc
from app.services import links

router = APIRouter(tags=["audits"])


def _read(audit, job, session=None, settings=None, with_report: bool = True, base: str = "") -> AuditRead:  # noqa: ANN001
    done = job.status == "succeeded" and bool(audit.report_json)
    read = job_read(session, settings, job) if session is not None else JobRead.model_validate(job)
    return AuditRead(
        id=audit.id,
        dataset_id=audit.dataset_id,
        reference_dataset_id=audit.reference_dataset_id,
        status=job.status,
        progress=job.progress,
        step=job.step,
        eta_seconds=read.eta_seconds,
        error=job.error,
        scorers=audit.scorers,
        params=audit.params,
        seed=audit.seed,
        job=read,
        created_at=audit.created_at,
        report=json.loads(audit.report_json) if with_report and done else None,
        links=links.links_for(
            settings, base, report=f"/v1/audits/{audit.id}/report.html", browser=f"/v1/audits/{audit.id}/browser"
        )
        if done and settings is not None
        else None,
    )


@router.post("/v1/datasets/{dataset_id}/audits", status_code=status.HTTP_202_ACCEPTED, response_model=AuditRead)
def create_audit(
    dataset_id: str, body: AuditCreate, project: ProjectDep, session: SessionDep, settings: SettingsDep
) -> AuditRead:
    audit = svc.create_audit(
        session, settings, project.id, dataset_id, body.scorers, body.params, body.seed, body.reference_dataset_id
    )
    session.commit()
    return _read(*svc.get_audit(session, project.id, audit.id), session, settings)


@router.get(
    "/v1/audits/{audit_id}",
    response_model=AuditRead,
    description="Status and progress; once finished, the report and signed browser links to it (`links`).",
)
def get_audit(
    audit_id: str, project: ReaderDep, session: SessionDep, settings: SettingsDep, request: Request
) -> AuditRead:
    return _read(*svc.get_audit(session, project.id, audit_id), session, settings, base=str(request.base_url))


@router.get(
    "/v1/audits/{audit_id}/report.json",
    response_class=Response,
    description="The report exactly as stored (byte-identical across identical runs).",
)
def get_report_json(audit_id: str, project: ReaderDep, session: SessionDep) -> Response:
    audit, job = svc.get_audit(session, project.id, audit_id)
    if job.status != "succeeded" or not audit.report_json:
        raise AppError(409, "audit_not_finished", f"audit {audit_id} is {job.status}")
    return Response(audit.report_json, media_type="application/json")


@router.get("/v1/audits/{audit_id}/samples", response_model=AuditSamplePage)
def audit_samples(
    audit_id: str,
    project: ReaderDep,
    session: SessionDep,
    settings: SettingsDep,
    dimension: Annotated[str | None, Query(description="A dimension; empty or omitted: no filter.")] = None,
    flag: Annotated[str | None, Query(description="A flag code; empty or omitted: no filter.")] = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    sort: str = "index",
    limit: Annotated[int, Query(ge=1, le=INT32_MAX)] = 50,
    cursor: str | None = None,
    cluster: Annotated[int | None, Query(ge=-INT32_MAX, le=INT32_MAX)] = None,
    difficulty_level: str | None = None,
) -> AuditSamplePage:
    audit, _ = svc.get_audit(session, project.id, audit_id)
    # an empty filter (`dimension=`) is no filter, as a form or a link with blank fields sends it
    records, next_cursor, total = svc.query_samples(
        session,
        audit,
        dimension=dimension or None,
        flag=flag or None,
        min_score=min_score,
        max_score=max_score,
        sort=sort or "index",
        limit=min(limit, settings.page_max),
        cursor=cursor or None,
        cluster=cluster,
        difficulty_level=difficulty_level or None,
    )
    items = [json.loads(r) for r in records]
    convs = svc.conversations(session, audit.dataset_id, [i["index"] for i in items])
    for it in items:
        it["conversation"] = convs.get(it["index"])
    return AuditSamplePage(items=items, next_cursor=next_cursor, total=total)


@router.get("/v1/audits/{audit_id}/samples/{index}")
def audit_sample(
    audit_id: str, index: Annotated[int, FPath(ge=0, le=INT32_MAX)], project: ReaderDep, session: SessionDep
) -> dict:
    audit, _ = svc.get_audit(session, project.id, audit_id)
    rec = json.loads(svc.sample_record(session, audit, index))
    rec["conversation"] = svc.conversations(session, audit.dataset_id, [index]).get(index)
    return rec


@router.get(
    "/v1/audits/{audit_id}/report.html",
    response_class=HTMLResponse,
    description="The report as one self-contained HTML page (works offline). Opens with an API key or a "
    "signed link (`links.report` of the audit).",
)
def get_report_html(audit_id: str, project: ReaderDep, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    from app.reporting.html import render_report_html
    from app.reporting.view import needed_text_indices

    audit, job = svc.get_audit(session, project.id, audit_id)
    if job.status != "succeeded" or not audit.report_json:
        raise AppError(409, "audit_not_finished", f"audit {audit_id} is {job.status}")
    samples = [json.loads(r) for r in svc.all_records(session, audit)]
    texts = svc.sample_texts(session, audit.dataset_id, needed_text_indices(samples))
    html = render_report_html(
        json.loads(audit.report_json),
        samples,
        texts,
        None,
        browser_url=links.signed_url(settings, f"/v1/audits/{audit_id}/browser"),
    )
    return HTMLResponse(html)


@router.get(
    "/v1/audits/{audit_id}/curations",
    response_model=list[AuditCurationItem],
    description="The curations of this audit, newest first, each with a signed link to its report.",
)
def audit_curations(
    audit_id: str, project: ReaderDep, session: SessionDep, settings: SettingsDep, request: Request
) -> list[AuditCurationItem]:
    svc.get_audit(session, project.id, audit_id)
    return [
        AuditCurationItem(
            id=job.id,
            status=job.status,
            created_at=job.created_at,
            kept=((job.result or {}).get("counts") or {}).get("kept"),
            report_url=links.signed_url(settings, f"/v1/curations/{job.id}/report.html", str(request.base_url))
            if job.status == "succeeded"
            else None,
        )
        for job in curation_svc.curations_of_audit(session, project.id, audit_id)
    ]


@router.get(
    "/v1/audits/{audit_id}/browser",
    response_class=HTMLResponse,
    description="The sample browser page. The page itself holds no data and needs no key; every data call it "
    "makes sends the API key the user types in, or the signature of the signed link it was opened with.",
)
def get_browser(audit_id: str) -> HTMLResponse:
    from app.reporting.browser import render_browser_html

    return HTMLResponse(render_browser_html(audit_id))


@router.get("/v1/jobs/{job_id}", response_model=JobRead, tags=["jobs"])
def get_job(job_id: str, project: ProjectDep, session: SessionDep, settings: SettingsDep) -> JobRead:
    return job_read(session, settings, jobs_svc.get_job(session, project.id, job_id))


@router.post("/v1/jobs/{job_id}/cancel", response_model=JobRead, tags=["jobs"])
def cancel_job(job_id: str, project: ProjectDep, session: SessionDep, settings: SettingsDep) -> JobRead:
    job = jobs_svc.cancel_job(session, project.id, job_id)
    session.commit()
    return job_read(session, settings, job)


@router.get("/v1/scorers", response_model=list[ScorerRead], tags=["scorers"])
def list_scorers(project: ProjectDep, settings: SettingsDep) -> list[ScorerRead]:
    from scorers.base import registry

    models = settings.model_config_for_scorers()
    return [ScorerRead(**cls.describe(models)) for cls in registry().values()]
