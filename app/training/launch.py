"""The command line the worker runs for a job: one process, or one per GPU under torchrun.

Pure python (no torch import), so the worker can build it without loading model code.
"""

from __future__ import annotations

import sys
from pathlib import Path


def launch_command(
    spec_path: Path,
    samples_path: Path,
    out_dir: Path,
    num_gpus: int = 1,
    python: str = sys.executable,
    master_port: int | None = None,
) -> list[str]:
    """argv for ``subprocess.Popen``: run the job in a child process.

    ``num_gpus`` > 1 launches one process per GPU with ``torch.distributed.run`` (torchrun; the same
    thing ``accelerate launch --multi_gpu`` does for a DDP script); the loop then trains data-parallel.
    """
    job = ["-m", "app.training.cli", "--spec", str(spec_path), "--samples", str(samples_path), "--out", str(out_dir)]
    if num_gpus <= 1:
        return [python, *job]
    rdzv = ["--standalone"] if master_port is None else ["--master-port", str(master_port)]
    return [python, "-m", "torch.distributed.run", *rdzv, f"--nproc-per-node={num_gpus}", *job]
