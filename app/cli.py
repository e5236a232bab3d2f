"""The ``sftaudit`` command: serve, worker, keys, audit (one-shot, no server), migrate."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(help="Audit supervised fine-tuning datasets, curate them, fine-tune on them.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


def _settings():
    from app.settings import get_settings

    return get_settings()


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from app.db.migrate import upgrade

    s = _settings()
    s.storage.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(s.db_url)
    typer.echo(f"database at {s.db_url.split('@')[-1]} is up to date")


@keys_app.command("create")
def keys_create(project: Annotated[str, typer.Option(help="Project the key belongs to.")] = "default",
                name: Annotated[str, typer.Option(help="A label for the key.")] = "") -> None:
    """Create an API key and print it (it is shown only once)."""
    from app.db.migrate import upgrade
    from app.db.session import session_scope
    from app.services.auth import create_key

    s = _settings()
    s.storage.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(s.db_url)
    with session_scope(s.db_url) as session:
        plain, _ = create_key(session, project, name)
    typer.echo(plain)


@app.command()
def worker(once: Annotated[bool, typer.Option(help="Exit when the queue is empty.")] = False) -> None:
    """Run a worker that claims and runs jobs from the database (GPU machines join this way)."""
    from app.db.migrate import upgrade
    from app.jobs.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    s = _settings()
    s.storage.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(s.db_url)
    w = Worker(s)
    signal.signal(signal.SIGTERM, lambda *_: w.stop())
    typer.echo(f"worker {w.worker_id} polling {s.db_url.split('@')[-1]} for: {', '.join(w.handlers)}", err=True)
    w.run_forever(idle_exit=0.0 if once else None)


@app.command()
def serve(host: Annotated[Optional[str], typer.Option()] = None, port: Annotated[Optional[int], typer.Option()] = None,
          workers: Annotated[Optional[int], typer.Option(help="Local worker processes (default: settings).")] = None) -> None:
    """Start the API and local worker processes (SQLite + local workers by default)."""
    import uvicorn

    from app.db.migrate import upgrade
    from app.db.session import session_scope
    from app.services.auth import count_keys, create_key

    s = _settings()
    s.storage.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(s.db_url)
    with session_scope(s.db_url) as session:
        if count_keys(session) == 0:
            plain, _ = create_key(session, "default", "first key")
            typer.secho(f"\nNo API keys existed, so one was created for project 'default'. It is shown only once:\n\n"
                        f"    {plain}\n\nUse it as: Authorization: Bearer {plain}\n", fg="green")
    n = s.worker.concurrency if workers is None else workers
    procs = [subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=os.environ.copy()) for _ in range(n)]
    try:
        uvicorn.run("app.api.main:create_app", factory=True, host=host or s.host, port=port or s.port, log_level="info")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


@app.command()
def link(
    kind: Annotated[str, typer.Argument(help="audit | curation")],
    ident: Annotated[str, typer.Argument(help="The audit or curation id.")],
    base_url: Annotated[Optional[str], typer.Option(help="Where the API is reached (default: http://HOST:PORT from settings).")] = None,
) -> None:
    """Print signed browser links to a finished audit's report and sample browser, or a curation's report."""
    from app.db.migrate import upgrade
    from app.db.models import Audit, Job
    from app.db.session import session_scope
    from app.services.links import links_for

    s = _settings()
    upgrade(s.db_url)
    base = base_url or f"http://{s.host}:{s.port}"
    with session_scope(s.db_url) as session:
        if kind == "audit":
            row = session.get(Audit, ident)
            job = session.get(Job, row.job_id) if row else None
            paths = {"report": f"/v1/audits/{ident}/report.html", "browser": f"/v1/audits/{ident}/browser"}
        elif kind == "curation":
            job = session.get(Job, ident)
            job = job if job is not None and job.kind == "curation" else None
            paths = {"report": f"/v1/curations/{ident}/report.html"}
        else:
            raise typer.BadParameter("kind is 'audit' or 'curation'", param_hint="KIND")
        if job is None:
            typer.echo(f"no {kind} {ident}", err=True)
            raise typer.Exit(1)
        if job.status != "succeeded":
            typer.echo(f"{kind} {ident} is {job.status}; links open finished ones", err=True)
            raise typer.Exit(1)
    for name, url in links_for(s, base, **paths).items():
        typer.echo(f"{name}: {url}")


@app.command()
def audit(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Dataset file (JSON, JSONL, CSV, Parquet; .gz ok).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output directory for report.json and samples.jsonl.")] = Path("out"),
    scorers: Annotated[Optional[str], typer.Option(help="Comma-separated scorer names (default: all).")] = None,
    params: Annotated[Optional[str], typer.Option(help='Scorer parameters as JSON: {"scorer": {"param": value}}.')] = None,
    format: Annotated[Optional[str], typer.Option(help="Force the record format.")] = None,
    field_map: Annotated[Optional[str], typer.Option(help='Rename fields, JSON: {"instruction": "question"}.')] = None,
    on_error: Annotated[str, typer.Option(help="reject | skip bad rows.")] = "reject",
    seed: int = 0,
    reference: Annotated[Optional[Path], typer.Option(help="Reference set (question → answer) for external consistency.")] = None,
    full_tier_max_samples: Annotated[Optional[int], typer.Option(help=(
        "Embed every sample with the full encoder up to this many samples (default from settings: 10000); above "
        "it, duplicate/mismatch/relevance checks search on the aligned fast tier and verify on the full encoder."))] = None,
) -> None:
    """Audit a file without a server: writes OUT/report.json, OUT/samples.jsonl and OUT/report.html."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from app.errors import AppError
    from app.local import read_file_samples
    from scorers.pipeline import run_audit

    console = Console(stderr=True)
    s = _settings()
    try:
        samples, info = read_file_samples(file, s, format=format, field_map=json.loads(field_map) if field_map else None,
                                          on_error=on_error)
        ref = read_file_samples(reference, s)[0] if reference else None
    except AppError as e:
        console.print(f"[red]{e.message}[/red]")
        for err in e.errors:
            console.print(f"  {err.to_dict()}")
        raise typer.Exit(2) from None
    names = [n.strip() for n in scorers.split(",")] if scorers else None
    models = s.model_config_for_scorers()
    if full_tier_max_samples is not None:
        models = dataclasses.replace(models, full_tier_max_samples=full_tier_max_samples)
    _quiet_model_loading()
    t0 = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=console, transient=False) as bar:
        task = bar.add_task("scoring", total=1.0)
        result = run_audit(samples, names, json.loads(params) if params else None, models=models,
                           seed=seed, cache_dir=str(s.storage.cache), reference=ref, dataset_info=info,
                           progress=lambda f, step: bar.update(task, completed=f, description=step[:40]))
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(result.report_json(), encoding="utf-8")
    with (out / "samples.jsonl").open("w", encoding="utf-8") as fh:
        fh.writelines(result.samples_jsonl())
    from app.reporting.html import render_report_html, texts_from_samples

    html = render_report_html(result.report, result.samples, texts_from_samples(samples))
    (out / "report.html").write_text(html, encoding="utf-8")
    _summary(console, result.report, result.samples, time.perf_counter() - t0, out)


def _quiet_model_loading() -> None:
    """No transformers "Loading weights" bars under our own progress bar (they interleave with it)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # the [ml] extra is absent: no model loads, no bars
        return
    hf_logging.disable_progress_bar()


#: Rows of the CLI flag table given to info codes; error and warning codes are always all listed.
FLAG_TABLE_INFO_ROWS = 10
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


def flag_table_rows(samples: list[dict]) -> tuple[list[tuple[str, str, int, int]], int]:
    """(code, worst severity, samples, flags) for the CLI's flag table, and how many codes were left out.

    Every error and warning code is listed (worst first, then by samples); info codes fill up to
    ``FLAG_TABLE_INFO_ROWS`` more rows.
    """
    from app.reporting.view import flag_codes

    codes = sorted(flag_codes(samples, {}), key=lambda c: (_SEVERITY_RANK.get(c["severity"], 3), -c["samples"], c["code"]))
    serious = [c for c in codes if c["severity"] in ("error", "warning")]
    info = [c for c in codes if c["severity"] not in ("error", "warning")]
    shown = serious + info[:FLAG_TABLE_INFO_ROWS]
    return [(c["code"], c["severity"], c["samples"], c["count"]) for c in shown], len(codes) - len(shown)


def _summary(console, report: dict, samples: list[dict], seconds: float, out: Path) -> None:
    from rich.table import Table

    t = Table(title=f"{report['dataset']['rows']} rows audited in {seconds:.1f}s")
    t.add_column("dimension")
    t.add_column("score", justify="right")
    t.add_column("status")
    for dim, d in report["dimensions"].items():
        t.add_row(dim, "—" if d["score"] is None else f"{d['score']:.3f}", d["status"])
    console.print(t)
    rows, more = flag_table_rows(samples)
    if rows:
        colour = {"error": "red", "warning": "yellow"}
        f = Table(title="flags", caption=f"and {more} more (info) — all in report.html" if more else None)
        f.add_column("code")
        f.add_column("severity")
        f.add_column("samples", justify="right")
        f.add_column("flags", justify="right")
        for code, severity, n_samples, n_flags in rows:
            style = colour.get(severity)
            f.add_row(code, f"[{style}]{severity}[/{style}]" if style else severity, f"{n_samples:,}", f"{n_flags:,}")
        console.print(f)
    skipped = [r for r in report["scorers"] if r["status"] != "ok"]
    for r in skipped:
        console.print(f"[yellow]{r['name']}: {r['status']} — {r['reason']}[/yellow]")
    console.print(f"wrote {out / 'report.json'}, {out / 'samples.jsonl'} and {out / 'report.html'}")
    console.print(f"open in a browser: {(out / 'report.html').resolve().as_uri()}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
