"""The closed loop on real data: audit → curate → train the same recipe on the curated subset and on
its random and longest-answers baselines → held-out loss side by side, all through the API.

    python bench/closed_loop.py [--rows 52002] [--budget 2000] [--held-out 300] [--steps 0]

Runs in-process (FastAPI TestClient + a worker) on a temporary SQLite database. The model is a small
random-init Llama with a BPE tokenizer trained here on the dataset's own text (no download), trained
on CPU; pass --base-model to use a real local model directory instead (e.g. on a GPU machine).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from app.api.main import create_app
from app.db.session import session_scope
from app.jobs.worker import Worker
from app.services.auth import create_key
from app.settings import Settings
from bench._common import peak_rss_mb, shared_data
from bench._models import build_model

AUDIT_SCORERS = [
    "exact_duplicate",
    "duplicate_instruction",
    "near_duplicate",
    "junk_answer",
    "broken_answer",
    "text_damage",
    "unseen_content",
    "wrong_language",
    "extreme_length",
    "answer_quality",
    "difficulty",
    "language",
    "text_length",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=52002)
    ap.add_argument("--budget", type=int, default=2000)
    ap.add_argument("--held-out", type=int, default=300)
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--base-model", default=None)
    args = ap.parse_args()
    rows = json.loads((shared_data() / "stanford_alpaca" / "alpaca_data.json").read_text())
    if args.rows < len(rows):
        rows = random.Random(0).sample(rows, args.rows)
    tmp = Path(tempfile.mkdtemp(prefix="sftaudit-loop-"))
    base = args.base_model or str(build_model(rows, tmp / "model", args.hidden, args.layers))
    settings = Settings(database_url=f"sqlite:///{tmp / 'db.sqlite'}", storage={"data_dir": tmp / "data"})
    t_all = time.perf_counter()
    with TestClient(create_app(settings)) as c:
        with session_scope(settings.db_url) as s:
            key, _ = create_key(s)
        c.headers["Authorization"] = f"Bearer {key}"
        worker = Worker(settings)
        t = time.perf_counter()
        ds = c.post("/v1/datasets", files={"file": ("alpaca.json", json.dumps(rows).encode())}).json()
        print(f"uploaded {ds['rows']} rows in {time.perf_counter() - t:.1f}s")
        t = time.perf_counter()
        audit = c.post(f"/v1/datasets/{ds['id']}/audits", json={"scorers": AUDIT_SCORERS}).json()
        worker.run_once()
        audit = c.get(f"/v1/audits/{audit['id']}").json()
        print(
            f"audit {audit['status']} in {time.perf_counter() - t:.1f}s; flags: "
            + ", ".join(f"{k} {v}" for k, v in sorted(audit["report"]["flags"].items(), key=lambda kv: -kv[1])[:8])
        )
        policy = {
            "drop_severities": ["error"],
            "dedupe": True,
            "budget": {"rows": args.budget},
            "diversity_threshold": "auto",
            "rank_by": "overall",
        }
        t = time.perf_counter()
        cur = c.post(f"/v1/datasets/{ds['id']}/curations", json={"audit_id": audit["id"], "policy": policy}).json()
        worker.run_once()
        cur = c.get(f"/v1/curations/{cur['id']}").json()
        print(
            f"curation {cur['status']} in {time.perf_counter() - t:.1f}s: kept {cur['counts']['kept']} of "
            f"{cur['counts']['input_rows']}; dropped by reason {cur['counts']['dropped_by_reason']}"
        )
        spec = {
            "base_model": base,
            "method": "full",
            "epochs": args.epochs,
            "batch_size": 16,
            "lr": 1e-3,
            "max_length": 256,
            "overlength": "drop",
            "warmup_ratio": 0.05,
            "save_steps": 1000,
            "seed": 0,
        }
        exp = c.post("/v1/experiments", json={"curation_id": cur["id"], "spec": spec, "held_out_rows": args.held_out})
        if exp.status_code != 202:
            raise SystemExit(f"experiment refused: {exp.status_code} {exp.text}")
        exp = exp.json()
        for _ in exp["arms"]:
            t = time.perf_counter()
            worker.run_once()
            print(f"  trained one arm in {time.perf_counter() - t:.0f}s")
        exp = c.get(f"/v1/experiments/{exp['id']}").json()
    print(
        f"\nclosed loop on Alpaca ({len(rows)} rows → {args.budget}), model {Path(base).name}, "
        f"{args.epochs} epochs, held-out {args.held_out} rows; status {exp['status']}"
    )
    print(f"{'arm':<9} {'rows':>5} {'held-out loss':>14} {'token acc':>10} {'loss / random':>14}")
    ref = exp["arms"]["random"]["held_out_loss"]
    for arm in ("curated", "random", "longest"):
        a = exp["arms"][arm]
        print(
            f"{arm:<9} {a['rows']:>5} {a['held_out_loss']:>14.4f} {a['held_out_accuracy']:>10.4f} "
            f"{a['held_out_loss'] / ref:>13.3f}x"
        )
    print(f"total {time.perf_counter() - t_all:.0f}s, peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
