"""Memory of a large upload: the API process's peak RSS growth while it takes a ~1 GB JSONL file.

    python bench/upload_memory.py [--mb 1000] [--db sqlite|postgresql]

Starts the real API (uvicorn) in a child process, streams the generated file to it over HTTP
(multipart), and reads the child's VmHWM (peak RSS) from /proc before and after.
Goal (issue 2): peak RSS growth ≤ 300 MB.  Baseline printed beside it: the file size (what an
API that buffered the upload in memory would need at the least).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def make_file(path: Path, target_bytes: int) -> int:
    rng = random.Random(0)
    words = "the of and to in is that for it as with was on be by this are from at or an have not which".split()
    rows = 0
    with path.open("w", encoding="utf-8") as f:
        size = 0
        while size < target_bytes:
            ins = " ".join(rng.choices(words, k=rng.randint(5, 30)))
            out = " ".join(rng.choices(words, k=rng.randint(20, 120)))
            line = json.dumps({"instruction": ins.capitalize() + "?", "input": "", "output": out + "."}) + "\n"
            f.write(line)
            size += len(line)
            rows += 1
    return rows


def vm(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=1000)
    ap.add_argument("--db", default="sqlite")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sftaudit-upload-"))
    src = tmp / "big.jsonl"
    t0 = time.perf_counter()
    rows = make_file(src, args.mb * 1_000_000)
    print(f"generated {src.stat().st_size / 1e6:.0f} MB, {rows} rows in {time.perf_counter() - t0:.0f}s")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = (
        f"sqlite:///{tmp / 'db.sqlite'}"
        if args.db == "sqlite"
        else "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    env = {
        **os.environ,
        "SFTAUDIT_DATABASE_URL": db,
        "SFTAUDIT_STORAGE__DATA_DIR": str(tmp / "data"),
        "PYTHONPATH": str(ROOT),
    }
    api = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        key = None
        while key is None:
            line = api.stdout.readline()
            if "Bearer " in line:
                key = line.split("Bearer ", 1)[1].strip()
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}, timeout=3600
        ) as c:
            while True:
                try:
                    c.get("/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            c.get("/v1/datasets")  # warm every import the upload path needs
            before = vm(api.pid, "VmHWM")
            t0 = time.perf_counter()
            with src.open("rb") as f:
                r = c.post("/v1/datasets", files={"file": ("big.jsonl", f, "application/x-ndjson")})
            dt = time.perf_counter() - t0
            peak = vm(api.pid, "VmHWM")
        r.raise_for_status()
        ds = r.json()
        mb = src.stat().st_size / 1e6
        print(
            f"stored {ds['rows']} rows in {dt:.0f}s ({ds['rows'] / dt:.0f} rows/s, {mb / dt:.1f} MB/s) into {args.db}"
        )
        print(
            f"API peak RSS before {before:.0f} MB, after {peak:.0f} MB: growth {peak - before:.0f} MB "
            f"= {(peak - before) / mb:.3f}x the file size (goal: <= 300 MB)"
        )
    finally:
        api.terminate()
        api.wait(30)
        for p in sorted(tmp.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        tmp.rmdir()


if __name__ == "__main__":
    main()
