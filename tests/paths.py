"""Paths shared by tests (a module of its own: ``conftest`` names clash between test folders)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """The real public datasets (``../shared/data`` beside the checkout, or $SFTAUDIT_SHARED_DATA)."""
    return Path(os.environ.get("SFTAUDIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
