"""One exception → HTTP mapping, and the error body every 4xx/5xx carries (declared in the OpenAPI schema).

* :class:`~app.errors.AppError` → its own status and body.
* The database unreachable, timed out or locked → 503 with ``Retry-After`` (never a 500).
* A value the database refuses (a safety net behind the API's own validation) → 422; a constraint
  race (two requests creating the same thing) → 409.
* A NUL character anywhere in the URL → 404 in the path (no such resource), 422 in the query.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc

from app.errors import AppError
from app.settings import Settings

log = logging.getLogger("sftaudit.api")


class ErrorItem(BaseModel):
    line: int | None = Field(None, description="1-based line of the uploaded file.")
    index: int | None = Field(None, description="0-based row index.")
    field: str | None = Field(None, description="The field (or request parameter) that is wrong.")
    reason: str


class ErrorDetail(BaseModel):
    model_config = {"extra": "allow"}
    code: str = Field(description="Stable machine-readable code, e.g. not_found, invalid_rows, database_unavailable.")
    message: str = Field(description="What was wrong and where, for a person.")
    errors: list[ErrorItem] | None = Field(None, description="Row or field errors, first ones first.")


class ErrorBody(BaseModel):
    error: ErrorDetail


def _doc(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc("Bad request (malformed multipart body, bad cursor)."),
    401: _doc("Missing, unknown or revoked API key."),
    403: _doc("The key's scope does not allow this route."),
    404: _doc("No such resource in the key's project."),
    409: _doc("Conflict with the resource's state (not finished, Idempotency-Key in use)."),
    413: _doc("Upload over a size limit."),
    415: _doc("Unsupported upload content type."),
    422: _doc("Invalid input: says what and where."),
    503: _doc("The database is unavailable, timed out or busy; retry after `Retry-After` seconds."),
}


def _json(status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status, headers=headers)


def _errors_are_json(app: FastAPI) -> None:
    """Error bodies are JSON on every route, also where the success is HTML, a file or a stream
    (FastAPI would document them under the route's own media type)."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = plain()
        for ops in spec.get("paths", {}).values():
            for op in ops.values():
                for code, resp in op.get("responses", {}).items():
                    content = resp.get("content") or {}
                    if code[:1] in "45" and "application/json" not in content:
                        schema = next((c.get("schema") for c in content.values() if c.get("schema")), None)
                        if schema is not None:
                            resp["content"] = {"application/json": {"schema": schema}}
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI, settings: Settings) -> None:
    retry_after = str(settings.database.retry_after_seconds)
    _errors_are_json(app)

    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> JSONResponse:
        headers = {"Retry-After": retry_after} if exc.status == 503 else None
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]} for e in exc.errors()]
        return JSONResponse(
            {"error": {"code": "invalid_request", "message": "the request is not valid", "errors": errors}},
            status_code=422,
        )

    @app.exception_handler(sa_exc.OperationalError)
    @app.exception_handler(sa_exc.InterfaceError)
    @app.exception_handler(sa_exc.TimeoutError)
    async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning(
            "database unavailable on %s %s: %s", request.method, request.url.path, str(exc).splitlines()[0][:300]
        )
        return _json(
            503,
            "database_unavailable",
            "the database is unavailable, timed out or busy; retry shortly",
            {"Retry-After": retry_after},
        )

    @app.exception_handler(sa_exc.DataError)
    async def data_error(request: Request, exc: Exception) -> JSONResponse:
        log.warning("value refused by the database on %s %s: %s", request.method, request.url.path, exc)
        return _json(422, "invalid_value", "a value in the request cannot be stored (too long or not allowed)")

    @app.exception_handler(sa_exc.IntegrityError)
    async def integrity_error(request: Request, exc: Exception) -> JSONResponse:
        log.warning("constraint conflict on %s %s: %s", request.method, request.url.path, exc)
        return _json(409, "conflict", "the request conflicts with the current state (a concurrent change); retry")

    @app.middleware("http")
    async def refuse_nul(request: Request, call_next):  # noqa: ANN001, ANN202
        raw_path = request.scope.get("raw_path") or b""
        if b"%00" in raw_path or b"\x00" in raw_path or "\x00" in request.scope.get("path", ""):
            return _json(404, "not_found", "no resource has a NUL character in its path")
        query = request.scope.get("query_string") or b""
        if b"%00" in query or b"\x00" in query:
            return _json(422, "invalid_request", "NUL characters are not allowed in query parameters")
        return await call_next(request)
