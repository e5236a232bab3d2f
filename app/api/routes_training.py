from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import ProjectDep, SessionDep, SettingsDep, job_read
from app.api.schemas import INT32_MAX, IdRef, JobRead
from app.db.session import session_scope
from app.services import training as svc
from app.services.datasets import get_dataset
from app.training_spec.plans import PlanRead, PlanRequest, recommend_plan, with_training_job
from app.training_spec.spec import TrainingSpec

router = APIRouter(tags=["training"])


class TrainingJobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset_id: IdRef | None = Field(None, description="The dataset to train on (every stage, unless stage_datasets).")
    stage_datasets: dict[str, IdRef] | None = Field(None, description="Multi-stage recipes: stage name → dataset id.")
    spec: TrainingSpec


class TrainingPreview(TrainingJobCreate):
    n: int = Field(3, ge=1, le=20)


class TrainingJobRead(BaseModel):
    id: str
    status: str
    progress: float
    step: str
    error: str | None
    spec: dict[str, Any]
    datasets: dict[str, str]
    validation: dict[str, Any] | None = Field(None, description="Rows kept, truncated and dropped per stage.")
    latest: dict[str, Any] | None = Field(
        None, description="The latest progress event: phase, step, loss, lr, tokens/s, ETA."
    )
    result: dict[str, Any] | None
    job: JobRead


def _read(session, job, settings=None) -> TrainingJobRead:  # noqa: ANN001
    last = svc.latest_metric(session, job.id) if job.status != "queued" else None
    return TrainingJobRead(
        id=job.id,
        status=job.status,
        progress=job.progress,
        step=job.step,
        error=job.error,
        spec=job.payload["spec"],
        datasets=job.payload["datasets"],
        validation=job.payload.get("validation"),
        latest=last.data if last else None,
        result=job.result,
        job=job_read(session, settings, job) if settings is not None else JobRead.model_validate(job),
    )


@router.post(
    "/v1/training-jobs",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TrainingJobRead,
    description="Validates the spec and every row's label mask (the model's tokenizer, no torch), then queues "
    "the job. Unusable data (a row with no supervised tokens, eos masked out) is a 422 naming the row.",
)
async def create_training_job(body: TrainingJobCreate, project: ProjectDep, settings: SettingsDep) -> TrainingJobRead:
    def work() -> TrainingJobRead:
        with session_scope(settings.db_url) as s:
            job, _ = svc.create_training_job(s, settings, project.id, body.spec, body.dataset_id, body.stage_datasets)
            s.flush()
            return _read(s, job, settings)

    return await run_in_threadpool(work)


@router.post("/v1/training-jobs/preview", description="Render the first samples with their label mask.")
async def preview_training(body: TrainingPreview, project: ProjectDep, settings: SettingsDep) -> dict[str, Any]:
    def work() -> list[dict[str, Any]]:
        with session_scope(settings.db_url) as s:
            return svc.preview(s, settings, project.id, body.spec, body.dataset_id, body.stage_datasets, body.n)

    return {"samples": await run_in_threadpool(work)}


@router.get("/v1/training-jobs/{job_id}", response_model=TrainingJobRead)
def get_training_job(job_id: str, project: ProjectDep, session: SessionDep, settings: SettingsDep) -> TrainingJobRead:
    return _read(session, svc.get_training_job(session, project.id, job_id), settings)


@router.get("/v1/training-jobs/{job_id}/metrics")
def get_metrics(
    job_id: str,
    project: ProjectDep,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> dict[str, Any]:
    svc.get_training_job(session, project.id, job_id)
    rows = svc.metrics(session, job_id, after, limit)
    return {"items": [{"seq": r.seq, **r.data} for r in rows], "next_after": rows[-1].seq if rows else after}


@router.get(
    "/v1/training-jobs/{job_id}/events",
    response_class=StreamingResponse,
    description="Server-Sent Events: every progress event (`event: progress`), then `event: end` with the final status.",
)
async def stream_events(
    job_id: str,
    request: Request,
    project: ProjectDep,
    settings: SettingsDep,
    after: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
) -> StreamingResponse:
    with session_scope(settings.db_url) as s:
        svc.get_training_job(s, project.id, job_id)
    project_id = project.id

    def poll(last: int) -> tuple[list[tuple[int, dict]], str]:
        with session_scope(settings.db_url) as s:
            rows = [(r.seq, r.data) for r in svc.metrics(s, job_id, last, 500)]
            return rows, svc.get_training_job(s, project_id, job_id).status

    async def events():
        last = after
        while True:
            rows, state = await run_in_threadpool(poll, last)
            for seq, data in rows:
                last = seq
                yield f"id: {seq}\nevent: progress\ndata: {json.dumps(data)}\n\n"
            if state in ("succeeded", "failed", "cancelled") and not rows:
                yield f"event: end\ndata: {json.dumps({'status': state})}\n\n"
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.5)

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.get("/v1/training-jobs/{job_id}/artifacts")
def list_artifacts(job_id: str, project: ProjectDep, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    job = svc.get_training_job(session, project.id, job_id)
    return {"status": job.status, "items": svc.list_artifacts(settings, job)}


@router.get("/v1/training-jobs/{job_id}/artifacts/{path:path}", response_class=FileResponse)
def download_artifact(
    job_id: str, path: str, project: ProjectDep, session: SessionDep, settings: SettingsDep
) -> FileResponse:
    job = svc.get_training_job(session, project.id, job_id)
    return FileResponse(svc.artifact_path(settings, job, path))


class PlanRecommend(PlanRequest):
    domain_dataset_id: IdRef | None = Field(
        None, description="Fill domain_sft_rows from this dataset; it feeds the domain SFT stage."
    )
    general_dataset_id: IdRef | None = Field(None, description="Fill general_sft_rows from this dataset.")
    corpus_dataset_id: IdRef | None = Field(
        None, description="Raw domain text (format text) for a continued pre-training stage."
    )
    mixed_dataset_id: IdRef | None = Field(
        None, description="General + domain SFT rows already mixed (a curation with policy.mix)."
    )
    base_model: str | None = Field(
        None,
        description="A base model (a registry name, a directory under models.roots, or job:<id>); the returned training_job uses it.",
    )


EXTRA = {"domain_dataset_id", "general_dataset_id", "corpus_dataset_id", "mixed_dataset_id", "base_model"}


@router.post(
    "/v1/training-plans/recommend",
    response_model=PlanRead,
    description="Suggest a training mode (continued pre-training, SFT, mixing) from the data and the goal, with "
    "reasons, and return it as a spec and a POST /v1/training-jobs body (`training_job`, ready to post "
    "when `missing` is empty).",
)
def recommend(body: PlanRecommend, project: ProjectDep, session: SessionDep) -> PlanRead:
    fields = body.model_dump(exclude=EXTRA)
    if body.domain_dataset_id:
        fields["domain_sft_rows"] = get_dataset(session, project.id, body.domain_dataset_id).rows
    if body.general_dataset_id:
        fields["general_sft_rows"] = get_dataset(session, project.id, body.general_dataset_id).rows
    for ds in (body.corpus_dataset_id, body.mixed_dataset_id):
        if ds:
            get_dataset(session, project.id, ds)
    plan = recommend_plan(PlanRequest(**fields))
    return with_training_job(
        plan,
        body.base_model,
        {
            "domain SFT": body.domain_dataset_id,
            "domain corpus": body.corpus_dataset_id,
            "general + domain SFT, mixed": body.mixed_dataset_id,
        },
    )
