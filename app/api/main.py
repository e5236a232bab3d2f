"""The FastAPI application. Routes are thin: parse, authorise, call a service, return a schema."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline

from app.db.migrate import upgrade
from app.errors import AppError
from app.settings import Settings, get_settings

log = logging.getLogger("sftaudit.api")


def create_app(settings: Settings | None = None, migrate: bool = True) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
        if migrate:
            upgrade(settings.db_url)
        yield

    # /docs and /redoc load Swagger UI and ReDoc from the fastapi-offline package, not a CDN: they work offline
    app = FastAPIOffline(title="sftaudit", version="0.1.0", lifespan=lifespan,
                         description="Audit SFT datasets, curate the best subset, fine-tune on it.")
    app.state.settings = settings

    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "reason": e["msg"]} for e in exc.errors()]
        return JSONResponse({"error": {"code": "invalid_request", "message": "the request is not valid",
                                       "errors": errors}}, status_code=422)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    from app.api import routes_audits, routes_curations, routes_datasets, routes_experiments, routes_training

    app.include_router(routes_datasets.router)
    app.include_router(routes_audits.router)
    app.include_router(routes_curations.router)
    app.include_router(routes_training.router)
    app.include_router(routes_experiments.router)
    return app
