"""The one conversation model every scorer reads.

Every input format (alpaca, ShareGPT, OpenAI messages, prompt/response pairs, plain text) is
normalised by the ingest layer into :class:`Sample`: an optional system prompt and an ordered list
of turns.  ``index`` is the 0-based position of the record in the uploaded file, so every figure in
a report can be traced back to the user's own rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["user", "assistant", "tool", "function_call", "text"]
ROLES: tuple[str, ...] = ("user", "assistant", "tool", "function_call", "text")
#: ``Sample.context`` of a multi-turn chat: characters of earlier turns kept before the last user turn, and of
#: that turn (sentence encoders read ~256 word pieces, so the ask must come early enough to be read).
CONTEXT_BEFORE = 400
CONTEXT_ASK = 600


@dataclass(frozen=True, slots=True)
class Turn:
    role: str
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True, slots=True)
class Sample:
    """One normalised training example.

    ``instruction`` is the last user turn before the last assistant turn (the ask that the final
    answer answers); ``answer`` is that final assistant turn.  For multi-turn chats the earlier turns
    are the ``history``.  Plain-text rows (continued pre-training) have a single ``text`` turn.
    """

    index: int
    turns: tuple[Turn, ...]
    system: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    # --- derived views -------------------------------------------------------------------------
    @property
    def is_plain_text(self) -> bool:
        return len(self.turns) == 1 and self.turns[0].role == "text"

    def _last_index(self, role: str, before: int | None = None) -> int | None:
        end = len(self.turns) if before is None else before
        for i in range(end - 1, -1, -1):
            if self.turns[i].role == role:
                return i
        return None

    @property
    def answer(self) -> str:
        i = self._last_index("assistant")
        if i is None:
            return self.turns[0].content if self.is_plain_text else ""
        return self.turns[i].content

    @property
    def instruction(self) -> str:
        a = self._last_index("assistant")
        u = self._last_index("user", before=a) if a is not None else self._last_index("user")
        return "" if u is None else self.turns[u].content

    @property
    def history(self) -> tuple[Turn, ...]:
        a = self._last_index("assistant")
        u = self._last_index("user", before=a) if a is not None else self._last_index("user")
        return self.turns[:u] if u is not None else ()

    @property
    def context(self) -> str:
        """What the final answer answers, for models that compare meanings: the instruction; in a multi-turn
        chat, the end of the conversation before the answer (up to ``CONTEXT_BEFORE`` characters of earlier
        turns, then the last user turn) — a follow-up such as "Go on." or "Yes" means nothing alone, and two
        chats that end on it are not the same question. The system prompt is left out (one shared system
        prompt would make every row alike)."""
        if not self.history:
            return self.instruction
        earlier = "\n".join(t.content for t in self.history if t.role in ("user", "assistant") and t.content)
        return earlier[-CONTEXT_BEFORE:] + "\n" + self.instruction[:CONTEXT_ASK]

    @property
    def prompt_text(self) -> str:
        """Everything the model sees before the final answer, as one string."""
        parts = [self.system] if self.system else []
        a = self._last_index("assistant")
        parts += [t.content for t in (self.turns[:a] if a is not None else self.turns)]
        return "\n".join(p for p in parts if p)

    @property
    def text(self) -> str:
        """The whole sample as one string (system, every turn)."""
        parts = [self.system] if self.system else []
        parts += [t.content for t in self.turns]
        return "\n".join(p for p in parts if p)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "system": self.system,
            "turns": [t.to_dict() for t in self.turns],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], meta: dict[str, Any] | None = None) -> Sample:
        """The sample of a conversation dict; ``meta["original"]`` (the uploaded record) holds the same string objects
        as the turns where its texts equal theirs — an answer copied unchanged was held twice, ~470 B a row on the
        mixed file of issue #15 (a third of a sample)."""
        turns = tuple(Turn(t["role"], t["content"]) for t in d["turns"])
        system = d.get("system")
        meta = meta or {}
        if isinstance(meta.get("original"), (dict, list)):
            texts = {t.content: t.content for t in turns}
            if system:
                texts.setdefault(system, system)
            meta = {**meta, "original": _share_texts(meta["original"], texts)}
        return cls(index=int(d["index"]), system=system, turns=turns, meta=meta)


def _share_texts(value: Any, texts: dict[str, str]) -> Any:
    """``value`` (a JSON record) with each string equal to one of ``texts`` replaced by that very object."""
    if isinstance(value, str):
        return texts.get(value, value)
    if isinstance(value, dict):
        return {k: _share_texts(v, texts) for k, v in value.items()}
    if isinstance(value, list):
        return [_share_texts(v, texts) for v in value]
    return value


def sample(index: int, instruction: str, answer: str, system: str | None = None) -> Sample:
    """Build a single-turn sample (handy in notebooks and tests)."""
    return Sample(index=index, turns=(Turn("user", instruction), Turn("assistant", answer)), system=system)
