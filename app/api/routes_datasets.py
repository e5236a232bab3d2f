from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from app.api.deps import ProjectDep, SessionDep, SettingsDep, job_read
from app.api.schemas import INT32_MAX, DatasetList, DatasetRead, JobRead, LineagePage, SamplePage, SampleRead
from app.api.uploads import receive_upload
from app.db.session import session_scope
from app.errors import AppError, RowError
from app.ingest.export import EXPORT_FORMATS
from app.ingest.formats import FORMATS
from app.jsonutil import load_json
from app.labels.parse import content_hash
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
        except (json.JSONDecodeError, RecursionError, ValueError) as e:
            msg = getattr(e, "msg", "too deeply nested")
            raise AppError(
                422, "invalid_field_map", f"field_map is not valid JSON: {msg}", [RowError(msg, field="field_map")]
            ) from None
        if not isinstance(field_map, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in field_map.items()
        ):
            raise AppError(
                422,
                "invalid_field_map",
                'field_map must map names to names, e.g. {"instruction": "question"}',
                [RowError("must be an object of strings", field="field_map")],
            )
    on_error = get("on_error") or "reject"
    if on_error not in ("reject", "skip"):
        raise AppError(
            422, "invalid_on_error", "on_error must be 'reject' or 'skip'", [RowError("invalid", field="on_error")]
        )
    fmt = get("format") or None
    if fmt is not None and fmt not in FORMATS:
        raise AppError(
            422,
            "unknown_format",
            f"unknown format {fmt[:40]!r}; known: {', '.join(FORMATS)}",
            [RowError("unknown format", field="format")],
        )
    opts = svc.IngestOptions(
        name=get("name"),
        format=fmt,
        field_map=field_map,
        on_error=on_error,  # type: ignore[arg-type]
        idempotency_key=idem,
    )
    svc.validate_options(opts)
    return opts


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DatasetRead,
    description=UPLOAD_DOC,
    responses={
        200: {
            "model": DatasetRead,
            "description": "The dataset an earlier upload with this Idempotency-Key created (same file).",
        }
    },
)
async def upload_dataset(
    request: Request,
    response: Response,
    project: ProjectDep,
    settings: SettingsDep,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> DatasetRead:
    _options({}, request, idempotency_key)  # query-string options and the header: refused before any byte is stored
    upload, fields = await receive_upload(request, settings)
    project_id = project.id
    try:
        opts = _options(fields, request, idempotency_key)
        ds, created = await run_in_threadpool(svc.ingest_upload, settings, project_id, upload, opts)
        read = DatasetRead.model_validate(ds)
    except BaseException:
        upload.path.unlink(missing_ok=True)
        raise
    if not created:
        upload.path.unlink(missing_ok=True)
        response.status_code = status.HTTP_200_OK
    return read


@router.get("", response_model=DatasetList)
def list_datasets(
    project: ProjectDep,
    session: SessionDep,
    settings: SettingsDep,
    offset: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=INT32_MAX)] = 50,
) -> DatasetList:
    items, total = svc.list_datasets(session, project.id, offset, min(limit, settings.page_max))
    return DatasetList(items=[DatasetRead.model_validate(d) for d in items], total=total)


@router.get("/{dataset_id}", response_model=DatasetRead)
def get_dataset(dataset_id: str, project: ProjectDep, session: SessionDep) -> DatasetRead:
    return DatasetRead.model_validate(svc.get_dataset(session, project.id, dataset_id))


@router.get("/{dataset_id}/samples", response_model=SamplePage)
def list_samples(
    dataset_id: str,
    project: ProjectDep,
    session: SessionDep,
    settings: SettingsDep,
    offset: Annotated[int, Query(ge=0, le=INT32_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=INT32_MAX)] = 50,
) -> SamplePage:
    ds = svc.get_dataset(session, project.id, dataset_id)
    limit = min(limit, settings.page_max)
    rows = svc.page_samples(session, ds.id, offset, limit)
    return SamplePage(
        items=[
            SampleRead(
                index=r.idx,
                conversation=r.conversation,
                original=load_json(r.original) if r.original else None,
                warnings=r.warnings,
                content_hash=content_hash(r.conversation),
            )
            for r in rows
        ],
        offset=offset,
        limit=limit,
        total=ds.rows,
    )


@router.get(
    "/{dataset_id}/lineage",
    response_model=LineagePage,
    description="Which source row each row of a derived (curated, baseline, held-out) dataset came from.",
)
def dataset_lineage(
    dataset_id: str,
    project: ProjectDep,
    session: SessionDep,
    settings: SettingsDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1)] = 1000,
) -> LineagePage:
    ds = svc.get_dataset(session, project.id, dataset_id)
    limit = min(limit, settings.page_max)
    items, total = svc.lineage_page(ds, offset, limit)
    return LineagePage(items=items, offset=offset, limit=limit, total=total)


@router.get(
    "/{dataset_id}/export",
    response_class=StreamingResponse,
    description=f"Streamed download as JSONL records in one of: {', '.join(EXPORT_FORMATS)}. alpaca keeps "
    "`input` apart from `instruction` and the upload's extra fields; `original` writes back each "
    "uploaded record unchanged.",
)
def export_dataset(
    dataset_id: str, project: ProjectDep, settings: SettingsDep, session: SessionDep, format: str = "jsonl"
) -> StreamingResponse:
    ds = svc.get_dataset(session, project.id, dataset_id)
    if format not in EXPORT_FORMATS:
        raise AppError(422, "unknown_format", f"unknown export format {format!r}; known: {', '.join(EXPORT_FORMATS)}")
    url, ds_id, name = settings.db_url, ds.id, ds.name

    def stream():
        with session_scope(url) as s:
            yield from svc.export_lines(s, ds_id, format)

    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80] or "dataset"
    return StreamingResponse(
        stream(),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{safe}.{format}.jsonl"'},
    )


@router.delete(
    "/{dataset_id}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    description="The dataset disappears at once; its rows, audits and stored file are purged by a "
    "background job (`dataset_purge`, the short lane), returned here.",
)
def delete_dataset(dataset_id: str, project: ProjectDep, session: SessionDep, settings: SettingsDep) -> JobRead:
    ds = svc.get_dataset(session, project.id, dataset_id)
    job = svc.request_delete(session, settings, ds)
    session.commit()
    return job_read(session, settings, job)
