"""The settings: the model roles are declared once (scorers.models.ModelConfig) and read from the environment."""

from __future__ import annotations

from app.settings import ModelSettings, Settings
from scorers.models import ModelConfig


def test_every_model_role_is_a_setting_and_reaches_the_scorers(monkeypatch):
    assert set(ModelConfig.model_fields) <= set(ModelSettings.model_fields)
    assert set(ModelSettings.model_fields) - set(ModelConfig.model_fields) == {"roots", "registry"}
    monkeypatch.setenv("SFTAUDIT_MODELS__LANGUAGE_MODEL", "/models/lm")
    monkeypatch.setenv("SFTAUDIT_MODELS__FULL_TIER_MAX_SAMPLES", "7")
    scorer_models = Settings().model_config_for_scorers()
    assert type(scorer_models) is ModelConfig
    assert (scorer_models.language_model, scorer_models.full_tier_max_samples) == ("/models/lm", 7)


def test_settings_objects_do_not_share_their_model_roles():
    a, b = Settings(), Settings()
    a.models.language_model = "/models/lm"
    assert b.models.language_model is None and Settings().models.language_model is None


def test_the_executor_setting_is_read_and_chooses_the_audit_backend(monkeypatch):
    """The old per-worker ``executor`` setting nobody read is gone; the one ``executor`` picks the audit backend."""
    from app.jobs.executor import audit_backend
    from scorers.backends import LocalBackend

    assert "executor" not in type(Settings().worker).model_fields
    assert Settings().executor == "local" and isinstance(audit_backend(Settings()), LocalBackend)
    monkeypatch.setenv("SFTAUDIT_EXECUTOR", "ray")
    monkeypatch.setenv("SFTAUDIT_RAY__ADDRESS", "ray://head:10001")
    monkeypatch.setenv("SFTAUDIT_RAY__CHUNK_ROWS", "7")
    s = Settings()
    assert (s.executor, s.ray.address, s.ray.chunk_rows) == ("ray", "ray://head:10001", 7)
    backend = audit_backend(s)  # built, not connected: nothing starts until an audit runs
    assert (backend.name, backend.address, backend.chunk_rows) == ("ray", "ray://head:10001", 7)  # type: ignore[attr-defined]
