"""Write the artifacts of a finished job into ``out_dir/final/`` (temp dir, then rename).

``final/`` is itself loadable: full weights load with ``AutoModelFor*.from_pretrained(final)``; an
adapter loads with ``PeftModel.from_pretrained(base, final)`` (its ``adapter_config.json`` names the
base it applies to).  Beside the weights: the tokenizer with its chat template, ``merged/`` when
asked, ``training_config.json``, ``metrics.jsonl``, ``eval_results.json``, ``data_report.json`` and
``provenance.json`` (base model hash, dataset hash, library versions, and the dataset, audit and curation
each stage's rows came from), and a ``README.md`` model card written from all of that (not PEFT's empty
template).  A bottleneck adapter (``method: "adapter"``) is saved by :mod:`app.training.bottleneck`.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from app.training.checkpoint import atomic_dir
from scorers.samples import Sample

RESULT = "result.json"
#: Written into the job's output dir by the worker before training: where each stage's rows came from.
SOURCES = "sources.json"
LIBRARIES = ("torch", "transformers", "peft", "accelerate", "tokenizers", "pydantic")


def hash_model_dir(path: str | Path) -> str:
    """sha256 over the config and weight files of a model directory (names and bytes)."""
    h = hashlib.sha256()
    root = Path(path)
    files = sorted(
        p
        for p in root.iterdir()
        if p.is_file()
        and (p.suffix in {".safetensors", ".bin", ".pt"} or p.name in {"config.json", "adapter_config.json"})
    )
    for p in files:
        h.update(p.name.encode())
        with p.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def hash_samples(samples: Iterable[Sample]) -> str:
    h = hashlib.sha256()
    for s in samples:
        d = s.to_dict()
        if "rejected" in s.meta:
            d["rejected"] = s.meta["rejected"]
        h.update(json.dumps(d, ensure_ascii=False, sort_keys=True).encode())
        h.update(b"\n")
    return h.hexdigest()


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for lib in LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = "absent"
    return out


def read_sources(out_dir: Path) -> dict[str, Any]:
    path = Path(out_dir) / SOURCES
    return json.loads(path.read_text()) if path.is_file() else {}


def dedupe_metrics(path: Path) -> list[dict[str, Any]]:
    """The metrics log with steps re-run after a resume kept once (the last run of each)."""
    if not path.is_file():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    keyed: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        keyed[(r.get("stage"), r.get("method"), r.get("phase"), r.get("step"), "eval_loss" in r)] = r
    return list(keyed.values())


def write_final(
    out_dir: Path,
    model,
    tokenizer,
    *,
    is_adapter: bool,
    adapter_base: str,
    export_merged: bool,
    config: dict[str, Any],
    result: dict[str, Any],
    provenance: dict[str, Any],
    data_report: dict[str, Any],
    bottleneck: bool = False,
) -> Path:
    final = out_dir / "final"
    with atomic_dir(final) as tmp:
        if is_adapter:
            for cfg in model.peft_config.values():
                cfg.base_model_name_or_path = str(adapter_base)
        if bottleneck:
            from app.training.bottleneck import save_adapter

            save_adapter(model, tmp, adapter_base)
        else:
            model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if is_adapter and export_merged and hasattr(model, "merge_and_unload"):
            merged = model.merge_and_unload()
            merged.save_pretrained(tmp / "merged")
            tokenizer.save_pretrained(tmp / "merged")
        metrics = dedupe_metrics(out_dir / "metrics.jsonl")
        (tmp / "metrics.jsonl").write_text("".join(json.dumps(m) + "\n" for m in metrics))
        evals = [m for m in metrics if "eval_loss" in m]
        (tmp / "eval_results.json").write_text(json.dumps(evals, indent=2))
        (tmp / "training_config.json").write_text(json.dumps(config, indent=2, default=str))
        (tmp / "provenance.json").write_text(json.dumps(provenance, indent=2))
        (tmp / "data_report.json").write_text(json.dumps(data_report, indent=2))
        from app.training.model_card import model_card

        kind = "bottleneck" if bottleneck else "peft" if is_adapter else "full"
        (tmp / "README.md").write_text(
            model_card(config, result, provenance, metrics, kind, str(adapter_base)), encoding="utf-8"
        )
        result = {**result, "final_dir": str(final), "artifacts": sorted(_listing(tmp))}
        (tmp / RESULT).write_text(json.dumps(result, indent=2, default=str))
    return final


def _listing(root: Path) -> Sequence[str]:
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()] + [RESULT]
