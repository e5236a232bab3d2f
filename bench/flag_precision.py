"""Adjudicated precision of every flag code on a panel of real datasets (issue #12).

    python bench/flag_precision.py run [--datasets a,b] [--work DIR]   # audit the panel, every flag kept
    python bench/flag_precision.py run --only answer_ending --lm DIR --lm-budget 400   # the LM's flags, 400 reads a set
    python bench/flag_precision.py packets [--out DIR]                 # rows still to adjudicate, to read
    python bench/flag_precision.py table [--write]                     # precision per code and dataset

``run`` audits each panel dataset with the product's own ingest and every default scorer, with the
precision gate off (adjudication must see every flag the detectors raise), and keeps each row's flags in
``WORK/<dataset>/flags.jsonl``.

The sample: for each dataset and code, up to ``PER_CODE`` (15) flagged rows, the ones with the smallest
seeded hash of (dataset, row, code). A hash order (not a random draw over the flagged rows) keeps the
sample stable when a change adds or removes a few flags, so verdicts already given are reused and only
rows new to the sample need reading.

Verdicts live in ``bench/flag_verdicts.jsonl``, one per (dataset, row, code): ``right`` / ``wrong`` /
``debatable`` with a one-line reason written by whoever read the row. They are never produced from a
detector's output. ``packets`` writes the sampled rows that have no verdict yet, with the whole row and
the rows its flag points at, for people to read.

``table`` prints, per code and dataset: flags raised, rows adjudicated, precision with its 95% Wilson
interval; the pooled precision per code (verdicts pooled over datasets; ``debatable`` counts as not
right); the ceiling the gate allows; and per dataset the precision of the warning/error flags a user sees
(each code weighted by how often it is raised there) beside the share of rows flagged. ``--write`` stores
the figures in ``scorers/flag_precision.json``, which the gate and ``GET /v1/scorers`` read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._load import DATA  # noqa: E402
from scorers import flags as flag_table  # noqa: E402
from scorers.base import Flag  # noqa: E402

VERDICTS = ROOT / "bench" / "flag_verdicts.jsonl"
PRECISION = ROOT / "scorers" / "flag_precision.json"
DOC = ROOT / "docs" / "flag-precision.md"
WORK = Path(os.environ.get("SFTAUDIT_PANEL_WORK", "/tmp/sftaudit-panel"))
PER_CODE = 15
SEED = 12
VERDICT_VALUES = ("right", "wrong", "debatable")


@dataclass(frozen=True)
class PanelSet:
    key: str
    path: str
    lang: str
    written_by: str  # "human" | "model" | "mixed"
    format: str | None = None


PANEL: tuple[PanelSet, ...] = (
    PanelSet("alpaca", "stanford_alpaca/alpaca_data.json", "en", "model"),
    PanelSet("dolly", "alpagasus/dolly_3k.json", "en", "human"),
    PanelSet("lima", "llama_factory/lima.json", "en", "human"),
    PanelSet("code_alpaca", "codealpaca/code_alpaca_2k.json", "en", "model"),
    PanelSet("gsm8k", "gsm8k_alpaca_format/gsm_8k_train.json", "en", "human"),
    PanelSet("toolformer", "gpteacher_toolformer/toolformer-dedupe-only-dataset.json", "en", "model"),
    PanelSet("zh_alpaca", "alpaca_chinese_carbonz0/zh-data-part-00.json", "zh", "model"),
    PanelSet("belle_dev", "belle/dev1K.json", "zh", "model"),
    PanelSet("oasst_zh", "llama_factory/oaast_sft_zh.json", "zh", "human"),
    PanelSet("hh_chosen", "hh_rlhf/harmless-base/test.jsonl.gz", "en", "mixed", "preference"),
)
BY_KEY = {p.key: p for p in PANEL}


# --- run -------------------------------------------------------------------------------------------------------------


def run(
    keys: list[str],
    work: Path,
    cache: str | None,
    only: list[str] | None = None,
    lm: str | None = None,
    lm_budget: int | None = None,
) -> None:
    """Audit each panel dataset (gate off) and store its flags.  ``only``: re-run just these scorers and replace
    their codes' flags in the stored ones (after a change to one scorer, the rest of the panel still holds).  ``lm``:
    the language model the model-signal scorers read (``answer_ending``: at most ``lm_budget`` answers a set, seeded)."""
    from app.local import read_file_samples
    from app.settings import Settings
    from scorers.pipeline import run_audit

    settings = Settings()
    models = settings.model_config_for_scorers()
    if lm:
        models = models.model_copy(update={"language_model": lm})
    params = {"answer_ending": {"max_answers": lm_budget}} if lm_budget else {}
    for key in keys:
        ds = BY_KEY[key]
        t0 = time.perf_counter()
        samples, info = read_file_samples(DATA / ds.path, settings, format=ds.format)
        out = run_audit(
            samples,
            models=models,
            seed=0,
            cache_dir=cache or str(settings.storage.cache),
            dataset_info=info,
            gate_flags=False,
            params=params,
            **({"scorers": only} if only else {}),
        )
        d = work / key
        d.mkdir(parents=True, exist_ok=True)
        kept: dict[int, list[dict[str, Any]]] = {}
        if only:  # the other scorers' flags as stored, this scorer's anew
            kept = {
                row: [f for f in fl if (sp := flag_table.spec(f["code"])) is None or sp.scorer not in only]
                for row, fl in load_flags(work, key).items()
            }
        with (d / "flags.jsonl").open("w", encoding="utf-8") as fh:
            for rec in out.samples:
                fl = kept.get(rec["index"], []) + rec["flags"]
                fh.write(json.dumps({"index": rec["index"], "flags": fl}, ensure_ascii=False) + "\n")
        if not only:
            (d / "report.json").write_text(out.report_json(), encoding="utf-8")
        print(
            f"{key}: {len(samples)} rows, {sum(out.report['flags'].values())} flags"
            f"{' of ' + ', '.join(only) if only else ''}, {time.perf_counter() - t0:.0f} s",
            flush=True,
        )


# --- the sample ------------------------------------------------------------------------------------------------------


def _rank(key: str, row: int, code: str) -> str:
    return hashlib.sha1(f"{SEED}:{key}:{row}:{code}".encode()).hexdigest()


def load_flags(work: Path, key: str) -> dict[int, list[dict[str, Any]]]:
    path = work / key / "flags.jsonl"
    out: dict[int, list[dict[str, Any]]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            out[rec["index"]] = rec["flags"]
    return out


def sample(flags: dict[int, list[dict[str, Any]]], key: str) -> dict[str, list[int]]:
    """code → the sampled rows (up to PER_CODE flagged rows with the smallest seeded hash)."""
    rows_by_code: dict[str, set[int]] = defaultdict(set)
    for row, fl in flags.items():
        for f in fl:
            rows_by_code[flag_table.canonical(f["code"])].add(row)
    return {
        code: sorted(rows, key=lambda r: _rank(key, r, code))[:PER_CODE] for code, rows in sorted(rows_by_code.items())
    }


def load_verdicts(path: Path = VERDICTS) -> dict[tuple[str, int, str], dict[str, Any]]:
    out: dict[tuple[str, int, str], dict[str, Any]] = {}
    if not path.exists():
        return out
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        v = json.loads(line)
        if v["verdict"] not in VERDICT_VALUES:
            raise ValueError(f"{path}:{n}: verdict must be one of {VERDICT_VALUES}, not {v['verdict']!r}")
        if not str(v.get("reason", "")).strip():
            raise ValueError(f"{path}:{n}: every verdict needs its one-line reason")
        out[(v["dataset"], int(v["row"]), flag_table.canonical(v["code"]))] = v  # a later line overrides
    return out


# --- packets for adjudication ----------------------------------------------------------------------------------------


def _rows(ds: PanelSet) -> list[dict[str, Any]]:
    from app.local import read_file_samples
    from app.settings import Settings

    samples, _ = read_file_samples(DATA / ds.path, Settings(), format=ds.format)
    return [
        {
            "index": s.index,
            "system": s.system,
            "turns": [[t.role, t.content] for t in s.turns],
            "original": s.meta.get("original"),
        }
        for s in samples
    ]


def _clip(text: Any, limit: int) -> Any:
    if isinstance(text, str) and len(text) > limit:
        return text[:limit] + f" …[{len(text) - limit} more characters]"
    return text


def packets(work: Path, out: Path, keys: list[str]) -> None:
    verdicts = load_verdicts()
    out.mkdir(parents=True, exist_ok=True)
    for key in keys:
        ds = BY_KEY[key]
        flags = load_flags(work, key)
        todo = [
            (code, row) for code, rows in sample(flags, key).items() for row in rows if (key, row, code) not in verdicts
        ]
        if not todo:
            continue
        rows = _rows(ds)
        with (out / f"{key}.jsonl").open("w", encoding="utf-8") as fh:
            for code, row in todo:
                mine = [f for f in flags[row] if flag_table.canonical(f["code"]) == code]
                spec = flag_table.spec(code)
                related = sorted({r for f in mine for r in f.get("related", [])})[:3]
                packet = {
                    "dataset": key,
                    "row": row,
                    "code": code,
                    "claim": spec.meaning if spec else code,
                    "flag_reasons": [f["reason"] for f in mine],
                    "sample": {
                        **rows[row],
                        "turns": [[r, _clip(t, 6000)] for r, t in rows[row]["turns"]],
                        "original": None,
                    },
                    "related_rows": [
                        {"index": r, "turns": [[x, _clip(t, 1500)] for x, t in rows[r]["turns"]]}
                        for r in related
                        if r < len(rows) and spec and spec.kind != "reference"
                    ],
                }
                fh.write(json.dumps(packet, ensure_ascii=False) + "\n")
        print(f"{key}: {len(todo)} rows to adjudicate → {out / (key + '.jsonl')}")


# --- the table ---------------------------------------------------------------------------------------------------------


def _figures(right: int, n: int) -> dict[str, Any]:
    lo, hi = flag_table.wilson_interval(right, n)
    return {
        "right": right,
        "verdicts": n,
        "precision": round(right / n, 4) if n else None,
        "low": round(lo, 4),
        "high": round(hi, 4),
    }


def table(work: Path, keys: list[str], write: bool) -> dict[str, Any]:
    verdicts = load_verdicts()
    per_code: dict[str, dict[str, Any]] = defaultdict(lambda: {"datasets": {}})
    per_set: dict[str, dict[str, Any]] = {}
    missing = 0
    for key in keys:
        flags = load_flags(work, key)
        raised = Counter(flag_table.canonical(f["code"]) for fl in flags.values() for f in fl)
        shown = Counter(
            flag_table.canonical(f["code"])
            for fl in flags.values()
            for f in fl
            if (g := flag_table.gate(Flag.from_dict(f))) is not None and g.severity != "info"
        )
        rows_shown = sum(
            1
            for fl in flags.values()
            if any((g := flag_table.gate(Flag.from_dict(f))) is not None and g.severity != "info" for f in fl)
        )
        rows_flagged = Counter(
            flag_table.canonical(f["code"]) for fl in flags.values() for f in {x["code"]: x for x in fl}.values()
        )
        for code, rows in sample(flags, key).items():
            got = [verdicts.get((key, r, code)) for r in rows]
            missing += sum(v is None for v in got)
            vs = Counter(v["verdict"] for v in got if v is not None)
            n = sum(vs.values())
            per_code[code]["datasets"][key] = {
                "raised": raised[code],
                "rows_flagged": rows_flagged[code],
                "sampled": rows,
                "rows_read": [r for r, v in zip(rows, got) if v is not None],
                "wrong": vs["wrong"],
                "debatable": vs["debatable"],
                **_figures(vs["right"], n),
            }
        per_set[key] = {"rows": len(flags), "raised": dict(raised), "shown": dict(shown), "rows_shown": rows_shown}
    codes: dict[str, Any] = {}
    for code, entry in sorted(per_code.items()):
        ds = entry["datasets"]
        right = sum(d["right"] for d in ds.values())
        n = sum(d["verdicts"] for d in ds.values())
        pooled = {
            **_figures(right, n),
            "wrong": sum(d["wrong"] for d in ds.values()),
            "debatable": sum(d["debatable"] for d in ds.values()),
            "raised": sum(d["raised"] for d in ds.values()),
            "allowed": flag_table.ceiling_for(right, n),
        }
        codes[code] = {"pooled": pooled, "datasets": ds}
    result = {
        "panel": [p.key for p in PANEL if p.key in keys],
        "per_code_sample": PER_CODE,
        "seed": SEED,
        "codes": codes,
    }
    _print(result, per_set, missing)
    result["per_set"] = per_set
    if write:
        slim = {
            **result,
            "codes": {
                c: {
                    "pooled": e["pooled"],
                    "datasets": {k: {x: v for x, v in d.items() if x != "sampled"} for k, d in e["datasets"].items()},
                }
                for c, e in codes.items()
            },
        }
        slim.pop("per_set", None)
        PRECISION.write_text(json.dumps(slim, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {PRECISION}")
        DOC.write_text(markdown(result), encoding="utf-8")
        print(f"wrote {DOC}")
    return result


def _print(result: dict[str, Any], per_set: dict[str, Any], missing: int) -> None:
    def pct(x: float | None) -> str:
        return "  –  " if x is None else f"{x:5.2f}"

    print(f"{'code':28} {'dataset':12} {'raised':>7} {'read':>5} {'prec':>5}  95% interval   wrong deb")
    for code, e in result["codes"].items():
        for key, d in e["datasets"].items():
            print(
                f"{code:28} {key:12} {d['raised']:7d} {d['verdicts']:5d} {pct(d['precision'])}  "
                f"[{d['low']:.2f}, {d['high']:.2f}]  {d['wrong']:5d} {d['debatable']:3d}"
            )
        p = e["pooled"]
        spec = flag_table.spec(code)
        print(
            f"{code:28} {'POOLED':12} {p['raised']:7d} {p['verdicts']:5d} {pct(p['precision'])}  "
            f"[{p['low']:.2f}, {p['high']:.2f}]  {p['wrong']:5d} {p['debatable']:3d}   allowed: {p['allowed']}, "
            f"declared: {spec.ceiling if spec else '?'}"
        )
    print()
    print(
        "what a user sees, per dataset (flags at warning/error after the gate; precision weights each code "
        "by its count there):"
    )
    print(f"{'dataset':12} {'rows':>7} {'rows w/e':>9} {'share':>6} {'w/e flags':>9} {'est. precision':>15}")
    for key, s in per_set.items():
        total, precision, unknown = _user_view(result, key, s)
        est = float("nan") if precision is None else precision
        print(
            f"{key:12} {s['rows']:7d} {s['rows_shown']:9d} {s['rows_shown'] / max(s['rows'], 1):6.1%} {total:9d} "
            f"{est:15.3f}" + (f"  ({unknown} flags of codes without verdicts here)" if unknown else "")
        )
    if missing:
        print(f"\n{missing} sampled rows have no verdict yet (run `packets`).")


def _user_view(result: dict[str, Any], key: str, s: dict[str, Any]) -> tuple[int, float | None, int]:
    """(warning/error flags shown, their estimated precision, flags of codes without verdicts there)."""
    total = sum(s["shown"].values())
    right = 0.0
    unknown = 0
    for code, count in s["shown"].items():
        d = result["codes"].get(code, {}).get("datasets", {}).get(key)
        if d and d["verdicts"]:
            right += count * d["right"] / d["verdicts"]
        else:
            unknown += count
    return total, (right / (total - unknown) if total - unknown else None), unknown


def markdown(result: dict[str, Any]) -> str:
    """docs/flag-precision.md: the published table (written by ``table --write``; do not edit by hand)."""

    def f(x: float | None) -> str:
        return "–" if x is None else f"{x:.2f}"

    lines = [
        "# Flag precision: how often each flag code is right",
        "",
        "Generated by `python bench/flag_precision.py table --write` — do not edit by hand. Each figure is the",
        "share of a code's flags that a person found right after reading the row (verdicts with their one-line",
        "reasons in `bench/flag_verdicts.jsonl`; `debatable` counts as not right), on a seeded sample of up to",
        f"{result['per_code_sample']} flagged rows per code and dataset of the panel: {', '.join(result['panel'])}.",
        "The gate (`scorers/flags.py`) shows a code at warning/error only where its pooled precision is ≥ 0.90 from at",
        "least 10 verdicts (and its 95% Wilson lower bound ≥ 0.75 once 30 exist), as info from 0.60, and not at all",
        "below. The panel's flags are the code's as of the commit that wrote this file (`run`, or `run --only` for",
        "one changed scorer).",
        "",
        "| code | ceiling | pooled precision | 95% interval | read | raised on the panel | per dataset (right/read) |",
        "|---|---|---|---|---|---|---|",
    ]
    for code, e in sorted(result["codes"].items()):
        p = e["pooled"]
        spec = flag_table.spec(code)
        per = ", ".join(f"{k} {d['right']}/{d['verdicts']}" for k, d in e["datasets"].items() if d["verdicts"])
        lines.append(
            f"| `{code}` | {spec.ceiling if spec else '?'} | {f(p['precision'])} | [{f(p['low'])}, {f(p['high'])}] "
            f"| {p['verdicts']} | {p['raised']:,} | {per} |"
        )
    never = sorted(c for c in flag_table.FLAG_CODES if c not in result["codes"])
    if never:
        lines += [
            "",
            "Never raised on the panel (not measured, so at most info): " + ", ".join(f"`{c}`" for c in never) + ".",
        ]
    lines += [
        "",
        "## What a user sees, per dataset",
        "",
        "Warning/error flags after the gate; their precision weights each code by how often it is raised there.",
        "",
        "| dataset | rows | rows with a warning/error | share | warning/error flags | est. precision |",
        "|---|---|---|---|---|---|",
    ]
    for key, s in result.get("per_set", {}).items():
        total, est, unknown = _user_view(result, key, s)
        lines.append(
            f"| {key} | {s['rows']:,} | {s['rows_shown']:,} | {s['rows_shown'] / max(s['rows'], 1):.1%} | "
            f"{total:,} | {f(est)}{f' ({unknown} unread)' if unknown else ''} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=("run", "packets", "table"))
    ap.add_argument("--datasets", default=",".join(p.key for p in PANEL))
    ap.add_argument("--work", type=Path, default=WORK)
    ap.add_argument("--cache", default=None, help="embedding cache dir (default: the settings' cache)")
    ap.add_argument("--out", type=Path, default=WORK / "packets")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--only", default=None, help="run: re-run just these scorers (comma-separated) over stored flags")
    ap.add_argument(
        "--lm",
        default=None,
        help="run: a causal LM directory for the model-signal scorers (python -m bench._gemma DIR)",
    )
    ap.add_argument("--lm-budget", type=int, default=None, help="run: answers answer_ending reads per set (seeded)")
    args = ap.parse_args()
    keys = [k.strip() for k in args.datasets.split(",") if k.strip()]
    unknown = sorted(set(keys) - set(BY_KEY))
    if unknown:
        sys.exit(f"unknown panel datasets: {', '.join(unknown)}; known: {', '.join(BY_KEY)}")
    if args.command == "run":
        only = [x for x in args.only.split(",") if x] if args.only else None
        run(keys, args.work, args.cache, only, args.lm, args.lm_budget)
    elif args.command == "packets":
        packets(args.work, args.out, keys)
    else:
        table(args.work, keys, args.write)


if __name__ == "__main__":
    main()
