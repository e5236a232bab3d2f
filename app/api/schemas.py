"""Request and response schemas; field descriptions become the OpenAPI docs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.db.models import NAME_MAX


def _as_utc(value: datetime) -> datetime:
    """The database stores naive UTC; the API always says so (ISO 8601 with +00:00)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


#: a user-given name (dataset, curation): what the database column holds, no NUL
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX), AfterValidator(_no_nul)]
#: an id in a request body (any string: one this service did not issue is simply not found)
IdRef = Annotated[str, StringConstraints(max_length=64)]
#: the largest integer a request may carry where it ends up in a 32-bit database column
INT32_MAX = 2**31 - 1


class DatasetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    format: str = Field(
        description="Detected (or forced) record format: alpaca, sharegpt, messages, pairs, text, preference."
    )
    rows: int
    sha256: str = Field(
        description="SHA-256 of the uploaded bytes; for a derived (curated) dataset, of its rows as "
        "`export?format=original` writes them."
    )
    size_bytes: int = Field(description="Bytes of the upload, or of a derived dataset's `format=original` export.")
    ingest: dict[str, Any] = Field(description="Container, gzip, skipped rows with reasons, sanitised row count.")
    parent_id: str | None = None
    lineage: dict[str, Any] | None = Field(
        None,
        description=(
            "Where a derived dataset came from (kind, parent, audit, curation, policy, counts). The row-by-row sources "
            "are paged at `sources_url` (`GET /v1/datasets/{id}/lineage`), not listed here."
        ),
    )
    created_at: UtcDatetime

    @model_validator(mode="after")
    def _sources_by_reference(self) -> DatasetRead:
        if self.lineage and "sources" in self.lineage:
            lineage = {k: v for k, v in self.lineage.items() if k != "sources"}
            lineage["sources_count"] = len(self.lineage["sources"] or [])
            lineage["sources_url"] = f"/v1/datasets/{self.id}/lineage"
            self.lineage = lineage
        return self


class LineagePage(BaseModel):
    items: list[dict[str, Any]] = Field(description="`index` in this dataset, `source_dataset_id`, `source_index`.")
    offset: int
    limit: int
    total: int


class DatasetList(BaseModel):
    items: list[DatasetRead]
    total: int


class Conversation(BaseModel):
    system: str | None
    turns: list[dict[str, str | float]] = Field(
        description=("Ordered turns: `role`, `content`, and `loss_weight` where the upload gave one (LLaMA-Factory).")
    )


class SampleRead(BaseModel):
    index: int = Field(description="0-based position of the record in the uploaded file.")
    conversation: Conversation
    original: dict[str, Any] | None = Field(description="The record as uploaded (after sanitising).")
    warnings: list[str] | None = Field(
        None, description="Sanitising applied to this row (nul_removed, surrogate_replaced)."
    )
    content_hash: str = Field(
        description="SHA-256 of the normalised conversation (system + turns): the same sample has "
        "the same hash in any upload and format; label files may key samples by it."
    )


class SamplePage(BaseModel):
    items: list[SampleRead]
    offset: int
    limit: int
    total: int


class AuditCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scorers: list[str] | None = Field(
        None,
        description=("Scorer names to run; omitted or null: every registered scorer. An empty list is refused (422)."),
    )
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per-scorer parameters, by scorer name."
    )
    seed: int = Field(
        0,
        ge=0,
        le=INT32_MAX,
        description="Seed for every randomised step; same seed + settings = byte-identical report.",
    )
    reference_dataset_id: IdRef | None = Field(
        None, description="A dataset of question → reference answer for external consistency."
    )


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    kind: str
    status: str = Field(description="queued | running | succeeded | failed | cancelled")
    progress: float = Field(
        description=(
            "Fraction of the work done, 0–1. An audit's share per scorer is weighted by the scorer's expected cost, and "
            "slow scorers move it from inside (items done / total); it never goes backwards within an attempt."
        )
    )
    step: str = Field(description="What the job is doing now (for a slow scorer: with items done / total).")
    eta_seconds: float | None = Field(
        None,
        description=(
            "While running: the seconds left, estimated from the time since the attempt started and the fraction done "
            "(smoothed), as of the worker's last progress report (written at most once per "
            "`worker.progress_interval_seconds`). Null while not yet known and once the job is no longer running."
        ),
    )
    attempts: int
    max_attempts: int
    error: str | None
    result: dict[str, Any] | None
    cancel_requested: bool
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    queue_position: int | None = Field(
        None, description="While queued: 1 = next to be claimed in its lane, 2 = one job ahead, …"
    )

    @model_validator(mode="after")
    def _eta_only_while_running(self) -> JobRead:
        if self.status != "running":  # a finished, queued or handed-back job has no time left to estimate
            self.eta_seconds = None
        return self


class AuditRead(BaseModel):
    id: str
    dataset_id: str
    reference_dataset_id: str | None
    status: str
    progress: float
    step: str
    eta_seconds: float | None = Field(None, description="While running: seconds left, estimated (see the job's).")
    error: str | None
    scorers: list[str]
    params: dict[str, Any]
    seed: int
    job: JobRead
    created_at: UtcDatetime
    report: dict[str, Any] | None = Field(None, description="The dataset-level report, once the audit succeeded.")
    links: dict[str, str] | None = Field(
        None,
        description=(
            "Once the audit succeeded: signed URLs that open the report (`report`) and the sample browser (`browser`) "
            "in a browser without an API key, until `expires_at`."
        ),
    )


class AuditCurationItem(BaseModel):
    id: str
    status: str
    created_at: datetime
    kept: int | None = Field(None, description="Rows kept, once finished.")
    report_url: str | None = Field(None, description="Signed URL of the curation report, once finished.")


class AuditSamplePage(BaseModel):
    items: list[dict[str, Any]] = Field(
        description="Per-sample results: index, scores, flags, scorer fields, conversation."
    )
    next_cursor: str | None
    total: int


class ScorerRead(BaseModel):
    name: str
    version: str
    dimension: str
    description: str
    parameters: dict[str, Any] = Field(description="JSON Schema of the scorer's parameters.")
    needs_models: list[str]
    available: bool
    unavailable_reason: str | None


class LabelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    index: int = Field(validation_alias=AliasChoices("idx", "index"), description="0-based row of the dataset.")
    value: float = Field(description="1 = good … 0 = bad (a 1–5 rating r is stored as (r - 1) / 4).")
    source: str = Field(description="upload | browser | judge")
    raw: str | None = Field(
        description="The label as given, when not a 0–1 score: good/bad, keep/drop, true/false, 1–5."
    )
    created_at: UtcDatetime
    updated_at: UtcDatetime


class LabelPage(BaseModel):
    items: list[LabelRead]
    offset: int
    limit: int
    total: int
    by_source: dict[str, int] = Field(description="Labels of the whole dataset per source.")


class LabelSet(BaseModel):
    """Exactly one of ``label``, ``rating`` or ``score``."""

    model_config = ConfigDict(extra="forbid")
    label: str | bool | None = Field(None, description="good/bad, keep/drop or true/false.")
    rating: int | None = Field(None, description="1 (worst) to 5 (best).")
    score: float | None = Field(None, description="0 (bad) to 1 (good).")
    source: Literal["browser", "upload", "judge"] = Field(
        "browser", description="Normally `browser`; the sample browser's undo sends a replaced label back as it was."
    )


class LabelWriteRead(BaseModel):
    label: LabelRead
    previous: LabelRead | None = Field(description="The label this one replaced (what an undo puts back).")


class LabelImportRead(BaseModel):
    rows: int = Field(description="Rows read from the label file.")
    samples_labelled: int = Field(description="Samples labelled (a content hash labels every row with that content).")
    created: int
    updated: int = Field(description="Samples whose earlier label (of any source) was replaced.")
    by_key: dict[str, int] = Field(description="Rows keyed by index and by content_hash.")


class DatabaseHealth(BaseModel):
    ok: bool
    error: str | None = Field(None, description="Why the database did not answer.")


class WorkerHealth(BaseModel):
    lane: str | None
    kinds: list[str] = Field(description="Job kinds the worker takes (empty: every kind).")
    alive: bool = Field(description="Its last heartbeat is recent (worker.alive_seconds).")
    last_heartbeat: UtcDatetime
    busy: bool = Field(description="Running a job now.")


class HealthRead(BaseModel):
    status: str = Field(description="ok | degraded (no live worker) | unavailable (the database does not answer)")
    database: DatabaseHealth
    workers: list[WorkerHealth] = Field(description="Workers seen recently (stopped ones are left out).")
    workers_alive: int


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    project: str
    name: str
    prefix: str = Field(description="The first characters of the key, to recognise it.")
    scope: str = Field(description="project | admin")
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_no_nul)] = "default"
    name: Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_nul)] = ""
    scope: Literal["project", "admin"] = "project"


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The key itself: shown only in this response, stored only as a hash.")
