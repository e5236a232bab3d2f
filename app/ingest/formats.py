"""Record formats → the one conversation model.

Each normaliser takes one parsed record (a dict) and returns ``(system, turns)`` or raises
:class:`FieldError` naming the field that is wrong.  ``detect_format`` picks the normaliser from the
first record's keys; users can override it (``format=``) and rename fields (``field_map``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

Turns = list[tuple[str, str]]
FORMATS = ("alpaca", "sharegpt", "messages", "pairs", "text", "preference")


class FieldError(Exception):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _text(rec: Mapping[str, Any], key: str, *, required: bool = True, allow_empty: bool = True) -> str:
    if key not in rec or rec[key] is None:
        if required:
            raise FieldError(key, "missing")
        return ""
    value = rec[key]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise FieldError(key, f"must be a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise FieldError(key, "is empty")
    return value


SHAREGPT_ROLES = {
    "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "chatgpt": "assistant",
    "bing": "assistant", "bard": "assistant", "model": "assistant", "system": "system",
    "function_call": "function_call", "observation": "tool", "tool": "tool", "function": "tool",
}
MESSAGE_ROLES = {"user": "user", "assistant": "assistant", "system": "system", "tool": "tool",
                 "function": "tool", "developer": "system", "model": "assistant"}


def alpaca(rec: Mapping[str, Any], fm: Mapping[str, str]) -> tuple[str | None, Turns]:
    instruction = _text(rec, fm.get("instruction", "instruction"), allow_empty=False)
    inp = _text(rec, fm.get("input", "input"), required=False)
    out_key = fm.get("output") or ("output" if "output" in rec or "response" not in rec else "response")
    output = _text(rec, out_key)
    system = _text(rec, fm.get("system", "system"), required=False) or None
    turns: Turns = []
    history = rec.get(fm.get("history", "history"))
    if history:
        if not isinstance(history, list):
            raise FieldError("history", "must be a list of [instruction, answer] pairs")
        for i, pair in enumerate(history):
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
                raise FieldError(f"history[{i}]", "must be an [instruction, answer] pair of strings")
            turns += [("user", pair[0]), ("assistant", pair[1])]
    user = f"{instruction}\n\n{inp}" if inp.strip() else instruction
    turns += [("user", user), ("assistant", output)]
    return system, turns


def _content(value: Any, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # OpenAI content parts
        parts = []
        for j, part in enumerate(value):
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            else:
                raise FieldError(f"{where}[{j}]", "content part has no text")
        return "\n".join(parts)
    raise FieldError(where, f"must be a string, got {type(value).__name__}")


def _chat(items: Any, key: str, role_key: str, content_key: str, roles: Mapping[str, str],
          system: str | None) -> tuple[str | None, Turns]:
    if not isinstance(items, list) or not items:
        raise FieldError(key, "must be a non-empty list of turns")
    turns: Turns = []
    for i, t in enumerate(items):
        where = f"{key}[{i}]"
        if not isinstance(t, Mapping):
            raise FieldError(where, "must be an object")
        raw_role = t.get(role_key)
        if not isinstance(raw_role, str) or raw_role.lower() not in roles:
            raise FieldError(f"{where}.{role_key}", f"unknown role {raw_role!r}; expected one of {sorted(set(roles))}")
        role = roles[raw_role.lower()]
        content = _content(t.get(content_key), f"{where}.{content_key}")
        if not content and t.get("tool_calls"):
            content = json.dumps(t["tool_calls"], ensure_ascii=False, sort_keys=True)
            role = "function_call"
        if role == "system":
            if turns:
                raise FieldError(where, "a system turn may only come first")
            system = content
            continue
        turns.append((role, content))
    if not any(r == "assistant" for r, _ in turns):
        raise FieldError(key, "has no assistant turn")
    if not any(r == "user" for r, _ in turns):
        raise FieldError(key, "has no user turn")
    return system, turns


def sharegpt(rec: Mapping[str, Any], fm: Mapping[str, str]) -> tuple[str | None, Turns]:
    key = fm.get("conversations", "conversations")
    if key not in rec:
        raise FieldError(key, "missing")
    system = _text(rec, fm.get("system", "system"), required=False) or None
    return _chat(rec[key], key, fm.get("role", "from"), fm.get("content", "value"), SHAREGPT_ROLES, system)


def messages(rec: Mapping[str, Any], fm: Mapping[str, str]) -> tuple[str | None, Turns]:
    key = fm.get("messages", "messages")
    if key not in rec:
        raise FieldError(key, "missing")
    return _chat(rec[key], key, fm.get("role", "role"), fm.get("content", "content"), MESSAGE_ROLES, None)


PAIR_KEYS = (("prompt", "response"), ("prompt", "completion"), ("question", "answer"), ("query", "response"),
             ("question", "response"), ("input", "output"), ("question", "std_answer"))


def pairs(rec: Mapping[str, Any], fm: Mapping[str, str]) -> tuple[str | None, Turns]:
    if "instruction" in fm and "output" in fm:
        q_key, a_key = fm["instruction"], fm["output"]
    else:
        for q_key, a_key in PAIR_KEYS:
            if q_key in rec and a_key in rec:
                break
        else:
            raise FieldError("prompt", "no prompt/response pair found (set field_map)")
    system = _text(rec, fm.get("system", "system"), required=False) or None
    return system, [("user", _text(rec, q_key, allow_empty=False)), ("assistant", _text(rec, a_key))]


def text(rec: Mapping[str, Any], fm: Mapping[str, str]) -> tuple[str | None, Turns]:
    return None, [("text", _text(rec, fm.get("text", "text"), allow_empty=False))]


def preference(rec: Mapping[str, Any], fm: Mapping[str, str]) -> tuple[str | None, Turns]:
    """Anthropic HH style ``chosen`` dialogue ("\\n\\nHuman: … \\n\\nAssistant: …"); ``rejected`` is kept in the original."""
    raw = _text(rec, fm.get("chosen", "chosen"), allow_empty=False)
    turns: Turns = []
    for chunk in raw.split("\n\n"):
        if chunk.startswith("Human:"):
            turns.append(("user", chunk[6:].strip()))
        elif chunk.startswith("Assistant:"):
            turns.append(("assistant", chunk[10:].strip()))
        elif turns:
            role, content = turns[-1]
            turns[-1] = (role, f"{content}\n\n{chunk}")
    if not any(r == "assistant" for r, _ in turns) or not any(r == "user" for r, _ in turns):
        raise FieldError("chosen", "no Human:/Assistant: turns found")
    return None, turns


NORMALISERS: dict[str, Callable[[Mapping[str, Any], Mapping[str, str]], tuple[str | None, Turns]]] = {
    "alpaca": alpaca, "sharegpt": sharegpt, "messages": messages, "pairs": pairs, "text": text,
    "preference": preference,
}


def detect_format(rec: Mapping[str, Any], field_map: Mapping[str, str]) -> str | None:
    keys = set(rec)
    if field_map.get("conversations") in keys or "conversations" in keys:
        return "sharegpt"
    if field_map.get("messages") in keys or "messages" in keys:
        return "messages"
    if "instruction" in field_map and "output" in field_map:
        return "alpaca" if field_map["instruction"] == "instruction" else "pairs"
    if "instruction" in keys and ({"output", "response"} & keys):
        return "alpaca"
    if "chosen" in keys and "rejected" in keys and isinstance(rec.get("chosen"), str):
        return "preference"
    if any(q in keys and a in keys for q, a in PAIR_KEYS):
        return "pairs"
    if (field_map.get("text") or "text") in keys:
        return "text"
    return None
