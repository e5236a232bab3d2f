"""The scorer contract and the registry.

A scorer is one class in one module of this package, decorated with :func:`register`.  It declares a
stable ``name`` (the key in the report JSON and the API), a ``version`` stored in every report, the
report ``dimension`` it contributes to, and typed ``Params`` with defaults.  ``score`` takes the
normalised samples plus a shared :class:`~scorers.context.ScoringContext` and returns a
:class:`ScorerResult`:

* ``scores``: one float per sample in [0, 1], **1 = best** (cleanest, most diverse, highest quality,
  most consistent; for difficulty, 1 = hardest — difficulty has no "good" direction, see its docs),
  or ``None`` for a purely descriptive scorer; a single sample may be ``None`` when the signal does
  not apply to it;
* ``flags``: per sample, a list of :class:`Flag` with a reason code and a plain-words explanation;
* ``fields``: per sample, scorer-specific values (``cluster``, ``difficulty``, ``language``…);
* ``summary``: dataset-level figures (JSON-serialisable), and optionally ``dataset_score`` for
  dimensions that are a property of the whole set (diversity).

Scorers know nothing of HTTP or the database and can be used from a notebook.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from scorers.samples import Sample

if TYPE_CHECKING:
    from scorers.context import ScoringContext

Dimension = Literal["diversity", "answer_quality", "consistency", "difficulty", "noise", "profile"]
DIMENSIONS: tuple[str, ...] = ("diversity", "answer_quality", "consistency", "difficulty", "noise")
Severity = Literal["info", "warning", "error"]
SEVERITIES: tuple[str, ...] = ("info", "warning", "error")
#: a sample's score when its worst flag has this severity (scorers whose score is "how broken is this row").
SEVERITY_SCORE: dict[str, float] = {"error": 0.0, "warning": 0.5, "info": 0.9}

# Keys of a per-sample record that scorer ``fields`` may not overwrite.
RESERVED_FIELDS = frozenset({"index", "scores", "flags"})


@dataclass(frozen=True, slots=True)
class Flag:
    code: str
    dimension: str
    severity: str
    reason: str
    related: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "dimension": self.dimension,
            "severity": self.severity,
            "reason": self.reason,
            "related": list(self.related),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Flag:
        """A flag read back from a report or ``samples.jsonl`` (the inverse of :meth:`to_dict`)."""
        return cls(d["code"], d.get("dimension", ""), d["severity"], d.get("reason", ""), tuple(d.get("related", ())))


@dataclass(slots=True)
class ScorerResult:
    scores: list[float | None] | None
    flags: Sequence[Sequence[Flag]]
    fields: Sequence[Mapping[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    dataset_score: float | None = None
    #: the scores are the worst flag's severity score (see :data:`SEVERITY_SCORE`), so the pipeline recomputes
    #: them after the precision gate has capped or held back flags.
    scores_from_flags: bool = False

    @classmethod
    def empty(cls, n: int, *, descriptive: bool = False) -> ScorerResult:
        return cls(
            scores=None if descriptive else [1.0] * n,
            flags=[[] for _ in range(n)],
            fields=[{} for _ in range(n)],
        )


def flag_counts(samples: Sequence[Sample], flags: Sequence[Sequence[Flag]], examples: int = 5) -> dict[str, Any]:
    """A scorer summary's flag figures: rows flagged, flags per code, the first example rows per code."""
    codes: dict[str, int] = {}
    shown: dict[str, list[int]] = {}
    for i, fl in enumerate(flags):
        for f in fl:
            codes[f.code] = codes.get(f.code, 0) + 1
        for code in dict.fromkeys(f.code for f in fl):
            ex = shown.setdefault(code, [])
            if len(ex) < examples:
                ex.append(samples[i].index)
    return {
        "flagged_samples": sum(1 for fl in flags if fl),
        "counts": dict(sorted(codes.items())),
        "examples": dict(sorted(shown.items())),
    }


class NotComputed(Exception):
    """Raised by a scorer that cannot compute its signal here (model not configured, …)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ScorerParams(BaseModel):
    """Base for every scorer's parameters: typed, with defaults, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Scorer(ABC):
    name: ClassVar[str]
    version: ClassVar[str]
    dimension: ClassVar[str]
    description: ClassVar[str] = ""
    Params: ClassVar[type[ScorerParams]] = ScorerParams
    #: names of scorers whose results this one reads from ``ctx.results`` (ordering only).
    after: ClassVar[tuple[str, ...]] = ()
    #: model roles this scorer needs (keys of ``ModelConfig``); checked by :meth:`availability`.
    needs_models: ClassVar[tuple[str, ...]] = ()
    #: expected cost, roughly seconds per 10,000 rows on a 2-core machine (most model-free scorers: about 1).
    #: Only the ratios matter: they weight each scorer's share of an audit's progress bar.
    cost: ClassVar[float] = 1.0
    #: the views (``instruction``, ``context``, ``answer``, …) this scorer embeds on every row with the full
    #: encoder when the dataset is small enough for the full tier: the first scorer to need a view pays for it.
    vectors: ClassVar[tuple[str, ...]] = ()
    #: each row's scores, flags and fields depend on that row alone, once :meth:`for_chunks` has settled what the
    #: scorer reads of the whole dataset: the result for a chunk of samples is the slice of the whole dataset's
    #: result, and :meth:`summarise` rebuilds the dataset summary from the rows' parts. Such a scorer can run chunk by
    #: chunk, on any machine (the local process pool, the Ray backend). Proved for every scorer that sets it by
    #: tests/test_per_sample.py.
    per_sample: ClassVar[bool] = False

    def __init__(self, params: ScorerParams | dict[str, Any] | None = None):
        if params is None:
            params = self.Params()
        elif isinstance(params, dict):
            params = self.Params(**params)
        self.params = params

    @classmethod
    def availability(cls, models: Any) -> tuple[bool, str | None]:
        """Whether the models this scorer needs are configured; never loads them."""
        for role in cls.needs_models:
            ok, reason = models.check(role)
            if not ok:
                return False, reason
        return True, None

    @abstractmethod
    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult: ...

    #: what :meth:`for_chunks` settled over the whole dataset (see :meth:`settle`); ``None`` until then
    settled: Any = None

    def settle(self, samples: Sequence[Sample]) -> Any:
        """The one fact of the whole dataset that this scorer's rows read (is it a safety set? how long are answers
        to each task type?), computed over ``samples``; ``None`` (the default) when its rows read nothing beyond
        themselves."""
        return None

    def facts(self, samples: Sequence[Sample]) -> Any:
        """:meth:`settle`'s fact for scoring ``samples``: the one settled over the whole dataset when this scorer
        scores a chunk of it, else settled over ``samples`` now."""
        return self.settled if self.settled is not None else self.settle(samples)

    def for_chunks(self, samples: Sequence[Sample], ctx: ScoringContext) -> Scorer:
        """This scorer, ready to score chunks of ``samples`` apart: a copy that carries what :meth:`settle` reads of
        the whole dataset, or itself when it reads nothing."""
        fact = self.settle(samples)
        if fact is None:
            return self
        chunked = copy.copy(self)
        chunked.settled = fact
        return chunked

    def reads(self) -> tuple[str, ...]:
        """The views whose reading language this scorer asks the context for (``ctx.readable``: a model judges only
        what it can read). The per-sample stage reads them ahead, row by row in its chunks, so that the dataset-wide
        scorers find them read; a view left out is read where it is first asked for, with the same result."""
        return ()

    def summarise(self, samples: Sequence[Sample], result: ScorerResult, ctx: ScoringContext) -> dict[str, Any]:
        """A per-sample scorer's dataset summary, from every row's scores, flags and fields (the chunks' parts joined).

        The default is the flag figures (:func:`flag_counts`); a per-sample scorer whose summary says more overrides
        it, and its :meth:`score` builds its summary with it, so that the summary has one definition."""
        return flag_counts(samples, result.flags)

    @classmethod
    def describe(cls, models: Any | None = None) -> dict[str, Any]:
        info: dict[str, Any] = {
            "name": cls.name,
            "version": cls.version,
            "dimension": cls.dimension,
            "description": cls.description or (cls.__doc__ or "").strip().split("\n")[0],
            "parameters": cls.Params.model_json_schema(),
            "needs_models": list(cls.needs_models),
            # the flag codes it raises, each with its meaning, ceiling and measured precision
            "flag_codes": _flag_codes_of(cls.name),
        }
        if models is not None:
            ok, reason = cls.availability(models)
            info["available"] = ok
            info["unavailable_reason"] = reason
        return info


def _flag_codes_of(name: str) -> list[dict[str, Any]]:
    from scorers import flags

    return [flags.describe(code) for code, f in sorted(flags.FLAG_CODES.items()) if f.scorer == name]


_REGISTRY: dict[str, type[Scorer]] = {}
_LOADED = False


def register(cls: type[Scorer]) -> type[Scorer]:
    """Class decorator: add a scorer to the registry under its ``name``."""
    for attr in ("name", "version", "dimension"):
        if not getattr(cls, attr, None):
            raise TypeError(f"scorer {cls.__qualname__} must define {attr!r}")
    if cls.dimension not in (*DIMENSIONS, "profile"):
        raise TypeError(f"scorer {cls.name!r}: unknown dimension {cls.dimension!r}")
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise TypeError(f"two scorers are named {cls.name!r}: {existing.__qualname__}, {cls.__qualname__}")
    _REGISTRY[cls.name] = cls
    return cls


def registry() -> dict[str, type[Scorer]]:
    """Every registered scorer, by name (imports every module of the package once)."""
    global _LOADED
    if not _LOADED:
        import scorers

        for mod in sorted(pkgutil.iter_modules(scorers.__path__), key=lambda m: m.name):
            if not mod.name.startswith("_"):
                importlib.import_module(f"scorers.{mod.name}")
        _LOADED = True
    return dict(sorted(_REGISTRY.items()))


def get_scorer(name: str) -> type[Scorer]:
    reg = registry()
    if name not in reg:
        raise KeyError(f"unknown scorer {name!r}; known: {', '.join(reg)}")
    return reg[name]
