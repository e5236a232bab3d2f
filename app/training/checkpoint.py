"""Checkpoint bundles: everything needed to resume a phase, plus the config that produced it.

A bundle is a directory ``step-000012/`` holding ``state.pt`` (trainable weights, optimiser,
scheduler, RNG states, step) and ``config.json`` (the spec and phase).  It is written to a
``.tmp-*`` sibling and renamed into place, so a directory with a final name is always complete; a
kill mid-write leaves only a temp dir, which is ignored and cleaned up.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import uuid
from pathlib import Path
from typing import Any

import torch

STATE = "state.pt"
CONFIG = "config.json"


def atomic_dir(final: Path):
    """Context manager yielding a temp dir that is renamed to ``final`` on success."""
    return _AtomicDir(final)


class _AtomicDir:
    def __init__(self, final: Path):
        self.final = final
        self.tmp = final.parent / f".tmp-{final.name}-{uuid.uuid4().hex[:8]}"

    def __enter__(self) -> Path:
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir()
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        _fsync_dir(self.tmp)
        if self.final.exists():  # an earlier attempt completed the same step: replace it
            shutil.rmtree(self.final)
        os.replace(self.tmp, self.final)
        _fsync_dir(self.final.parent)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(ckpt_root: Path, step: int, state: dict[str, Any], config: dict[str, Any], keep: int) -> Path:
    final = ckpt_root / f"step-{step:06d}"
    with atomic_dir(final) as tmp:
        torch.save(state, tmp / STATE)
        (tmp / CONFIG).write_text(json.dumps(config, indent=2, default=str))
    for old in list_complete(ckpt_root)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def list_complete(ckpt_root: Path) -> list[Path]:
    if not ckpt_root.is_dir():
        return []
    found = [
        p
        for p in ckpt_root.iterdir()
        if p.is_dir() and p.name.startswith("step-") and (p / STATE).is_file() and (p / CONFIG).is_file()
    ]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def latest(ckpt_root: Path) -> Path | None:
    """The newest complete checkpoint; leftover temp dirs from a killed write are removed."""
    if ckpt_root.is_dir():
        for p in ckpt_root.iterdir():
            if p.name.startswith(".tmp-"):
                shutil.rmtree(p, ignore_errors=True)
    done = list_complete(ckpt_root)
    return done[-1] if done else None


def load(path: Path) -> dict[str, Any]:
    return torch.load(path / STATE, map_location="cpu", weights_only=False)


def load_config(path: Path) -> dict[str, Any]:
    return json.loads((path / CONFIG).read_text())
