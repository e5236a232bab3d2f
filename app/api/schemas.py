"""Request and response schemas; field descriptions become the OpenAPI docs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DatasetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    format: str = Field(description="Detected (or forced) record format: alpaca, sharegpt, messages, pairs, text, preference.")
    rows: int
    sha256: str = Field(description="SHA-256 of the uploaded bytes; for a derived (curated) dataset, of its rows as "
                                    "`export?format=original` writes them.")
    size_bytes: int = Field(description="Bytes of the upload, or of a derived dataset's `format=original` export.")
    ingest: dict[str, Any] = Field(description="Container, gzip, skipped rows with reasons, sanitised row count.")
    parent_id: str | None = None
    lineage: dict[str, Any] | None = Field(None, description=(
        "Where a derived dataset came from (kind, parent, audit, curation, policy, counts). The row-by-row sources "
        "are paged at `sources_url` (`GET /v1/datasets/{id}/lineage`), not listed here."))
    created_at: datetime

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
    turns: list[dict[str, str | float]] = Field(description=(
        "Ordered turns: `role`, `content`, and `loss_weight` where the upload gave one (LLaMA-Factory)."))


class SampleRead(BaseModel):
    index: int = Field(description="0-based position of the record in the uploaded file.")
    conversation: Conversation
    original: dict[str, Any] | None = Field(description="The record as uploaded (after sanitising).")
    warnings: list[str] | None = Field(None, description="Sanitising applied to this row (nul_removed, surrogate_replaced).")


class SamplePage(BaseModel):
    items: list[SampleRead]
    offset: int
    limit: int
    total: int


class AuditCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scorers: list[str] | None = Field(None, description="Scorer names to run; default: every registered scorer.")
    params: dict[str, dict[str, Any]] = Field(default_factory=dict, description="Per-scorer parameters, by scorer name.")
    seed: int = Field(0, description="Seed for every randomised step; same seed + settings = byte-identical report.")
    reference_dataset_id: str | None = Field(None, description="A dataset of question → reference answer for external consistency.")


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    kind: str
    status: str = Field(description="queued | running | succeeded | failed | cancelled")
    progress: float = Field(description="Fraction done, 0–1.")
    step: str = Field(description="What the job is doing now.")
    attempts: int
    max_attempts: int
    error: str | None
    result: dict[str, Any] | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class AuditRead(BaseModel):
    id: str
    dataset_id: str
    reference_dataset_id: str | None
    status: str
    progress: float
    step: str
    error: str | None
    scorers: list[str]
    params: dict[str, Any]
    seed: int
    job: JobRead
    created_at: datetime
    report: dict[str, Any] | None = Field(None, description="The dataset-level report, once the audit succeeded.")
    links: dict[str, str] | None = Field(None, description=(
        "Once the audit succeeded: signed URLs that open the report (`report`) and the sample browser (`browser`) "
        "in a browser without an API key, until `expires_at`."))


class AuditCurationItem(BaseModel):
    id: str
    status: str
    created_at: datetime
    kept: int | None = Field(None, description="Rows kept, once finished.")
    report_url: str | None = Field(None, description="Signed URL of the curation report, once finished.")


class AuditSamplePage(BaseModel):
    items: list[dict[str, Any]] = Field(description="Per-sample results: index, scores, flags, scorer fields, conversation.")
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
