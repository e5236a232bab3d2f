"""Job kinds → handler functions.

A handler receives a :class:`JobContext` and returns a JSON-able result.  Handlers must be safe to run
twice (at-least-once execution): they overwrite, never append, what they write.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.settings import Settings


class JobCancelled(Exception):
    """Raised inside a handler (by ``ctx.progress``/``ctx.check_cancel``) when the user cancelled the job."""


class PermanentJobError(Exception):
    """A failure that another attempt cannot fix (bad data, bad spec): the job fails at once."""


@dataclass
class JobContext:
    job_id: str
    project_id: str
    kind: str
    attempt: int
    payload: dict[str, Any]
    settings: Settings
    progress: Callable[[float, str], None]
    cancelled: Callable[[], bool]
    worker_id: str = ""
    #: True once the worker is stopping: a JobCancelled raised then hands the job back instead of cancelling it
    interrupted: Callable[[], bool] = lambda: False
    #: called once the handler returned: writes the progress report still held back by the throttle
    close: Callable[[], None] = lambda: None

    def check_cancel(self) -> None:
        if self.cancelled():
            raise JobCancelled()


Handler = Callable[[JobContext], dict[str, Any] | None]


@dataclass(frozen=True)
class HandlerSpec:
    fn: Handler
    #: run in a child process so a crash or out-of-memory kills the child, not the worker.
    isolated: bool = False


_HANDLERS: dict[str, HandlerSpec] = {}


def job_handler(kind: str, *, isolated: bool = False) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        _HANDLERS[kind] = HandlerSpec(fn, isolated)
        return fn

    return deco


def handlers(settings: Settings) -> dict[str, HandlerSpec]:
    importlib.import_module("app.jobs.audit_job")
    importlib.import_module("app.jobs.curation_job")
    importlib.import_module("app.jobs.purge_job")
    for name in ("app.jobs.training_job",):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
    for mod in settings.worker.handler_modules:
        importlib.import_module(mod)
    return dict(_HANDLERS)
