"""Normalised conversations → alpaca / ShareGPT / messages / JSONL records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

EXPORT_FORMATS = ("alpaca", "sharegpt", "messages", "jsonl")
_SHAREGPT = {"user": "human", "assistant": "gpt", "tool": "observation", "function_call": "function_call",
             "text": "human"}


def to_alpaca(conv: Mapping[str, Any]) -> dict[str, Any]:
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
    out: dict[str, Any] = {"instruction": turns[last_u]["content"] if turns else "", "input": "",
                           "output": turns[last_a]["content"] if last_a < len(turns) else ""}
    if conv.get("system"):
        out["system"] = conv["system"]
    if history:
        out["history"] = history
    return out


def to_sharegpt(conv: Mapping[str, Any]) -> dict[str, Any]:
    turns = [{"from": "system", "value": conv["system"]}] if conv.get("system") else []
    turns += [{"from": _SHAREGPT.get(t["role"], t["role"]), "value": t["content"]} for t in conv["turns"]]
    return {"conversations": turns}


def to_messages(conv: Mapping[str, Any]) -> dict[str, Any]:
    msgs = [{"role": "system", "content": conv["system"]}] if conv.get("system") else []
    msgs += [{"role": "user" if t["role"] == "text" else t["role"], "content": t["content"]} for t in conv["turns"]]
    return {"messages": msgs}


def export_record(fmt: str, index: int, conv: Mapping[str, Any]) -> dict[str, Any]:
    if fmt == "alpaca":
        return to_alpaca(conv)
    if fmt == "sharegpt":
        return to_sharegpt(conv)
    if fmt == "messages":
        return to_messages(conv)
    return {"index": index, "system": conv.get("system"), "turns": conv["turns"]}
