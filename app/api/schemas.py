"""Request and response schemas; field descriptions become the OpenAPI docs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class DatasetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    format: str = Field(description="Detected (or forced) record format: alpaca, sharegpt, messages, pairs, text, preference.")
    rows: int
    sha256: str = Field(description="SHA-256 of the uploaded bytes.")
    size_bytes: int
    ingest: dict[str, Any] = Field(description="Container, gzip, skipped rows with reasons, sanitised row count.")
    parent_id: str | None = None
    lineage: dict[str, Any] | None = None
    created_at: datetime


class DatasetList(BaseModel):
    items: list[DatasetRead]
    total: int


class Conversation(BaseModel):
    system: str | None
    turns: list[dict[str, str]]


class SampleRead(BaseModel):
    index: int = Field(description="0-based position of the record in the uploaded file.")
    conversation: Conversation
    original: dict[str, Any] | None = Field(description="The record as uploaded (after sanitising).")
    warnings: list[str] | None = Field(None, description="Sanitising applied to this row (nul_removed, surrogate_replaced).")
    content_hash: str = Field(description="SHA-256 of the normalised conversation (system + turns): the same sample has "
                                          "the same hash in any upload and format; label files may key samples by it.")


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


class LabelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    index: int = Field(validation_alias=AliasChoices("idx", "index"), description="0-based row of the dataset.")
    value: float = Field(description="1 = good … 0 = bad (a 1–5 rating r is stored as (r - 1) / 4).")
    source: str = Field(description="upload | browser | judge")
    raw: str | None = Field(description="The label as given, when not a 0–1 score: good/bad, keep/drop, true/false, 1–5.")
    created_at: datetime
    updated_at: datetime


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
        "browser", description="Normally `browser`; the sample browser's undo sends a replaced label back as it was.")


class LabelWriteRead(BaseModel):
    label: LabelRead
    previous: LabelRead | None = Field(description="The label this one replaced (what an undo puts back).")


class LabelImportRead(BaseModel):
    rows: int = Field(description="Rows read from the label file.")
    samples_labelled: int = Field(description="Samples labelled (a content hash labels every row with that content).")
    created: int
    updated: int = Field(description="Samples whose earlier label (of any source) was replaced.")
    by_key: dict[str, int] = Field(description="Rows keyed by index and by content_hash.")
