"""The house rules the build enforces (docs/architecture.md): the import contracts, and routes that call services.

The layer contracts live in pyproject.toml (``[tool.importlinter]``) and run here through import-linter, so
``make test`` fails on a broken arrow. What an import graph cannot see — a route running SQL on the session it
was handed — is checked over each route module's syntax tree.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROUTES = sorted((ROOT / "app" / "api").glob("routes_*.py"))

#: what a route module may not import: SQL, the store's tables and job functions, the worker
FORBIDDEN_IN_ROUTES = ("sqlalchemy", "app.db.models", "app.db.queue", "app.db.workers", "app.jobs")
#: what a route may do with a session: end or push its unit of work; everything else is a service's job
SESSION_CALLS_ALLOWED = {"commit", "rollback", "flush", "close"}
SESSION_TYPES = {"SessionDep", "Session"}


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    """Imports that run: those under ``if TYPE_CHECKING:`` name a type for the checker and are left out."""
    typing_only = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
        for stmt in node.body
        for n in ast.walk(stmt)
    }
    out = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out += [(node.lineno, node.module)] + [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return out


def _session_names(tree: ast.AST) -> set[str]:
    """Names bound to a database session: parameters typed as one, and ``with session_scope(...) as name``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            ann = ast.unparse(node.annotation)
            if ann in SESSION_TYPES or ann.strip("'\"") in SESSION_TYPES:
                names.add(node.arg)
        elif isinstance(node, ast.withitem) and isinstance(node.context_expr, ast.Call):
            fn = node.context_expr.func
            fn_name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
            if fn_name == "session_scope" and isinstance(node.optional_vars, ast.Name):
                names.add(node.optional_vars.id)
    return names


def route_violations(source: str, filename: str = "<route>") -> list[str]:
    """Every place a route module reaches past the services: a forbidden import, or a query on a session."""
    tree = ast.parse(source, filename)
    found = [
        f"{filename}:{line}: imports {name}"
        for line, name in _imports(tree)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_IN_ROUTES)
    ]
    sessions = _session_names(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in sessions
            and node.func.attr not in SESSION_CALLS_ALLOWED
        ):
            found.append(f"{filename}:{node.lineno}: {node.func.value.id}.{node.func.attr}() in a route")
    return sorted(set(found))


def test_import_contracts_hold():
    """The layers of pyproject.toml's [tool.importlinter]; the output names the broken arrow and its chain."""
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(no_cache=True, no_logo=True))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_there_are_routes_to_check():
    assert len(ROUTES) >= 6 and all(p.name.startswith("routes_") for p in ROUTES)


@pytest.mark.parametrize("path", ROUTES, ids=lambda p: p.name)
def test_routes_call_services_not_the_store(path: Path):
    assert route_violations(path.read_text(), path.name) == []


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("from sqlalchemy import select\n", "imports sqlalchemy"),
        ("from app.db.models import Dataset\n", "imports app.db.models"),
        ("from app.db import queue\n", "imports app.db.queue"),
        ("from app.jobs.worker import Worker\n", "imports app.jobs"),
        ("def r(session: SessionDep):\n    return session.get(Dataset, 1)\n", "session.get() in a route"),
        ("def r(session: 'SessionDep'):\n    return session.query(X).all()\n", "session.query() in a route"),
        (
            "def r(settings):\n    with session_scope(settings.db_url) as s:\n        s.execute(text('SELECT 1'))\n",
            "s.execute() in a route",
        ),
    ],
)
def test_the_route_check_catches_what_it_forbids(snippet: str, expected: str):
    assert any(expected in v for v in route_violations(snippet)), route_violations(snippet)


def test_the_route_check_lets_routes_end_their_transaction():
    ok = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app.db.models import Audit\n"
        "from app.services import audits as svc\n"
        "def r(session: SessionDep, d: dict):\n    svc.create(session)\n    session.commit()\n    return d.get('x')\n"
    )
    assert route_violations(ok) == []


def test_the_api_and_the_scorer_registry_import_no_ray():
    """Ray is a worker's optional extra: building the API app and loading every scorer leaves it unimported (the
    Ray backend is a private module the registry skips, imported only by a worker whose settings choose it)."""
    code = (
        "import sys; from app.api.main import create_app; from app.settings import Settings; "
        "from scorers import registry; create_app(Settings()); registry(); "
        "from app.jobs.executor import audit_backend; audit_backend(Settings()); "
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
