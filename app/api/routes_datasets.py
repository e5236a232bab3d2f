from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from app.api.deps import ProjectDep, SessionDep, SettingsDep
from app.api.schemas import DatasetList, DatasetRead, LineagePage, SamplePage, SampleRead
from app.api.uploads import receive_upload
from app.db.session import session_scope
from app.errors import AppError, RowError
from app.ingest.export import EXPORT_FORMATS
from app.jsonutil import load_json
from app.services import datasets as svc

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])

UPLOAD_DOC = """Upload a dataset: multipart (`file`, optional `name`, `format`, `field_map` as JSON, `on_error`)
or a raw `application/json` / `application/x-ndjson` body (options as query parameters).
Formats are auto-detected; JSON, JSONL, CSV, Parquet and plain text, any of them gzipped.
With `on_error=reject` (default) one bad row rejects the file with a 422 listing the first errors
(line, field, reason); `on_error=skip` stores the good rows and reports the skipped ones."""


def _options(fields: dict[str, str], request: Request, idem: str | None) -> svc.IngestOptions:
    get = lambda k: fields.get(k) or request.query_params.get(k)  # noqa: E731
    field_map = None
    if raw := get("field_map"):
        try:
            field_map = json.loads(raw)
        except json.JSONDecodeError as e:
            raise AppError(422, "invalid_field_map", f"field_map is not valid JSON: {e.msg}",
                           [RowError(e.msg, field="field_map")]) from None
        if not isinstance(field_map, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in field_map.items()):
            raise AppError(422, "invalid_field_map", 'field_map must map names to names, e.g. {"instruction": "question"}',
                           [RowError("must be an object of strings", field="field_map")])
    on_error = get("on_error") or "reject"
    if on_error not in ("reject", "skip"):
        raise AppError(422, "invalid_on_error", "on_error must be 'reject' or 'skip'", [RowError("invalid", field="on_error")])
    return svc.IngestOptions(name=get("name"), format=get("format") or None, field_map=field_map,
                             on_error=on_error, idempotency_key=idem)  # type: ignore[arg-type]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DatasetRead, description=UPLOAD_DOC)
async def upload_dataset(request: Request, response: Response, project: ProjectDep, settings: SettingsDep,
                         idempotency_key: Annotated[str | None, Header()] = None) -> DatasetRead:
    upload, fields = await receive_upload(request, settings)
    opts = _options(fields, request, idempotency_key)
    project_id = project.id

    def work() -> tuple[DatasetRead, bool]:
        with session_scope(settings.db_url) as s:
            existing = svc.find_idempotent(s, project_id, upload, idempotency_key)
            if existing is not None:
                return DatasetRead.model_validate(existing), False
            ds = svc.ingest(s, settings, project_id, upload, opts)
            return DatasetRead.model_validate(ds), True

    try:
        read, created = await run_in_threadpool(work)
    except BaseException:
        upload.path.unlink(missing_ok=True)
        raise
    if not created:
        upload.path.unlink(missing_ok=True)
        response.status_code = status.HTTP_200_OK
    return read


@router.get("", response_model=DatasetList)
def list_datasets(project: ProjectDep, session: SessionDep, settings: SettingsDep,
                  offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1)] = 50) -> DatasetList:
    items, total = svc.list_datasets(session, project.id, offset, min(limit, settings.page_max))
    return DatasetList(items=[DatasetRead.model_validate(d) for d in items], total=total)


@router.get("/{dataset_id}", response_model=DatasetRead)
def get_dataset(dataset_id: str, project: ProjectDep, session: SessionDep) -> DatasetRead:
    return DatasetRead.model_validate(svc.get_dataset(session, project.id, dataset_id))


@router.get("/{dataset_id}/samples", response_model=SamplePage)
def list_samples(dataset_id: str, project: ProjectDep, session: SessionDep, settings: SettingsDep,
                 offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1)] = 50) -> SamplePage:
    ds = svc.get_dataset(session, project.id, dataset_id)
    limit = min(limit, settings.page_max)
    rows = svc.page_samples(session, ds.id, offset, limit)
    return SamplePage(items=[SampleRead(index=r.idx, conversation=r.conversation,
                                        original=load_json(r.original) if r.original else None, warnings=r.warnings)
                             for r in rows], offset=offset, limit=limit, total=ds.rows)


@router.get("/{dataset_id}/lineage", response_model=LineagePage,
            description="Which source row each row of a derived (curated, baseline, held-out) dataset came from.")
def dataset_lineage(dataset_id: str, project: ProjectDep, session: SessionDep, settings: SettingsDep,
                    offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1)] = 1000) -> LineagePage:
    ds = svc.get_dataset(session, project.id, dataset_id)
    limit = min(limit, settings.page_max)
    items, total = svc.lineage_page(ds, offset, limit)
    return LineagePage(items=items, offset=offset, limit=limit, total=total)


@router.get("/{dataset_id}/export", response_class=StreamingResponse,
            description=f"Streamed download as JSONL records in one of: {', '.join(EXPORT_FORMATS)}. alpaca keeps "
                        "`input` apart from `instruction` and the upload's extra fields; `original` writes back each "
                        "uploaded record unchanged.")
def export_dataset(dataset_id: str, project: ProjectDep, settings: SettingsDep, session: SessionDep,
                   format: str = "jsonl") -> StreamingResponse:
    ds = svc.get_dataset(session, project.id, dataset_id)
    if format not in EXPORT_FORMATS:
        raise AppError(422, "unknown_format", f"unknown export format {format!r}; known: {', '.join(EXPORT_FORMATS)}")
    url, ds_id, name = settings.db_url, ds.id, ds.name

    def stream():
        with session_scope(url) as s:
            yield from svc.export_lines(s, ds_id, format)

    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80] or "dataset"
    return StreamingResponse(stream(), media_type="application/x-ndjson",
                             headers={"Content-Disposition": f'attachment; filename="{safe}.{format}.jsonl"'})


@router.delete("/{dataset_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_dataset(dataset_id: str, project: ProjectDep, session: SessionDep) -> Response:
    ds = svc.get_dataset(session, project.id, dataset_id)
    svc.delete_dataset(session, ds)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
