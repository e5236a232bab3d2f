"""Normalised conversations → alpaca / ShareGPT / messages / JSONL records, or the uploaded records as they were.

Exports keep what the upload said: an alpaca row's ``input`` stays apart from its ``instruction`` when
the row had one, and fields the source format does not read (``category``, ``id``, …) are carried
over.  ``original`` writes back each uploaded record unchanged (one JSON object per line; a JSONL
upload comes back line for line).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EXPORT_FORMATS = ("alpaca", "sharegpt", "messages", "jsonl", "original")
#: The fields each source format reads; the rest of a record is extra fields that the exports keep.
FORMAT_FIELDS: dict[str, frozenset[str]] = {
    "alpaca": frozenset({"instruction", "input", "output", "response", "system", "history"}),
    "sharegpt": frozenset({"conversations", "system"}),
    "messages": frozenset({"messages"}),
    "pairs": frozenset(
        {"prompt", "response", "completion", "question", "answer", "query", "input", "output", "std_answer", "system"}
    ),
    "text": frozenset({"text"}),
    "preference": frozenset(
        {"chosen", "rejected", "conversations", "messages", "chosen_messages", "rejected_messages", "system"}
    ),
}
_SHAREGPT = {
    "user": "human",
    "assistant": "gpt",
    "tool": "observation",
    "function_call": "function_call",
    "text": "human",
}


def extra_fields(
    original: Mapping[str, Any] | None,
    source_format: str,
    field_map: Mapping[str, str] | None,
    taken: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The uploaded record's fields that its format did not read (``category``, ``id``, …), in upload order."""
    if not isinstance(original, Mapping):
        return {}
    read = FORMAT_FIELDS.get(source_format, frozenset()) | set((field_map or {}).values()) | taken
    return {k: v for k, v in original.items() if k not in read}


def split_input(
    instruction: str, original: Mapping[str, Any] | None, source_format: str, field_map: Mapping[str, str] | None
) -> tuple[str, str]:
    """(instruction, input) as the alpaca upload had them; the ingest joined them as "instruction\n\ninput"."""
    if source_format != "alpaca" or not isinstance(original, Mapping):
        return instruction, ""
    fm = field_map or {}
    instr, inp = original.get(fm.get("instruction", "instruction")), original.get(fm.get("input", "input"))
    if isinstance(instr, str) and isinstance(inp, str) and inp.strip() and instruction == f"{instr}\n\n{inp}":
        return instr, inp
    return instruction, ""


def to_alpaca(
    conv: Mapping[str, Any],
    original: Mapping[str, Any] | None = None,
    source_format: str = "",
    field_map: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    turns = conv["turns"]
    if len(turns) == 1 and turns[0]["role"] == "text":
        return {"text": turns[0]["content"]}
    last_a = max((i for i, t in enumerate(turns) if t["role"] == "assistant"), default=len(turns))
    last_u = max((i for i, t in enumerate(turns[:last_a]) if t["role"] == "user"), default=0)
    history, pending = [], None
    for t in turns[:last_u]:
        if t["role"] == "user":
            pending = t["content"]
        elif t["role"] == "assistant" and pending is not None:
            history.append([pending, t["content"]])
            pending = None
    instruction, inp = split_input(turns[last_u]["content"] if turns else "", original, source_format, field_map)
    out: dict[str, Any] = {
        "instruction": instruction,
        "input": inp,
        "output": turns[last_a]["content"] if last_a < len(turns) else "",
    }
    if conv.get("system"):
        out["system"] = conv["system"]
    if history:
        out["history"] = history
    return {**out, **extra_fields(original, source_format, field_map, frozenset(out))}


def to_sharegpt(conv: Mapping[str, Any]) -> dict[str, Any]:
    turns = [{"from": "system", "value": conv["system"]}] if conv.get("system") else []
    turns += [{"from": _SHAREGPT.get(t["role"], t["role"]), "value": t["content"]} for t in conv["turns"]]
    return {"conversations": turns}


def to_messages(conv: Mapping[str, Any]) -> dict[str, Any]:
    msgs = [{"role": "system", "content": conv["system"]}] if conv.get("system") else []
    msgs += [{"role": "user" if t["role"] == "text" else t["role"], "content": t["content"]} for t in conv["turns"]]
    return {"messages": msgs}


def export_record(
    fmt: str,
    index: int,
    conv: Mapping[str, Any],
    original: Mapping[str, Any] | None = None,
    source_format: str = "",
    field_map: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One exported record; ``original`` (the uploaded record) supplies the input split and extra fields."""
    if fmt == "alpaca":
        return to_alpaca(conv, original, source_format, field_map)
    if fmt == "sharegpt":
        out = to_sharegpt(conv)
    elif fmt == "messages":
        out = to_messages(conv)
    else:
        return {"index": index, "system": conv.get("system"), "turns": conv["turns"]}
    return {**out, **extra_fields(original, source_format, field_map, frozenset(out))}
