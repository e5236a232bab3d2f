"""Errors that map to HTTP responses (one exception → HTTP mapping, in app/api/errors.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RowError:
    reason: str
    line: int | None = None
    index: int | None = None
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in {"line": self.line, "index": self.index, "field": self.field, "reason": self.reason}.items()
            if v is not None
        }


@dataclass
class AppError(Exception):
    status: int
    code: str
    message: str
    errors: list[RowError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": {"code": self.code, "message": self.message, **self.extra}}
        if self.errors:
            out["error"]["errors"] = [e.to_dict() for e in self.errors]
        return out


def not_found(what: str, ident: str) -> AppError:
    return AppError(404, "not_found", f"{what} {ident} not found")


def bad_request(message: str, code: str = "bad_request", **extra: Any) -> AppError:
    return AppError(400, code, message, extra=extra)


def unprocessable(
    message: str, code: str = "invalid_input", errors: list[RowError] | None = None, **extra: Any
) -> AppError:
    return AppError(422, code, message, errors or [], extra)
