"""Shared features computed once per audit and handed to every scorer.

Scorers never load the embedding model or the tokenizer themselves: they ask the context, which
computes lazily, once, and caches by text hash and model id (see :mod:`scorers.embeddings`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scorers.models import ModelConfig
from scorers.samples import Sample

ProgressFn = Callable[[float, str], None]
#: the memo key of a view's reading languages (:meth:`ScoringContext.reading_languages`), + the view
READING_LANGUAGE = "reading_language:"


def text_weight(text: str) -> int:
    """How much encoding one text weighs on the full encoder: a fixed part per text plus its length up to the
    encoder's 256-token window (~1,000 characters). Fitted on the time of 46 chunks of 256 Alpaca texts encoded in
    two audits (time ≈ 0.0126 s per text + 0.000141 s per character up to 1,000, on a loaded machine: the fixed
    part is worth 90 characters; answers, 275 characters on average, take 2.2× as long as questions, 82)."""
    return 90 + min(len(text), 1000)


def encode_cost(texts: Sequence[str], tier: str = "full") -> float:
    """What encoding ``texts`` costs, in the units of ``Scorer.cost`` (about seconds on 2 cores): the full encoder
    embeds 84 Alpaca texts/s on a quiet machine (docs/benchmarks.md; 180 characters on average, a weight of 270);
    the static fast tier thousands."""
    if tier == "fast":
        return 2e-4 * len(texts)
    return 4.4e-5 * sum(text_weight(t) for t in texts)


def _no_progress(fraction: float, step: str) -> None:
    return None


@dataclass
class ScoringContext:
    samples: Sequence[Sample]
    models: ModelConfig = field(default_factory=ModelConfig)
    seed: int = 0
    cache_dir: str | None = None
    progress: ProgressFn = _no_progress
    #: the results of scorers that already ran in this audit, by scorer name.
    results: dict[str, Any] = field(default_factory=dict)
    #: an optional reference set (question → reference answer) for external consistency.
    reference: Sequence[Sample] | None = None
    #: quality labels for some samples, by sample ``index``: 1.0 = good … 0.0 = bad (a 1–5 rating r is
    #: given as (r - 1) / 4). Read by the learned ranker; ``None`` when the dataset has no labels.
    labels: Mapping[int, float] | None = None
    #: the least time between two inner progress reports (:meth:`step`); callers may report per item.
    progress_interval: float = 0.5
    #: the views whose reading language the per-sample stage reads ahead in its chunks (:meth:`Scorer.reads` of the
    #: dataset-wide scorers; set by the pipeline, empty when the encoder reads every language)
    read_ahead: tuple[str, ...] = ()
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    #: the share of the whole audit's bar the running scorer's current part covers, where its next part starts,
    #: and what the bar says meanwhile (set by the pipeline, narrowed by :meth:`part`)
    _span: tuple[float, float] = field(default=(0.0, 1.0), repr=False)
    _cursor: float = field(default=0.0, repr=False)
    _label: str = field(default="", repr=False)
    _last_step: float = field(default=float("-inf"), repr=False)
    _per_cost: float | None = field(default=None, repr=False)  # bar per unit of cost in the running scorer

    # --- progress from inside a scorer --------------------------------------------------------
    def begin(self, lo: float, hi: float, label: str, weight: float | None = None) -> None:
        """The pipeline hands the next scorer its share ``[lo, hi]`` of the bar, for ``weight`` units of cost
        (:func:`encode_cost` then sizes the part of it that encoding takes)."""
        self._span, self._cursor, self._label = (lo, hi), lo, label
        self._per_cost = (hi - lo) / weight if weight else None
        self._last_step = float("-inf")
        self.progress(lo, label)

    def _share_for(self, cost: float) -> float | None:
        """The share of the current part that ``cost`` units take (``None``: not known, half of what is left)."""
        lo, hi = self._span
        if self._per_cost is None or hi <= lo:
            return None
        return cost * self._per_cost / (hi - lo)

    def step(self, done: int, total: int, what: str = "", fraction: float | None = None) -> None:
        """``done`` of ``total`` items of the running scorer's current part are done.

        Cheap enough to call per item or per batch: it reports at most once per ``progress_interval``
        (and always when ``done == total``). ``what`` names the items (``"answers embedded"``); ``fraction``, when
        the items weigh differently, is the share of the part's work done (default ``done / total``).
        """
        if total <= 0:
            return
        now = time.monotonic()
        if done < total and now - self._last_step < self.progress_interval:
            return
        self._last_step = now
        lo, hi = self._span
        frac = lo + (hi - lo) * min(max(done / total if fraction is None else fraction, 0.0), 1.0)
        self.progress(frac, f"{self._label} ({what + ' ' if what else ''}{done:,}/{total:,})")

    @contextmanager
    def part(self, share: float | None = None) -> Iterator[None]:
        """Narrow inner progress to the next ``share`` (0–1) of the current part; :meth:`step` calls inside
        report within it. ``None``: half of what is left (for work whose size is not known in advance, such as
        an embedding that may be cached — the bar keeps moving and never runs past the part)."""
        lo, hi = self._span
        start = min(max(lo, self._cursor), hi)
        end = start + (hi - start) / 2 if share is None else min(hi, start + (hi - lo) * max(share, 0.0))
        outer = self._span
        self._span, self._cursor = (start, end), start
        try:
            yield
        finally:
            self._span, self._cursor = outer, end

    # --- embeddings -------------------------------------------------------------------------
    def embedder(self, tier: str = "full"):
        from scorers.embeddings import get_embedder

        key = f"embedder:{tier}"
        if key not in self._memo:
            self._memo[key] = get_embedder(self.models, tier=tier, cache_dir=self.cache_dir)
        return self._memo[key]

    def embed(self, texts: Sequence[str], tier: str = "full", what: str = "texts embedded") -> np.ndarray:
        """L2-normalised embeddings for ``texts`` (float32, shape (n, d)); reports inner progress as it encodes, in
        the part of the running scorer's bar that encoding the texts not yet cached costs (:func:`encode_cost`)."""
        embedder, texts = self.embedder(tier), list(texts)
        pending = getattr(embedder, "pending", None)
        todo = pending(texts) if pending is not None else texts

        def heard(done: int, total: int, fraction: float | None = None) -> None:
            self.step(done, total, what, fraction)

        with self.part(self._share_for(encode_cost(todo, tier))):
            return embedder.encode(texts, progress=heard)

    def embeddings(self, view: str = "instruction", tier: str = "full") -> np.ndarray:
        """Embeddings of one view of every sample: ``instruction``, ``answer``, ``prompt``, ``text``, ``context``
        (the instruction, or for a multi-turn chat the end of the conversation before the answer — the view
        meaning-based judgements compare).

        ``tier``: ``full`` (the encoder), ``fast`` (static) or ``aligned`` (static vectors mapped into the
        full encoder's space by :meth:`alignment`, so that full-tier thresholds roughly carry over).

        The matrix is built anew on each call, not kept: the embedder keeps every vector it has encoded (by text),
        so a second call only stacks them again, and the aligned tier is one matrix product away from the fast one.
        Kept per view and tier until the report was assembled, these matrices were ~6 KB a row (123 MB at 20k rows).
        """
        if tier == "aligned":
            return self.alignment().apply(self.embeddings(view, tier="fast"))
        return self.embed(self.texts(view), tier=tier, what=f"{view}s embedded")

    def resolve_tier(self, tier: str) -> str:
        """A scorer's ``auto`` tier: ``full`` while the full encoder can embed every sample
        (``models.full_tier_max_samples``), else ``aligned``; other tiers as given."""
        if tier != "auto":
            return tier
        return "full" if len(self.samples) <= self.models.full_tier_max_samples else "aligned"

    def verify_budget(self, most: int, share: float, least: int = 0) -> int:
        """A budget of full-encoder re-checks that grows with the dataset: ``share`` of its rows (rounded up), at
        least ``least`` and at most ``most``."""
        return min(most, max(least, math.ceil(share * len(self.samples))))

    def alignment(self):
        """The fast→full linear map fitted on a seeded sample of this dataset (memoised)."""
        from scorers.embeddings import fit_alignment

        def embedded(done: int, total: int, fraction: float | None = None) -> None:
            self.step(done, total, "texts embedded to align tiers", fraction)

        def fit():
            views = [self.texts("instruction"), self.texts("answer")]
            with self.part():
                return fit_alignment(
                    views, self.embedder("fast"), self.embedder("full"), seed=self.seed, progress=embedded
                )

        return self.memo("alignment", fit)

    def texts(self, view: str) -> list[str]:
        attr = {
            "instruction": "instruction",
            "answer": "answer",
            "prompt": "prompt_text",
            "text": "text",
            "context": "context",
        }[view]
        key = f"texts:{view}"
        if key not in self._memo:
            self._memo[key] = [getattr(s, attr) for s in self.samples]
        return self._memo[key]

    # --- what the encoder can read ----------------------------------------------------------------
    def reading_languages(self, view: str) -> list[str]:
        """The language of one view of every sample, as a model must read it (memoised).

        A text is read once whichever views hold it: an instruction without input is also the row's context and its
        prompt, so the four views the scorers ask about hold about half as many distinct texts as rows × views
        (39,674 of 80,000 on the 20k-row mixed file, where reading them was 12 s of the audit)."""
        from scorers.text.language import reading_language

        def compute() -> list[str]:
            read: dict[str, str] = self.memo(READING_LANGUAGE + "by_text", dict)
            out = []
            for text in self.texts(view):
                lang = read.get(text)
                if lang is None:
                    lang = read[text] = reading_language(text)
                out.append(lang)
            return out

        return self.memo(READING_LANGUAGE + view, compute)

    def served_languages(self) -> tuple[frozenset[str] | None, str]:
        """(languages the embedding model reads, ``None`` = all; where that comes from)."""
        from scorers.embeddings import served_languages

        return self.memo("served_languages", lambda: served_languages(self.models))

    def readable(self, views: Sequence[str] = ("instruction", "answer")) -> np.ndarray:
        """Per sample: whether the embedding model reads every one of these views (a model judges only what it
        can read). Text with too few letters to tell (numbers, code) counts as readable."""
        served, _ = self.served_languages()
        ok = np.ones(len(self.samples), dtype=bool)
        if served is None:
            return ok
        for view in views:
            ok &= np.array([lang in served or lang == "und" for lang in self.reading_languages(view)], dtype=bool)
        return ok

    def not_judged(self, unread: np.ndarray, views: Sequence[str] = ("instruction", "answer")) -> dict[str, Any]:
        """A scorer summary's ``not_judged`` entry for the rows it left out because the model cannot read them."""
        served, source = self.served_languages()
        rows = np.flatnonzero(unread)
        langs: dict[str, int] = {}  # rows by the language of their first view the model does not read
        per_view = [self.reading_languages(view) for view in views]
        for i in rows:
            lang = next(
                (vl[i] for vl in per_view if served is not None and vl[i] not in served and vl[i] != "und"), None
            )
            if lang is not None:
                langs[lang] = langs.get(lang, 0) + 1
        model = self.models.path("embedding_model")
        name = model.name if model is not None and model.name != "model" else "all-MiniLM-L6-v2"
        return {
            "rows": int(len(rows)),
            "share": float(len(rows) / max(len(self.samples), 1)),
            "languages": dict(sorted(langs.items(), key=lambda kv: -kv[1])),
            "reason": (
                f"the embedding model {name} reads {', '.join(sorted(served or ())) or 'every language'} "
                f"(from {source}); rows in other languages are not judged by it"
            ),
            "fix": (
                "configure a multilingual sentence-transformers model from a local directory "
                "(SFTAUDIT_MODELS__EMBEDDING_MODEL=/models/paraphrase-multilingual-MiniLM-L12-v2) and, if its "
                "model card does not list its languages, SFTAUDIT_MODELS__EMBEDDING_LANGUAGES=en,zh"
            ),
        }

    # --- tokens ------------------------------------------------------------------------------
    def token_counts(self, view: str = "text") -> list[int] | None:
        """Token counts with the configured tokenizer, or ``None`` when no tokenizer is available."""
        key = f"tokens:{view}"
        if key not in self._memo:
            from scorers.tokens import count_tokens

            self._memo[key] = count_tokens(self.texts(view), self.models)
        return self._memo[key]

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """Share any derived feature between scorers of one audit."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]
