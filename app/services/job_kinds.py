"""Which kind a new job is queued as: audits that run local models go to workers with a GPU.

An audit whose scorers run a configured local model — the language model (perplexity, IFD), the
reward model, or a local judge model — is queued as kind ``model_audit`` (the same handler as
``audit``; :func:`audit_job_kind`). Workers decide which kinds they take first
(``app/jobs/capabilities.py``); this module only names the kind, so services never import the worker.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.settings import ModelSettings

MODEL_AUDIT = "model_audit"
GPU_KINDS = (MODEL_AUDIT, "training")
#: model roles whose scorers run a local transformers model (a forward pass per sample: GPU work)
LOCAL_MODEL_ROLES = ("language_model", "reward_model")


def runs_local_model(needs_models: Iterable[str], models: ModelSettings) -> bool:
    for role in needs_models:
        if role in LOCAL_MODEL_ROLES and getattr(models, role):
            return True
        if role == "judge" and models.judge_model and not models.judge_url:  # a local judge model, no endpoint
            return True
    return False


def audit_job_kind(scorers: Iterable[str], models: ModelSettings) -> str:
    """``model_audit`` when a selected scorer runs a configured local model, else ``audit``."""
    from scorers.base import registry

    reg = registry()
    return MODEL_AUDIT if any(runs_local_model(reg[n].needs_models, models) for n in scorers) else "audit"
