"""Which worker takes which job first: audits that run local models go to workers with a GPU.

* An audit whose scorers run a configured local model — the language model (perplexity, IFD), the
  reward model, or a local judge model — is queued as kind ``model_audit`` (the same handler as
  ``audit``; ``app/services/job_kinds.py`` names the kind when the audit is queued).
* A worker claims the kinds in ``worker.prefer_kinds`` before any other queued job (oldest first
  within each group).  Unset (the default), a worker that sees a CUDA GPU prefers ``model_audit`` and
  ``training``; a worker without one prefers nothing.  So a GPU machine joined to a deployment with
  ``sftaudit worker`` drains the model-signal audits and training runs while CPU workers keep the rest.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache

from app.services.job_kinds import GPU_KINDS
from app.settings import Settings


@lru_cache(maxsize=1)
def gpu_visible() -> bool:
    """Whether this process can use a CUDA GPU (imports torch: call it in workers, never in the API process)."""
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def preferred_kinds(settings: Settings) -> tuple[str, ...]:
    """The job kinds this worker claims first (``worker.prefer_kinds``, or by GPU when unset)."""
    if settings.worker.prefer_kinds is not None:
        return tuple(settings.worker.prefer_kinds)
    return GPU_KINDS if gpu_visible() else ()
