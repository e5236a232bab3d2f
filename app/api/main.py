"""The FastAPI application. Routes are thin: parse, authorise, call a service, return a schema."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline

from app.api import errors
from app.api.schemas import HealthRead
from app.db.migrate import upgrade
from app.db.session import configure
from app.settings import Settings, get_settings

log = logging.getLogger("sftaudit.api")


def create_app(settings: Settings | None = None, migrate: bool = True) -> FastAPI:
    settings = settings or get_settings()
    configure(settings.db_url, settings.database)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        settings.storage.data_dir.mkdir(parents=True, exist_ok=True)
        if migrate:
            upgrade(settings.db_url)
        yield

    # /docs and /redoc load Swagger UI and ReDoc from the fastapi-offline package, not a CDN: they work offline
    app = FastAPIOffline(
        title="sftaudit",
        version="0.1.0",
        lifespan=lifespan,
        responses=errors.ERROR_RESPONSES,
        description="Audit SFT datasets, curate the best subset, fine-tune on it.",
    )
    app.state.settings = settings
    errors.install(app, settings)

    @app.get(
        "/health",
        tags=["health"],
        response_model=HealthRead,
        description="Whether the database answers and which workers are alive (by their last heartbeat). "
        "503 while the database does not answer; `degraded` while no worker is alive.",
    )
    async def health() -> JSONResponse:
        from app.services.health import check

        report = HealthRead.model_validate(await run_in_threadpool(check, settings))
        headers = {"Retry-After": str(settings.database.retry_after_seconds)} if not report.database.ok else None
        return JSONResponse(
            report.model_dump(mode="json"), status_code=200 if report.database.ok else 503, headers=headers
        )

    from app.api import (
        routes_admin,
        routes_audits,
        routes_curations,
        routes_datasets,
        routes_experiments,
        routes_labels,
        routes_training,
    )

    app.include_router(routes_datasets.router)
    app.include_router(routes_audits.router)
    app.include_router(routes_curations.router)
    app.include_router(routes_training.router)
    app.include_router(routes_experiments.router)
    app.include_router(routes_labels.router)
    app.include_router(routes_admin.router)
    return app
