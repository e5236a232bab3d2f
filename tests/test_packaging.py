"""Packaging metadata: an SPDX licence expression (PEP 639), not the deprecated ``license = {text = …}`` table,
which makes setuptools print a deprecation block on every install."""

from __future__ import annotations

import tomllib
from importlib import metadata

from paths import ROOT


def test_license_is_an_spdx_expression() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0"


def test_installed_metadata_carries_the_license_expression() -> None:
    meta = metadata.metadata("sftaudit")
    assert meta.get("License-Expression") == "Apache-2.0"
    assert meta.get("License") is None  # the legacy free-text field is gone
