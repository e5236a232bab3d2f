"""The ``sftaudit`` command: serve, worker, keys, audit (one-shot, no server), migrate."""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from pathlib import Path
from typing import Annotated

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


def _migrated_settings():
    from app.db.migrate import upgrade
    from app.db.session import configure

    s = _settings()
    s.storage.data_dir.mkdir(parents=True, exist_ok=True)
    configure(s.db_url, s.database)
    upgrade(s.db_url)
    return s


@keys_app.command("create")
def keys_create(
    project: Annotated[str, typer.Option(help="Project the key belongs to.")] = "default",
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    admin: Annotated[bool, typer.Option(help="Also allow the key-management routes (/v1/admin/keys).")] = False,
) -> None:
    """Create an API key and print it (it is shown only once)."""
    from app.db.session import session_scope
    from app.services.auth import create_key

    s = _migrated_settings()
    with session_scope(s.db_url) as session:
        plain, _ = create_key(session, project, name, "admin" if admin else "project")
    typer.echo(plain)


@keys_app.command("list")
def keys_list(project: Annotated[str | None, typer.Option(help="Only this project's keys.")] = None) -> None:
    """List API keys: id, prefix, project, scope, name, created, revoked (never the keys themselves)."""
    from app.db.session import session_scope
    from app.services.auth import list_keys

    s = _migrated_settings()
    with session_scope(s.db_url) as session:
        rows = list_keys(session, project)
        typer.echo("id\tprefix\tproject\tscope\tname\tcreated\trevoked")
        for k, p in rows:
            revoked = k.revoked_at.isoformat(timespec="seconds") + "Z" if k.revoked_at else "-"
            typer.echo(
                f"{k.id}\t{k.prefix}\t{p}\t{k.scope}\t{k.name or '-'}\t"
                f"{k.created_at.isoformat(timespec='seconds')}Z\t{revoked}"
            )


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="The key's id or its printed prefix (sfta_…).")]) -> None:
    """Revoke an API key: it is refused from its next request on."""
    from app.db.session import session_scope
    from app.errors import AppError
    from app.services.auth import revoke_key

    s = _migrated_settings()
    try:
        with session_scope(s.db_url) as session:
            row = revoke_key(session, key)
            typer.echo(f"revoked {row.id} ({row.prefix}…)")
    except AppError as e:
        typer.echo(e.message, err=True)
        raise typer.Exit(1) from None


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Exit when the queue is empty.")] = False,
    lane: Annotated[
        str | None, typer.Option(help="Take only the job kinds of this lane (settings worker.lanes).")
    ] = None,
    kinds: Annotated[str | None, typer.Option(help="Take only these job kinds (comma-separated).")] = None,
    parent_pid: Annotated[int | None, typer.Option(help="Stop when this process is gone (set by serve).")] = None,
) -> None:
    """Run a worker that claims and runs jobs from the database (GPU machines join this way).

    SIGTERM or SIGINT: the running job is handed back to the queue and the worker exits; a second
    signal hands it back at once.
    """
    from app.db.migrate import upgrade
    from app.jobs.worker import DB_ERRORS, Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    s = _settings()
    s.storage.data_dir.mkdir(parents=True, exist_ok=True)
    chosen = [k.strip() for k in kinds.split(",") if k.strip()] if kinds else None
    if lane is not None:
        if lane not in s.worker.lanes:
            typer.echo(f"unknown lane {lane!r}; configured: {', '.join(s.worker.lanes)}", err=True)
            raise typer.Exit(2)
        chosen = list(s.worker.lanes[lane]) or chosen
    try:
        w = Worker(s, kinds=chosen, lane=lane, parent_pid=parent_pid)
    except ValueError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    signals = {"n": 0}

    def on_signal(signum, _frame) -> None:  # noqa: ANN001
        signals["n"] += 1
        if signals["n"] == 1:
            w.stop()
        else:  # a second signal: hand the job back now
            w.hurry()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    delay = 1.0
    while not w.stopping():  # migrations need the database too: wait for it like the loop does
        try:
            upgrade(s.db_url)
            break
        except DB_ERRORS as e:
            typer.echo(f"database unavailable ({type(e).__name__}); retrying in {delay:.0f} s", err=True)
            time.sleep(delay)
            delay = min(delay * 2, s.worker.db_retry_max_seconds)
    typer.echo(
        f"worker {w.worker_id} (lane {lane or 'any'}) polling {s.db_url.split('@')[-1]} for: {', '.join(w.handlers)}",
        err=True,
    )
    w.run_forever(idle_exit=0.0 if once else None)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes per lane (default: worker.concurrency).")
    ] = None,
    lanes: Annotated[
        str | None,
        typer.Option(help="Lanes to start workers for, comma-separated (default: every lane in worker.lanes)."),
    ] = None,
) -> None:
    """Start the API and local worker processes (SQLite + local workers by default).

    Workers are supervised: one that dies is restarted (and the restart logged). SIGTERM or SIGINT
    stops the API and every worker (each hands its running job back to the queue).
    """
    import uvicorn

    from app.supervisor import Supervisor

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    s = _migrated_settings()
    from app.db.session import session_scope
    from app.services.auth import count_keys, create_key

    with session_scope(s.db_url) as session:
        if count_keys(session) == 0:
            plain, _ = create_key(session, "default", "first key", "admin")
            typer.secho(
                f"\nNo API keys existed, so an admin key was created for project 'default'. It is shown only "
                f"once:\n\n    {plain}\n\nUse it as: Authorization: Bearer {plain}\n",
                fg="green",
            )
    n = s.worker.concurrency if workers is None else workers
    chosen = [x.strip() for x in lanes.split(",") if x.strip()] if lanes else list(s.worker.lanes)
    unknown = [x for x in chosen if x not in s.worker.lanes]
    if unknown:
        typer.echo(f"unknown lane(s) {', '.join(unknown)}; configured: {', '.join(s.worker.lanes)}", err=True)
        raise typer.Exit(2)
    supervisor = Supervisor(
        {lane: n for lane in chosen} if n > 0 else {},
        backoff=s.worker.restart_backoff_seconds,
        grace=s.worker.stop_grace_seconds,
    )

    def stop_now(signum, _frame) -> None:  # noqa: ANN001
        # uvicorn restores this handler and re-raises the signal once it has shut down: leave through
        # the finally below (which stops the workers), never by the default action that kills us first.
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop_now)
    signal.signal(signal.SIGINT, stop_now)
    supervisor.start()
    try:
        uvicorn.run("app.api.main:create_app", factory=True, host=host or s.host, port=port or s.port, log_level="info")
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        supervisor.stop()


@app.command()
def link(
    kind: Annotated[str, typer.Argument(help="audit | curation")],
    ident: Annotated[str, typer.Argument(help="The audit or curation id.")],
    base_url: Annotated[
        str | None, typer.Option(help="Where the API is reached (default: http://HOST:PORT from settings).")
    ] = None,
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
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Dataset file (JSON, JSONL, CSV, Parquet; .gz ok).")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output directory for report.json and samples.jsonl.")
    ] = Path("out"),
    scorers: Annotated[str | None, typer.Option(help="Comma-separated scorer names (default: all).")] = None,
    params: Annotated[str | None, typer.Option(help='Scorer parameters as JSON: {"scorer": {"param": value}}.')] = None,
    format: Annotated[str | None, typer.Option(help="Force the record format.")] = None,
    field_map: Annotated[str | None, typer.Option(help='Rename fields, JSON: {"instruction": "question"}.')] = None,
    on_error: Annotated[str, typer.Option(help="reject | skip bad rows.")] = "reject",
    seed: int = 0,
    reference: Annotated[
        Path | None, typer.Option(help="Reference set (question → answer) for external consistency.")
    ] = None,
    full_tier_max_samples: Annotated[
        int | None,
        typer.Option(
            help=(
                "Embed every sample with the full encoder up to this many samples (default from settings: 1500); above "
                "it, duplicate/mismatch/relevance checks search on the aligned fast tier and verify on the full encoder."
            )
        ),
    ] = None,
) -> None:
    """Audit a file without a server: writes OUT/report.json, OUT/samples.jsonl and OUT/report.html."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from app.errors import AppError
    from app.jobs.executor import audit_backend
    from app.jobs.progress import Eta, format_eta
    from app.local import read_file_samples
    from scorers.pipeline import run_audit

    console = Console(stderr=True)
    s = _settings()
    try:
        samples, info = read_file_samples(
            file, s, format=format, field_map=json.loads(field_map) if field_map else None, on_error=on_error
        )
        ref = read_file_samples(reference, s)[0] if reference else None
    except AppError as e:
        console.print(f"[red]{e.message}[/red]")
        for err in e.errors:
            console.print(f"  {err.to_dict()}")
        raise typer.Exit(2) from None
    names = [n.strip() for n in scorers.split(",")] if scorers else None
    models = s.model_config_for_scorers()
    if full_tier_max_samples is not None:
        models = models.model_copy(update={"full_tier_max_samples": full_tier_max_samples})
    _quiet_model_loading()
    t0 = time.perf_counter()
    eta = Eta()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[eta]}"),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("scoring", total=1.0, eta="")

        def progress(fraction: float, step: str) -> None:  # the step, how far, and the time left (smoothed)
            bar.update(task, completed=fraction, description=step[:72], eta=format_eta(eta.update(fraction)))

        result = run_audit(
            samples,
            names,
            json.loads(params) if params else None,
            backend=audit_backend(s),
            models=models,
            seed=seed,
            cache_dir=str(s.storage.cache),
            reference=ref,
            dataset_info=info,
            progress=progress,
        )
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

    codes = sorted(
        flag_codes(samples, {}), key=lambda c: (_SEVERITY_RANK.get(c["severity"], 3), -c["samples"], c["code"])
    )
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
