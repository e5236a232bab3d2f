"""The one settings object. Every limit is a named setting (env prefix ``SFTAUDIT_``, nested with ``__``).

Examples::

    SFTAUDIT_DATABASE_URL=postgresql+psycopg://user@db/sftaudit
    SFTAUDIT_UPLOAD__MAX_BYTES=2147483648
    SFTAUDIT_MODELS__EMBEDDING_MODEL=/models/paraphrase-multilingual-MiniLM-L12-v2
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from scorers.models import ModelConfig


class StorageSettings(BaseModel):
    data_dir: Path = Field(Path("./data"), description="Uploads, caches, artifacts and the default SQLite file.")

    @property
    def uploads(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def cache(self) -> Path:
        return self.data_dir / "cache"

    @property
    def artifacts(self) -> Path:
        return self.data_dir / "artifacts"


class UploadSettings(BaseModel):
    max_bytes: int = Field(1 << 30, description="Largest upload accepted (bytes actually read, before decompression).")
    max_decompressed_bytes: int = Field(4 << 30, description="A gzip upload is aborted when it inflates past this.")
    max_line_bytes: int = Field(8 << 20, description="Longest JSONL/CSV line accepted.")
    max_json_array_bytes: int = Field(
        512 << 20, description="Largest JSON-array file (parsed in memory); use JSONL above."
    )
    max_rows: int = Field(5_000_000, description="Most rows in one dataset.")
    max_errors_reported: int = Field(20, description="How many row errors an error response lists.")
    insert_batch: int = Field(5000, description="Rows per bulk insert; each batch is its own short transaction.")
    max_depth: int = Field(64, ge=2, description="Deepest nesting of objects/arrays accepted in one record.")
    staging_timeout_seconds: float = Field(
        6 * 3600,
        gt=0,
        description="An upload still being ingested after this long is taken as abandoned (its API "
        "process died): a worker hides it for good and purges its rows.",
    )


class WorkerSettings(BaseModel):
    concurrency: int = Field(1, description="Worker processes started by `sftaudit serve`.")
    lease_seconds: float = Field(
        60.0, description="A claimed job is re-queued if its worker stops renewing for this long."
    )
    heartbeat_seconds: float = Field(10.0, description="How often a running job renews its lease.")
    poll_seconds: float = Field(1.0, description="Idle worker polling interval.")
    progress_interval_seconds: float = Field(
        1.0, gt=0, description="A running job's progress and ETA are written to its row at most this often."
    )
    max_attempts: int = Field(3, description="Attempts before a job is failed with the last reason.")
    handler_modules: list[str] = Field(default_factory=list, description="Extra modules that register job handlers.")
    gpus: int = Field(
        1, description="GPUs a training job uses on this worker; > 1 launches torchrun (one process per GPU)."
    )
    prefer_kinds: list[str] | None = Field(
        None,
        description=(
            "Job kinds this worker claims before any other queued job. Unset: `model_audit` and `training` when the worker "
            "sees a CUDA GPU, nothing otherwise (set `[]` to turn that off)."
        ),
    )
    lanes: dict[str, list[str]] = Field(
        default_factory=lambda: {"default": [], "short": ["curation", "dataset_purge"]},
        description="Queue lanes: lane name → job kinds its workers take (an empty list: every kind). `sftaudit serve` "
        "starts `concurrency` workers per lane, so short jobs (curations, deletions) never wait behind a "
        "long audit or training run.",
    )
    stop_grace_seconds: float = Field(
        20.0,
        description="On SIGTERM/SIGINT a worker asks its running job to stop at the next progress step and hands "
        "it back to the queue; after this long it hands it back itself and exits.",
    )
    db_retry_max_seconds: float = Field(
        30.0, description="Longest wait between retries while the database is unreachable."
    )
    alive_seconds: float = Field(
        30.0, description="A worker whose last heartbeat is older than this counts as dead in /health."
    )
    restart_backoff_seconds: float = Field(
        2.0, description="`serve` restarts a dead worker after this long (doubling while it keeps dying, up to 60 s)."
    )


class DatabaseSettings(BaseModel):
    connect_timeout_seconds: float = Field(5.0, gt=0, description="Give up connecting to the database after this long.")
    statement_timeout_seconds: float = Field(
        60.0,
        gt=0,
        description="PostgreSQL: cancel any one statement running longer than this (the work is batched, "
        "so no statement needs long).",
    )
    sqlite_busy_timeout_seconds: float = Field(
        10.0, ge=0, description="SQLite: wait this long for another writer's lock before giving up (then 503)."
    )
    pool_timeout_seconds: float = Field(10.0, gt=0, description="Wait this long for a free pooled connection.")
    retry_after_seconds: int = Field(
        5, ge=1, description="Retry-After sent with a 503 while the database is unavailable."
    )


class ModelSettings(ModelConfig):
    """The model roles (``scorers.models.ModelConfig``: one field per role, declared once there) and where base
    models for training may come from."""

    model_config = ConfigDict(frozen=False, extra="ignore")
    #: mutable, so not hashable (the frozen parent's hash would also let pydantic share one default instance
    #: between Settings objects instead of copying it)
    __hash__ = None  # type: ignore[assignment]

    roots: list[Path] = Field(
        default_factory=list,
        description=(
            "Directories base models may be loaded from (`base_model` is a path under one of them, absolute or relative "
            "to it). Default: `<data_dir>/models`. Nothing outside them is ever opened."
        ),
    )
    registry: dict[str, Path] = Field(
        default_factory=dict,
        description=('Named base models the operator made available: name → model directory (`base_model: "name"`).'),
    )


class LinkSettings(BaseModel):
    secret: SecretStr | None = Field(
        None,
        description=(
            "HMAC key that signs browser links to reports and the sample browser; default: a random key created once "
            "in the data dir (`link_secret`). Set it when several API processes on different machines serve links."
        ),
    )
    ttl_seconds: int = Field(3600, ge=60, le=7 * 86400, description="How long a signed browser link stays valid.")


class RaySettings(BaseModel):
    """Where an audit's parallel stages run when ``executor`` is ``ray`` (docs/scale.md)."""

    address: str = Field(
        "local",
        description="`local`: start a Ray instance inside the worker process; `auto`: join the Ray cluster this "
        "machine belongs to (a KubeRay or `ray up` head); `ray://head:10001`: a remote cluster through Ray Client.",
    )
    num_cpus: int | None = Field(None, ge=1, description="CPUs a `local` Ray instance may use (default: all).")
    actors: int | None = Field(
        None, ge=1, description="Encoder actors (default: one per GPU where the cluster has GPUs, else one per CPU)."
    )
    gpus_per_actor: float | None = Field(
        None, ge=0, description="GPUs each encoder actor takes (default: 1 where the cluster has GPUs, else 0)."
    )
    chunk_rows: int = Field(5000, ge=1, description="Rows in one chunk of the per-sample scorers.")
    ship_code: bool = Field(
        True,
        description="Send the worker's `scorers` package to the Ray workers (`py_modules`), so they run the same "
        "code whatever the nodes have installed. Off: the nodes' image must hold the same sftaudit version.",
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SFTAUDIT_", env_nested_delimiter="__", extra="ignore")

    database_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite file in the data dir.")
    host: str = "127.0.0.1"
    port: int = 8000
    storage: StorageSettings = StorageSettings()
    upload: UploadSettings = UploadSettings()
    worker: WorkerSettings = WorkerSettings()
    models: ModelSettings = Field(default_factory=ModelSettings)
    database: DatabaseSettings = DatabaseSettings()
    links: LinkSettings = LinkSettings()
    executor: Literal["local", "ray"] = Field(
        "local",
        description="Where an audit's embedding and per-sample stages run: `local` (the worker process) or `ray` "
        "(a Ray cluster, see `ray`; needs `pip install 'sftaudit[ray]'` on the workers, never on the API).",
    )
    ray: RaySettings = RaySettings()
    audit_processes: int | None = Field(
        None,
        ge=1,
        description="With the `local` executor: processes that score the per-sample scorers of a dataset of 4,000 "
        "rows or more, chunk by chunk (default: the CPUs this process may use, at most 8; 1: all in the worker).",
    )
    page_max: int = Field(1000, description="Largest page size of list endpoints.")

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.storage.data_dir / 'sftaudit.db').resolve()}"

    @property
    def model_roots(self) -> list[Path]:
        return list(self.models.roots) or [self.storage.data_dir / "models"]

    def model_config_for_scorers(self) -> ModelConfig:
        """The model roles alone (what the scorers read), without the training-only ``roots`` and ``registry``."""
        return ModelConfig(**self.models.model_dump(include=set(ModelConfig.model_fields)))


@lru_cache
def get_settings() -> Settings:
    return Settings()
