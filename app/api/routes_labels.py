"""Quality labels of a dataset's samples: upload a label file, label one sample, list, export, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from app.api.deps import ProjectDep, SessionDep, SettingsDep
from app.api.schemas import LabelImportRead, LabelPage, LabelRead, LabelSet, LabelWriteRead
from app.api.uploads import receive_upload
from app.db.session import session_scope
from app.errors import AppError, RowError
from app.labels.parse import label_value
from app.services import labels as svc
from app.services.datasets import get_dataset

router = APIRouter(prefix="/v1/datasets/{dataset_id}/labels", tags=["labels"])

UPLOAD_DOC = """Upload a label file (multipart `file`, or a raw JSON / JSONL / CSV body): one row per sample, keyed by
`index` (0-based row) or `content_hash` (from the samples endpoint), with one of `label` (good/bad, keep/drop,
true/false), `rating` (1–5) or `score` (0–1).  Every label is stored (source `upload`, replacing earlier labels
of those samples), or none: a bad row gets a 422 that names its line and field."""


@router.post("", response_model=LabelImportRead, description=UPLOAD_DOC)
async def upload_labels(
    dataset_id: str, request: Request, project: ProjectDep, settings: SettingsDep
) -> LabelImportRead:
    project_id = project.id

    def check() -> None:
        with session_scope(settings.db_url) as s:
            get_dataset(s, project_id, dataset_id)

    await run_in_threadpool(check)  # 404 before reading a body meant for a dataset that is not there
    upload, _ = await receive_upload(request, settings)

    def work() -> LabelImportRead:
        with session_scope(settings.db_url) as s:
            return LabelImportRead(**svc.import_labels(s, settings, get_dataset(s, project_id, dataset_id), upload))

    try:
        return await run_in_threadpool(work)
    finally:
        upload.path.unlink(missing_ok=True)


@router.get("", response_model=LabelPage)
def list_labels(
    dataset_id: str,
    project: ProjectDep,
    session: SessionDep,
    settings: SettingsDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1)] = 100,
    source: str | None = None,
) -> LabelPage:
    ds = get_dataset(session, project.id, dataset_id)
    limit = min(limit, settings.page_max)
    items, total, by_source = svc.page_labels(session, ds.id, offset, limit, source)
    return LabelPage(
        items=[LabelRead.model_validate(x) for x in items], offset=offset, limit=limit, total=total, by_source=by_source
    )


@router.get(
    "/export",
    response_class=StreamingResponse,
    description="Every label with its sample's content hash, as JSONL or CSV (uploadable again).",
)
def export_labels(
    dataset_id: str, project: ProjectDep, session: SessionDep, settings: SettingsDep, format: str = "jsonl"
) -> StreamingResponse:
    ds = get_dataset(session, project.id, dataset_id)
    if format not in svc.EXPORT_FORMATS:
        raise AppError(
            422, "unknown_format", f"unknown label export format {format!r}; known: {', '.join(svc.EXPORT_FORMATS)}"
        )
    url, ds_id = settings.db_url, ds.id

    def stream():
        with session_scope(url) as s:
            yield from svc.export_lines(s, ds_id, format)

    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(
        stream(), media_type=media, headers={"Content-Disposition": f'attachment; filename="labels-{ds_id}.{format}"'}
    )


@router.put("/{index}", response_model=LabelWriteRead)
def put_label(dataset_id: str, index: int, body: LabelSet, project: ProjectDep, session: SessionDep) -> LabelWriteRead:
    ds = get_dataset(session, project.id, dataset_id)
    given = [
        (f, v) for f, v in (("label", body.label), ("rating", body.rating), ("score", body.score)) if v is not None
    ]
    if len(given) != 1:
        raise AppError(
            422,
            "invalid_label",
            "give exactly one of label (good/bad, keep/drop, true/false), rating (1–5) or score (0–1)",
            [RowError("exactly one is required", field="label")],
        )
    try:
        lv = label_value(*given[0])
    except ValueError as e:
        raise AppError(422, "invalid_label", str(e), [RowError(str(e), field=given[0][0])]) from None
    label, previous = svc.set_label(session, ds, index, lv.value, lv.raw, body.source)
    session.commit()
    return LabelWriteRead(
        label=LabelRead.model_validate(label), previous=LabelRead.model_validate(previous) if previous else None
    )


@router.delete("/{index}", status_code=status.HTTP_204_NO_CONTENT)
def delete_label(dataset_id: str, index: int, project: ProjectDep, session: SessionDep) -> Response:
    svc.delete_label(session, get_dataset(session, project.id, dataset_id), index)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
