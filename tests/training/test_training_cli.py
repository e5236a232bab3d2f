"""The job as a child process: exit codes, stop file, refusal, and data-parallel launch (gloo on CPU)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

from training_factories import memorisable

from app.training.cli import EXIT_COMPLETED, EXIT_REFUSED, EXIT_STOPPED, main, write_samples
from app.training.launch import launch_command
from app.training_spec.spec import TrainingSpec
from scorers.samples import Sample, Turn

ROOT = Path(__file__).resolve().parents[2]


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def job_files(tmp_path, model, rows, **kw):
    spec = TrainingSpec(base_model=str(model), method="lora", lr=3e-2, batch_size=2, save_steps=1, **kw)
    (tmp_path / "spec.json").write_text(spec.model_dump_json())
    write_samples(tmp_path / "samples.jsonl", rows)
    return tmp_path / "spec.json", tmp_path / "samples.jsonl", tmp_path / "out"


def training_steps(out: Path) -> list[int]:
    events = [json.loads(x) for x in (out / "progress.jsonl").read_text().splitlines()]
    return [e["step"] for e in events if e["phase"] == "training"]


def cli_args(argv: list[str]) -> list[str]:
    return argv[argv.index("--spec") :]


def test_job_entry_stops_on_stop_file_and_resumes(chat_model, tmp_path):
    """In-process for speed: the argv is the one launch_command builds."""
    spec, samples, out = job_files(tmp_path, chat_model, memorisable(8), max_steps=4)
    out.mkdir()
    (out / "STOP").touch()
    assert main(cli_args(launch_command(spec, samples, out))) == EXIT_STOPPED
    assert training_steps(out) == [1]
    (out / "STOP").unlink()
    assert main(cli_args(launch_command(spec, samples, out))) == EXIT_COMPLETED
    assert training_steps(out) == [1, 2, 3, 4]
    assert json.loads((out / "final" / "result.json").read_text())["steps"] == 4


def test_job_entry_refuses_bad_rows_with_exit_code_and_row(chat_model, tmp_path, capsys):
    rows = memorisable(3) + [Sample(41, (Turn("user", "no answer here"),))]
    spec, samples, out = job_files(tmp_path, chat_model, rows, max_steps=2)
    assert main(cli_args(launch_command(spec, samples, out))) == EXIT_REFUSED
    assert json.loads((out / "error.json").read_text())["row"] == 41
    assert "row 41" in capsys.readouterr().err


def test_multi_stage_and_reward_samples_round_trip(tmp_path):
    from app.training.cli import read_samples

    spec = TrainingSpec(base_model="m", stages=[{"name": "a"}, {"name": "b"}])
    rows = {"a": memorisable(2), "b": [Sample(5, (Turn("user", "q"), Turn("assistant", "x")), meta={"rejected": "y"})]}
    write_samples(tmp_path / "s.jsonl", rows)
    back = read_samples(tmp_path / "s.jsonl", spec)
    assert [s.to_dict() for s in back["a"]] == [s.to_dict() for s in rows["a"]]
    assert back["b"][0].meta == {"rejected": "y"}


def test_two_process_data_parallel_run_equals_one_process_with_accumulation(chat_model, tmp_path):
    """Rank r takes micro-batch 2s+r at step s: the same batches as one process accumulating 2."""
    import torch
    from safetensors.torch import load_file

    # 12 rows, batch 2 -> 6 micro-batches per epoch; 2 ranks -> 3 optimiser steps per epoch
    spec, samples, out = job_files(tmp_path, chat_model, memorisable(12), epochs=1, lora_dropout=0.0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = launch_command(spec, samples, out, num_gpus=2, master_port=port)
    assert cmd[1:4] == ["-m", "torch.distributed.run", "--master-port"]
    proc = run(cmd)
    assert proc.returncode == EXIT_COMPLETED, proc.stderr[-3000:]
    assert training_steps(out) == [1, 2, 3]  # rank 0 alone reports, once per step
    prov = json.loads((out / "final" / "provenance.json").read_text())
    assert prov["world_size"] == 2
    assert (out / "final" / "adapter_model.safetensors").is_file()

    single_dir = tmp_path / "single"
    single_dir.mkdir()
    spec1, samples1, out1 = job_files(
        single_dir, chat_model, memorisable(12), epochs=1, lora_dropout=0.0, gradient_accumulation_steps=2
    )
    assert main(cli_args(launch_command(spec1, samples1, out1))) == EXIT_COMPLETED
    assert training_steps(out1) == [1, 2, 3]
    a = load_file(out / "final" / "adapter_model.safetensors")
    b = load_file(out1 / "final" / "adapter_model.safetensors")
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-5, rtol=1e-4)
