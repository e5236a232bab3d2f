"""Run a set of scorers over normalised samples and assemble the report.

This is the one entry point shared by the CLI's one-shot audit, the worker's audit job and
notebooks.  The output is deterministic: the same samples, scorers, parameters and seed give
byte-identical ``report.json`` and ``samples.jsonl``.
"""

from __future__ import annotations

import ctypes
import functools
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scorers import flags as flag_table
from scorers._packed_rows import PackedRows
from scorers.backends import AuditBackend, LocalBackend
from scorers.base import (
    DIMENSIONS,
    RESERVED_FIELDS,
    SEVERITY_SCORE,
    Flag,
    NotComputed,
    Scorer,
    ScorerResult,
    flag_counts,
    get_scorer,
    registry,
)
from scorers.context import ProgressFn, ScoringContext, _no_progress, encode_cost
from scorers.models import ModelConfig
from scorers.samples import Sample
from scorers.text.memo import forget as forget_texts

REPORT_VERSION = 1
#: How the scorers of one dimension combine into the per-sample dimension score.
#: Noise takes the worst signal (one broken aspect makes a sample noisy); the others average.
COMBINE: dict[str, Callable[[list[float]], float]] = {
    "noise": min,
    "diversity": lambda xs: sum(xs) / len(xs),
    "answer_quality": lambda xs: sum(xs) / len(xs),
    "consistency": min,
    "difficulty": lambda xs: sum(xs) / len(xs),
}
ROUND = 6
#: the flags of a row a scorer says nothing about (most rows of most scorers): one shared, read-only empty sequence
#: instead of a new list per row and scorer. Every result is kept until the report is assembled, and 35 scorers' empty
#: lists and dicts were ~3 KB a row; read-only, so a change to one fails loudly. (The rows' fields are kept as a
#: :class:`~scorers._packed_rows.PackedRows`.)
NO_FLAGS: tuple[Flag, ...] = ()


@dataclass
class ScorerRun:
    name: str
    version: str
    dimension: str
    parameters: dict[str, Any]
    status: str  # "ok" | "not_computed" | "failed"
    reason: str | None
    result: ScorerResult | None
    #: flags the precision gate held back, by code (not shown: below the code's measured precision).
    held_back: dict[str, int] | None = None


@dataclass
class AuditOutput:
    report: dict[str, Any]
    samples: list[dict[str, Any]]

    def report_json(self) -> str:
        return dumps(self.report, indent=2)

    def samples_jsonl(self) -> Iterable[str]:
        for rec in self.samples:
            yield dumps(rec) + "\n"


def dumps(obj: Any, indent: int | None = None) -> str:
    return json.dumps(
        _clean(obj), ensure_ascii=False, sort_keys=True, indent=indent, separators=(",", ": ") if indent else (",", ":")
    )


def _clean(obj: Any) -> Any:
    """Round floats (stable bytes across runs and platforms) and make JSON-safe values."""
    if isinstance(obj, float):
        if math.isnan(obj) or math.isinf(obj):
            return None
        return round(obj, ROUND)
    if isinstance(obj, Mapping):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return _clean(obj.item())
    if hasattr(obj, "tolist"):
        return _clean(obj.tolist())
    return obj


def resolve_scorers(names: Sequence[str] | None, params: Mapping[str, Mapping[str, Any]] | None = None) -> list[Scorer]:
    """Instantiate scorers by name (default: every registered one), in dependency order."""
    params = params or {}
    reg = registry()
    names = list(names) if names else list(reg)
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise KeyError(f"parameters given for scorers that are not selected: {', '.join(unknown)}")
    classes = [get_scorer(n) for n in names]
    ordered: list[type[Scorer]] = []
    seen: set[str] = set()

    def visit(cls: type[Scorer], stack: tuple[str, ...] = ()) -> None:
        if cls.name in seen:
            return
        if cls.name in stack:
            raise ValueError(f"scorer dependency cycle: {' -> '.join((*stack, cls.name))}")
        for dep in cls.after:
            if dep in names:
                visit(get_scorer(dep), (*stack, cls.name))
        seen.add(cls.name)
        ordered.append(cls)

    for cls in sorted(classes, key=lambda c: c.name):
        visit(cls)
    return [cls(params.get(cls.name)) for cls in ordered]


def run_audit(
    samples: Sequence[Sample],
    scorers: Sequence[str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    models: ModelConfig | None = None,
    seed: int = 0,
    cache_dir: str | None = None,
    reference: Sequence[Sample] | None = None,
    dataset_info: Mapping[str, Any] | None = None,
    progress: ProgressFn = _no_progress,
    labels: Mapping[int, float] | None = None,
    gate_flags: bool = True,
    backend: AuditBackend | None = None,
) -> AuditOutput:
    """Run the scorers and assemble the report.

    ``gate_flags`` (default on): every flag passes the precision gate of :mod:`scorers.flags` — a code is
    shown at warning/error only where its adjudicated precision is ≥ 0.90, as info between 0.60 and 0.90, and
    held back below (counted in the report's ``flags_held_back``). Off only for adjudication runs
    (``bench/flag_precision.py``), which must see every flag the detectors raise.

    ``backend`` (default: :class:`~scorers.backends.LocalBackend`, this machine: the per-sample scorers of 4,000 rows
    or more in a pool of processes, so a script that calls this at import time needs an ``if __name__ ==
    "__main__":`` guard, or ``LocalBackend(1)``) runs the two stages that split into pieces — embedding the texts the
    scorers will embed, and the per-sample scorers — before the scorers run in turn;
    :class:`scorers._ray_backend.RayBackend` spreads them over a Ray cluster. The report is the same bytes.
    """
    instances = resolve_scorers(scorers, params)
    backend = backend or LocalBackend()
    forward = Forward(progress)
    ctx = ScoringContext(
        samples=samples,
        models=models or ModelConfig(),
        seed=seed,
        cache_dir=cache_dir,
        progress=forward,
        reference=reference,
        labels=labels,
    )
    runs: list[ScorerRun] = []
    n = len(samples)
    embedder, blocks = embedding_blocks(instances, ctx)
    weights = progress_weights(instances, ctx, encoded_ahead=embedder is not None)
    chunked = (
        [i for i, s in enumerate(instances) if type(s).per_sample and type(s).availability(ctx.models)[0]]
        if backend.chunks_per_sample(n)
        else []
    )
    embed_weight = encode_cost([t for b in blocks for t in b])
    chunk_weight = sum(weights[i] for i in chunked)
    for i in chunked:
        weights[i] = 0.0
    total, done = (embed_weight + chunk_weight + sum(weights)) or 1.0, 0.0
    if embedder is not None and blocks:
        ctx.begin(0.0, embed_weight / total, "embedding texts", embed_weight)
        backend.encode_blocks(embedder, blocks, lambda k, m: ctx.step(k, m, "blocks of texts embedded"))
        done += embed_weight
        release_free_memory()
    ready: dict[str, ScorerResult] = {}
    if chunked:
        ctx.read_ahead = read_ahead(instances, ctx)
        ctx.begin(done / total, (done + chunk_weight) / total, "scoring per-sample scorers in chunks", chunk_weight)
        ready = backend.score_per_sample(
            [instances[i].for_chunks(samples, ctx) for i in chunked],
            samples,
            ctx,
            lambda k, m: ctx.step(k, m, "chunks scored"),
        )
        done += chunk_weight
        release_free_memory()
    for scorer, weight in zip(instances, weights):
        ctx.begin(done / total, (done + weight) / total, f"scoring: {scorer.name}", weight)
        runs.append(_run_one(scorer, samples, ctx, n, gate_flags=gate_flags, ready=ready.get(scorer.name)))
        ctx.results[scorer.name] = runs[-1].result
        done += weight
        release_free_memory()
    forward(1.0, "assembling report")
    forget_texts()
    ctx.results.clear()  # the runs hold the one reference left to each result: assemble drops it once read
    ready.clear()
    return assemble(samples, runs, dataset_info or {})


def read_ahead(instances: Sequence[Scorer], ctx: ScoringContext) -> tuple[str, ...]:
    """The views whose reading language the dataset-wide scorers will ask (:meth:`Scorer.reads`), for the per-sample
    stage to read in its chunks; none when the encoder reads every language (nothing is asked)."""
    if ctx.served_languages()[0] is None:
        return ()
    views = (v for s in instances if not type(s).per_sample and type(s).availability(ctx.models)[0] for v in s.reads())
    return tuple(dict.fromkeys(views))


#: views whose texts are mostly the same (the embedder caches by text): encoding one encodes the others
_SAME_TEXTS = {"instruction": "question", "context": "question", "prompt": "question"}


def embedding_blocks(instances: Sequence[Scorer], ctx: ScoringContext) -> tuple[Any, list[list[str]]]:
    """(the full encoder, the blocks of texts to encode ahead): the views the selected scorers embed on every row
    at the full tier (``Scorer.vectors``), or at the aligned tier the texts the fast→full map is fitted on.

    ``(None, [])`` when no selected scorer embeds or no encoder is configured. What a scorer embeds beyond these
    (candidates to verify, subsets) it encodes itself, on the driver, as before."""
    embedding = [type(s) for s in instances if type(s).vectors and type(s).availability(ctx.models)[0]]
    if not embedding or not len(ctx.samples):
        return None, []
    try:
        embedder = ctx.embedder("full")
    except NotComputed:
        return None, []
    if ctx.resolve_tier("auto") == "full":
        views = dict.fromkeys(v for cls in embedding for v in cls.vectors)
        texts = [t for v in views for t in ctx.texts(v)]
    else:
        from scorers.embeddings import alignment_texts

        _, texts = alignment_texts([ctx.texts("instruction"), ctx.texts("answer")], seed=ctx.seed)
    return embedder, embedder.blocks(texts)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc; absent from musl, macOS and Windows
    except (OSError, AttributeError, TypeError):
        return None


def release_free_memory() -> None:
    """Hand the free pages of the C heap back to the system (glibc's ``malloc_trim``), between two steps of an audit.

    Each step frees what it allocated, but glibc keeps freed heap memory for reuse, and allocations above its mmap
    threshold (the large arrays of the aligned-tier steps) are mapped apart and do not reuse it: before the report of
    the 20k-row mixed file, ``malloc_trim(0)`` took the audit process from 1,430 MB resident to 1,038 MB (issue #15).
    A no-op where the C library has no ``malloc_trim``."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def progress_weights(instances: Sequence[Scorer], ctx: ScoringContext, encoded_ahead: bool = False) -> list[float]:
    """Each scorer's share of the progress bar, in units of ``Scorer.cost`` × rows / 10,000 (about seconds).

    Its cost hint, plus — when every row goes through the full encoder (``models.full_tier_max_samples``) —
    encoding the views it is the first to embed (:func:`scorers.context.encode_cost`; should they turn out cached,
    the bar moves on at once); a sliver when it will not run (its model is not configured, so it is reported
    ``not_computed`` at once). ``encoded_ahead``: the pipeline's embedding stage encodes the views first and
    carries their cost (:func:`embedding_blocks`)."""
    rows = len(ctx.samples) / 10_000
    full = ctx.resolve_tier("auto") == "full" and not encoded_ahead
    encoded: set[str] = set()
    weights = []
    for scorer in instances:
        cls = type(scorer)
        if not cls.availability(ctx.models)[0]:
            weights.append(0.01 * rows)
            continue
        weight = float(cls.cost) * rows
        for view in cls.vectors if full else ():
            texts = _SAME_TEXTS.get(view, view)
            if texts not in encoded:
                encoded.add(texts)
                weight += encode_cost(ctx.texts(view))
        weights.append(weight)
    return weights


class Forward:
    """Passes progress on, never backwards: a scorer's inner parts may each count from zero, and a rounded or
    re-estimated fraction must not make the bar jump back."""

    def __init__(self, progress: ProgressFn):
        self.progress, self.fraction = progress, 0.0

    def __call__(self, fraction: float, step: str) -> None:
        self.fraction = max(self.fraction, min(max(fraction, 0.0), 1.0))
        self.progress(self.fraction, step)


def _run_one(
    scorer: Scorer,
    samples: Sequence[Sample],
    ctx: ScoringContext,
    n: int,
    *,
    gate_flags: bool = True,
    ready: ScorerResult | None = None,
) -> ScorerRun:
    cls = type(scorer)
    base = dict(
        name=cls.name, version=cls.version, dimension=cls.dimension, parameters=scorer.params.model_dump(mode="json")
    )
    ok, reason = cls.availability(ctx.models)
    if not ok:
        return ScorerRun(**base, status="not_computed", reason=reason, result=None)
    try:
        result = ready if ready is not None else scorer.score(samples, ctx)
    except NotComputed as e:
        return ScorerRun(**base, status="not_computed", reason=e.reason, result=None)
    validate_result(cls.name, result, n)
    held = gate(result, samples) if gate_flags else None
    compact_rows(result)
    return ScorerRun(**base, status="ok", reason=None, result=result, held_back=held)


def gate(result: ScorerResult, samples: Sequence[Sample]) -> dict[str, int]:
    """Apply the precision gate to a result in place; returns the held-back counts by code.

    Flags are capped at their code's ceiling or held back; a score that is the worst flag's severity score is
    recomputed from the flags shown, and the summary's flag figures count the flags shown.
    """
    held: Counter[str] = Counter()
    changed = False
    gated = list(result.flags)
    for i, flags in enumerate(gated):
        shown, held_codes = flag_table.gate_all(flags)
        if held_codes or any(a is not b for a, b in zip(shown, flags)):
            changed = True
            held.update(held_codes)
            gated[i] = shown
            if result.scores_from_flags and result.scores is not None and result.scores[i] is not None:
                result.scores[i] = min((SEVERITY_SCORE[f.severity] for f in shown), default=1.0)
    result.flags = gated
    if changed and "counts" in result.summary:
        result.summary.update(flag_counts(samples, result.flags))
    if held:
        result.summary["held_back"] = dict(sorted(held.items()))
    return dict(held)


def compact_rows(result: ScorerResult) -> None:
    """Point every row without flags at :data:`NO_FLAGS` and pack the rows' fields in pickled blocks
    (:class:`~scorers._packed_rows.PackedRows`: 4.9 kB a row as dicts over the default scorers, issue #15)."""
    result.flags = [flags or NO_FLAGS for flags in result.flags]
    if result.fields:
        result.fields = PackedRows(result.fields)


def validate_result(name: str, result: ScorerResult, n: int) -> None:
    """Enforce the output contract; a broken scorer fails loudly instead of corrupting a report."""
    if result.scores is not None and len(result.scores) != n:
        raise ValueError(f"scorer {name}: {len(result.scores)} scores for {n} samples")
    if len(result.flags) != n:
        raise ValueError(f"scorer {name}: {len(result.flags)} flag lists for {n} samples")
    if result.fields and len(result.fields) != n:
        raise ValueError(f"scorer {name}: {len(result.fields)} field dicts for {n} samples")
    for s in result.scores or ():
        if s is not None and not (0.0 <= s <= 1.0) or (s is not None and math.isnan(s)):
            raise ValueError(f"scorer {name}: score {s!r} outside [0, 1]")
    for f in result.fields:
        clash = RESERVED_FIELDS & set(f)
        if clash:
            raise ValueError(f"scorer {name}: fields may not be named {sorted(clash)}")


def assemble(samples: Sequence[Sample], runs: Sequence[ScorerRun], dataset_info: Mapping[str, Any]) -> AuditOutput:
    """The report and the per-sample records from the runs.

    Each run's result is dropped (``run.result = None``) once its rows are in the records, and each record is
    replaced by its clean copy in turn, so that the per-row data is never held twice over."""
    n = len(samples)
    per_dim: dict[str, list[list[float]]] = {d: [[] for _ in range(n)] for d in DIMENSIONS}
    records: list[dict[str, Any]] = [{"index": s.index, "scores": {}, "flags": []} for s in samples]
    code_counts: Counter[str] = Counter()
    flag_samples: Counter[str] = Counter()
    dims: dict[str, dict[str, Any]] = {d: {"score": None, "scorers": [], "figures": {}} for d in DIMENSIONS}
    dataset_scores: dict[str, list[float]] = {d: [] for d in DIMENSIONS}
    languages: Counter[str] = Counter()
    held_back: Counter[str] = Counter()
    not_judged: dict[str, Any] = {}
    headlines: dict[str, Mapping[str, Any]] = {}

    for run in runs:
        held_back.update(run.held_back or {})
        if run.dimension in dims:
            dims[run.dimension]["scorers"].append(run.name)
        if run.result is None:
            continue
        res, run.result = run.result, None
        if run.dimension in dims:
            dims[run.dimension]["figures"][run.name] = res.summary
            if res.dataset_score is not None:
                dataset_scores[run.dimension].append(float(res.dataset_score))
            if isinstance(res.summary.get("dimension_headline"), Mapping):
                headlines[run.dimension] = res.summary["dimension_headline"]  # a later scorer read the earlier ones
        if res.scores is not None and run.dimension in per_dim:
            for i, s in enumerate(res.scores):
                if s is not None:
                    per_dim[run.dimension][i].append(float(s))
        for i, flags in enumerate(res.flags):
            seen_codes = set()
            for f in flags:
                records[i]["flags"].append(f.to_dict())
                code_counts[f.code] += 1
                if f.code not in seen_codes:
                    flag_samples[f.code] += 1
                    seen_codes.add(f.code)
        if res.summary.get("not_judged", {}).get("rows"):
            not_judged[run.name] = res.summary["not_judged"]
        for i, fields in enumerate(res.fields):
            if "not_judged" in fields:  # a list every scorer adds its name to
                fields = dict(fields)
                records[i].setdefault("not_judged", []).extend(fields.pop("not_judged"))
            records[i].update(fields)
            if "language" in fields:
                languages[fields["language"]] += 1

    for d in DIMENSIONS:
        combine = COMBINE[d]
        values = []
        for i in range(n):
            if per_dim[d][i]:
                v = combine(per_dim[d][i])
                records[i]["scores"][d] = v
                values.append(v)
        if d in headlines and headlines[d].get("value") is not None:
            # a scorer that speaks for the whole dimension says what its headline measures
            dims[d]["score"] = float(headlines[d]["value"])
            dims[d]["measures"] = headlines[d].get("measures")
            if headlines[d].get("how_to_rank"):
                dims[d]["how_to_rank"] = headlines[d]["how_to_rank"]
        elif dataset_scores[d]:
            dims[d]["score"] = sum(dataset_scores[d]) / len(dataset_scores[d])
        elif values:
            dims[d]["score"] = sum(values) / len(values)
        dims[d]["samples_scored"] = len(values)
        if not dims[d]["scorers"]:
            dims[d]["status"] = "not_computed"
            dims[d]["reason"] = "no scorer of this dimension was run"
        elif dims[d]["score"] is None:
            dims[d]["status"] = "not_computed"
            dims[d]["reason"] = (
                "; ".join(f"{r.name}: {r.reason}" for r in runs if r.dimension == d and r.reason)
                or "no scorer produced a score"
            )
        else:
            dims[d]["status"] = "ok"
    for i, rec in enumerate(records):
        rec["flags"].sort(key=lambda f: (f["dimension"], f["code"], f["related"]))
        records[i] = _clean(rec)

    report = {
        "report_version": REPORT_VERSION,
        "dataset": {"rows": n, "languages": dict(languages.most_common()), **dataset_info},
        "dimensions": dims,
        "flags": dict(sorted(code_counts.items())),
        "flagged_samples": dict(sorted(flag_samples.items())),
        # how far each code shown (or held back) can be trusted: its meaning, kind and measured precision
        "flag_codes": {c: flag_table.describe(c) for c in sorted(set(code_counts) | set(held_back))},
        "flags_held_back": dict(sorted(held_back.items())),
        # rows a model-based judgement left out because the model cannot read their language, per scorer
        "not_judged": not_judged,
        "scorers": [
            {
                "name": r.name,
                "version": r.version,
                "dimension": r.dimension,
                "parameters": r.parameters,
                "status": r.status,
                "reason": r.reason,
            }
            for r in runs
        ],
    }
    return AuditOutput(report=_clean(report), samples=records)
