"""Run one training job in its own process: the entry point the worker launches (and torchrun).

    python -m app.training.cli --spec spec.json --samples samples.jsonl --out OUT_DIR

``spec.json`` is a :class:`TrainingSpec`; ``samples.jsonl`` holds one ``Sample.to_dict()`` per line,
plus ``"stage"`` (multi-stage specs), ``"rejected"`` (reward pairs) and ``"loss_weights"`` (per-turn
weights of the upload) keys where they apply.
Progress events are appended to ``OUT_DIR/progress.jsonl`` (rank 0); creating ``OUT_DIR/STOP`` asks
the job to checkpoint and stop.  Exit codes: 0 completed, 3 stopped, 2 refused data (the reason,
with the row, in ``OUT_DIR/error.json``).  An out-of-memory kills this process, not the worker.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.training_spec.spec import TrainingSpec
from scorers.samples import Sample

EXIT_COMPLETED, EXIT_REFUSED, EXIT_STOPPED = 0, 2, 3
STOP_FILE, PROGRESS_FILE, ERROR_FILE = "STOP", "progress.jsonl", "error.json"


def write_samples(path: Path, samples: Sequence[Sample] | dict[str, Sequence[Sample]]) -> None:
    """Serialise samples for :func:`read_samples` (what the worker does before launching)."""
    with path.open("w") as f:
        groups = samples.items() if isinstance(samples, dict) else [(None, samples)]
        for stage, rows in groups:
            for s in rows:
                d: dict[str, Any] = s.to_dict()
                if stage is not None:
                    d["stage"] = stage
                if "rejected" in s.meta:
                    d["rejected"] = s.meta["rejected"]
                if s.meta.get("loss_weights"):
                    d["loss_weights"] = s.meta["loss_weights"]
                f.write(json.dumps(d, ensure_ascii=False) + "\n")


def read_samples(path: Path, spec: TrainingSpec) -> Sequence[Sample] | dict[str, list[Sample]]:
    by_stage: dict[str, list[Sample]] = {}
    plain: list[Sample] = []
    with path.open() as f:
        for line in f:
            if not line.strip():
                continue
            d = json.loads(line)
            meta = {k: d[k] for k in ("rejected", "loss_weights") if k in d}
            s = Sample.from_dict(d, meta=meta)
            (by_stage.setdefault(d["stage"], []) if d.get("stage") else plain).append(s)
    return by_stage if spec.stages else plain


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m app.training.cli", description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", type=Path, required=True)
    ap.add_argument("--samples", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)

    from app.training.runner import run_training
    from app.training_spec.formatting import DataValidationError

    spec = TrainingSpec.model_validate_json(args.spec.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    progress = args.out / PROGRESS_FILE

    def on_progress(event: dict) -> None:
        with progress.open("a") as f:
            f.write(json.dumps(event, default=str) + "\n")

    try:
        result = run_training(
            spec, read_samples(args.samples, spec), args.out, on_progress, lambda: (args.out / STOP_FILE).exists()
        )
    except DataValidationError as err:
        (args.out / ERROR_FILE).write_text(json.dumps({"row": err.row, "error": str(err)}))
        print(f"refused: {err}", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_COMPLETED if result["status"] == "completed" else EXIT_STOPPED


if __name__ == "__main__":
    sys.exit(main())
