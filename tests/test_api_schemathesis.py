"""Issue #14, "keep it fixed": a bounded schemathesis run over every operation of the API, on SQLite and
PostgreSQL — generated requests (stateless phase) and chains of calls linked by the ids responses return
(stateful phase) — in a throw-away project. Wanted: no server error, every response as the schema says
(status code, content type, headers, body). Derandomised, so a failure reproduces."""

from __future__ import annotations

import json
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hsettings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.api.main import create_app
from app.db.session import session_scope

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: bounded for CI: a few generated requests per operation, a few short call chains
STATELESS = hsettings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)
STATEFUL = hsettings(
    max_examples=12,
    stateful_step_count=5,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _project(settings, app) -> dict[str, str]:
    """Headers of an admin key of a new project holding one small dataset: a fresh world to start from."""
    from fastapi.testclient import TestClient

    from app.services.auth import create_key

    with session_scope(settings.db_url) as s:
        key, _ = create_key(s, f"schemathesis-{uuid.uuid4().hex[:8]}", "fuzz", "admin")
    headers = {"Authorization": f"Bearer {key}"}
    rows = "\n".join(json.dumps({"instruction": f"Q{i}?", "output": f"A{i}."}) for i in range(3)).encode()
    with TestClient(app) as c:
        assert (
            c.post(
                "/v1/datasets", files={"file": ("seed.jsonl", rows)}, data={"name": "seed"}, headers=headers
            ).status_code
            == 201
        )
    return headers


@pytest.fixture
def fuzzed(settings):
    """The app and an admin key of a project of its own, with one small dataset in it to start from."""
    app = create_app(settings, migrate=False)
    return app, _project(settings, app), settings


def test_every_operation_answers_as_documented(fuzzed) -> None:
    from hypothesis import given

    app, headers, _ = fuzzed
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30, "every operation of the API"
    failures: dict[str, str] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @STATELESS
        def check(case) -> None:  # noqa: ANN001
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            check()
        except Exception as e:  # collect them all: one report names every operation that misbehaves
            failures[operation.label] = str(e)[:1500]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())


def test_call_chains_answer_as_documented(fuzzed) -> None:
    """Each call chain (scenario) starts in a project of its own: what an earlier chain created (datasets, jobs,
    idempotency keys) must not change which calls a later one can make, or Hypothesis sees the same choices lead to
    different chains and reports its data generation as flaky."""
    app, _, settings = fuzzed
    machine = schemathesis.openapi.from_asgi("/openapi.json", app).as_state_machine()

    class Workflow(machine):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            self.headers = _project(settings, app)

        def get_call_kwargs(self, case):  # noqa: ANN001, ANN201
            return {"headers": self.headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):  # noqa: ANN001, ANN201
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Workflow.run(settings=STATEFUL)
