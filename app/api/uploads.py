"""Stream a request body to disk under a server-generated name, hashing as it goes.

Multipart bodies are parsed incrementally (python-multipart's streaming parser), so the API process
holds at most one chunk of the file in memory; the size limit is counted on bytes actually read.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from app.errors import AppError, RowError, bad_request
from app.services.datasets import StoredUpload
from app.settings import Settings

MAX_FIELD_BYTES = 64 * 1024
RAW_TYPES = {
    "application/json",
    "application/x-ndjson",
    "application/jsonl",
    "application/jsonlines",
    "text/csv",
    "text/plain",
    "application/gzip",
    "application/octet-stream",
    "application/vnd.apache.parquet",
}


class _Sink:
    def __init__(self, directory: Path, limit: int):
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{uuid.uuid4().hex}.upload"
        self.fh = self.path.open("wb")
        self.sha = hashlib.sha256()
        self.size = 0
        self.limit = limit

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise AppError(
                413,
                "too_large",
                f"the upload exceeds the limit of {self.limit} bytes",
                extra={"limit_bytes": self.limit},
            )
        self.sha.update(data)
        self.fh.write(data)

    def close(self) -> None:
        self.fh.close()

    def discard(self) -> None:
        self.fh.close()
        self.path.unlink(missing_ok=True)


async def receive_upload(request: Request, settings: Settings) -> tuple[StoredUpload, dict[str, str]]:
    limit = settings.upload.max_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + MAX_FIELD_BYTES * 4:
        raise AppError(
            413,
            "too_large",
            f"the upload ({declared} bytes) exceeds the limit of {limit} bytes",
            extra={"limit_bytes": limit},
        )
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    ctype_s = ctype.decode("latin-1").lower()
    sink = _Sink(settings.storage.uploads, limit)
    try:
        if ctype_s == "multipart/form-data":
            fields, filename, part_type = await _multipart(request, params.get(b"boundary"), sink)
        elif ctype_s in RAW_TYPES:
            async for chunk in request.stream():
                sink.write(chunk)
            fields, filename, part_type = {}, None, ctype_s
        else:
            raise AppError(
                415,
                "unsupported_media_type",
                f"send the dataset as multipart/form-data (field 'file') or a raw body "
                f"({', '.join(sorted(RAW_TYPES))}); got {ctype_s or 'no content type'}",
            )
        sink.close()
    except BaseException:
        sink.discard()
        raise
    if sink.size == 0:
        sink.discard()
        raise AppError(422, "empty_file", "the uploaded file is empty")
    return StoredUpload(sink.path, sink.sha.hexdigest(), sink.size, filename, part_type), fields


async def _multipart(
    request: Request, boundary: bytes | None, sink: _Sink
) -> tuple[dict[str, str], str | None, str | None]:
    if not boundary:
        raise bad_request("multipart body without a boundary", "malformed_multipart")
    state: dict[str, Any] = {
        "headers": {},
        "name": None,
        "filename": None,
        "ctype": None,
        "buf": bytearray(),
        "field": b"",
        "value": b"",
        "saw_file": False,
        "error": None,
    }
    fields: dict[str, str] = {}
    info: dict[str, Any] = {"filename": None, "ctype": None}

    def on_part_begin() -> None:
        state.update(headers={}, name=None, filename=None, buf=bytearray())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["field"].decode("latin-1").lower()] = state["value"].decode("latin-1")
        state["field"], state["value"] = b"", b""

    def on_headers_finished() -> None:
        _, disp = parse_options_header(state["headers"].get("content-disposition", ""))
        state["name"] = disp.get(b"name", b"").decode("utf-8", "replace")
        fn = disp.get(b"filename")
        state["filename"] = fn.decode("utf-8", "replace") if fn is not None else None
        if state["name"] == "file":
            if state["saw_file"]:
                raise bad_request("send exactly one 'file' part", "malformed_multipart")
            state["saw_file"] = True
            info["filename"] = os.path.basename(state["filename"] or "") or None
            info["ctype"] = state["headers"].get("content-type")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["name"] == "file":
            sink.write(data[start:end])
        else:
            state["buf"] += data[start:end]
            if len(state["buf"]) > MAX_FIELD_BYTES:
                raise bad_request(f"form field {state['name']!r} is longer than {MAX_FIELD_BYTES} bytes")

    def on_part_end() -> None:
        if state["name"] and state["name"] != "file":
            fields[state["name"]] = bytes(state["buf"]).decode("utf-8", "replace")

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except AppError:
        raise
    except Exception as e:
        raise bad_request(f"malformed multipart body: {e}", "malformed_multipart") from None
    if not state["saw_file"]:
        raise AppError(
            422, "missing_file", "the multipart body has no 'file' part", [RowError("required", field="file")]
        )
    return fields, info["filename"], info["ctype"]
