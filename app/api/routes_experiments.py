from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.api.deps import ProjectDep, SessionDep, SettingsDep
from app.api.schemas import IdRef, UtcDatetime
from app.db.session import session_scope
from app.services import experiments as svc
from app.training_spec.spec import TrainingSpec

router = APIRouter(tags=["experiments"])


class ExperimentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    curation_id: IdRef = Field(description="A finished curation (its curated dataset and baselines are the arms).")
    spec: TrainingSpec = Field(description="The one recipe every arm trains with.")
    eval_dataset_id: IdRef | None = Field(None, description="Held-out rows; default: rows of the parent no arm uses.")
    held_out_rows: int = Field(200, ge=1, le=100_000)
    baselines: list[Literal["random", "longest"]] = Field(
        ["random", "longest"], max_length=2, description="Which of the curation's baselines to train beside it."
    )
    extra_arms: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")], IdRef] = Field(
        {},
        max_length=8,
        description="More datasets of this project to train with the same recipe, by arm name "
        "(e.g. the whole uncurated dataset, or a reference set); needs eval_dataset_id, since default held-out rows "
        "are drawn from the curated dataset's parent and could be in an extra arm.",
    )


class ExperimentRead(BaseModel):
    id: str
    status: str = Field(description="queued | running | succeeded | failed — over all arms.")
    curation_id: str
    eval_dataset_id: str
    arms: dict[str, dict[str, Any]] = Field(description="Per arm: dataset, rows, training job, status, held-out loss.")
    spec: dict[str, Any]
    created_at: UtcDatetime


def _status(table: dict[str, dict[str, Any]]) -> str:
    states = {a["status"] for a in table.values()}
    for s in ("failed", "cancelled", "running"):
        if s in states:
            return s
    return "succeeded" if states == {"succeeded"} else "queued"


def _read(exp, table) -> ExperimentRead:
    return ExperimentRead(
        id=exp.id,
        status=_status(table),
        curation_id=exp.curation_id,
        eval_dataset_id=exp.eval_dataset_id,
        arms=table,
        spec=exp.spec,
        created_at=exp.created_at,
    )


@router.post(
    "/v1/experiments",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ExperimentRead,
    description="Train the same recipe on the curated subset, the random subset and the longest-answers "
    "subset (and any extra datasets), and report each one's loss on the same held-out rows.",
)
async def create_experiment(body: ExperimentCreate, project: ProjectDep, settings: SettingsDep) -> ExperimentRead:
    def work() -> ExperimentRead:
        with session_scope(settings.db_url) as s:
            exp = svc.create_experiment(
                s,
                settings,
                project.id,
                body.curation_id,
                body.spec,
                body.eval_dataset_id,
                body.held_out_rows,
                body.baselines,
                body.extra_arms,
            )
            return _read(*svc.get_experiment(s, project.id, exp.id))

    return await run_in_threadpool(work)


@router.get("/v1/experiments/{experiment_id}", response_model=ExperimentRead)
def get_experiment(experiment_id: str, project: ProjectDep, session: SessionDep) -> ExperimentRead:
    return _read(*svc.get_experiment(session, project.id, experiment_id))
