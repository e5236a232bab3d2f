"""Fast JSON (orjson) for storage paths; the database engines use it for JSON columns too."""

from __future__ import annotations

from typing import Any

import orjson


def dump_json(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def load_json(text: str | bytes) -> Any:
    return orjson.loads(text)
