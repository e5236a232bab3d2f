"""Record formats → the one conversation model.

Each normaliser takes one parsed record (a dict) and returns ``(system, turns)`` or raises
:class:`FieldError` naming the field that is wrong.  ``detect_format`` picks the normaliser from the
first record's keys; users can override it (``format=``) and rename fields (``field_map``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

#: (role, content) or (role, content, loss_weight): a weight is kept only where the upload gave one
#: (LLaMA-Factory's per-message ``loss_weight``; training honours it, see app/training_spec/formatting.py).
Turns = list[tuple[str, str] | tuple[str, str, float]]
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
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bing": "assistant",
    "bard": "assistant",
    "model": "assistant",
    "system": "system",
    "function_call": "function_call",
    "observation": "tool",
    "tool": "tool",
    "function": "tool",
}
MESSAGE_ROLES = {
    "user": "user",
    "assistant": "assistant",
    "system": "system",
    "tool": "tool",
    "function": "tool",
    "developer": "system",
    "model": "assistant",
}


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


#: Content-part types read as text: OpenAI ``{"type": "text", "text": …}`` and LLaMA-Factory's
#: ``{"type": "text"|"reasoning"|"tool_call", "value": …}``.
TEXT_PARTS = frozenset({"text", "reasoning", "tool_call", "input_text", "output_text"})


def _content(value: Any, where: str) -> str:
    return _content_parts(value, where)[0]


def _content_parts(value: Any, where: str) -> tuple[str, bool]:
    """The text of a message's content, and whether every part of it is a tool call."""
    if value is None:
        return "", False
    if isinstance(value, str):
        return value, False
    if isinstance(value, list):  # OpenAI / LLaMA-Factory content parts
        parts, kinds = [], []
        for j, part in enumerate(value):
            if isinstance(part, str):
                parts.append(part)
                kinds.append("text")
                continue
            if not isinstance(part, Mapping):
                raise FieldError(f"{where}[{j}]", "a content part must be a string or an object")
            kind = part.get("type", "text")
            if kind not in TEXT_PARTS:
                raise FieldError(
                    f"{where}[{j}]", f"content part of type {kind!r} is not text (only text rows are audited)"
                )
            text = part.get("text") if isinstance(part.get("text"), str) else part.get("value")
            if not isinstance(text, str):
                raise FieldError(f"{where}[{j}]", "content part has no text (expected a 'text' or 'value' string)")
            parts.append(text)
            kinds.append(kind)
        return "\n".join(parts), bool(kinds) and all(k == "tool_call" for k in kinds)
    raise FieldError(where, f"must be a string, got {type(value).__name__}")


def _loss_weight(t: Mapping[str, Any], where: str) -> float | None:
    w = t.get("loss_weight")
    if w is None:
        return None
    if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= float(w) < float("inf"):
        raise FieldError(f"{where}.loss_weight", "must be a number ≥ 0")
    return float(w)


def _chat(
    items: Any, key: str, role_key: str, content_key: str, roles: Mapping[str, str], system: str | None
) -> tuple[str | None, Turns]:
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
        content, tool_call = _content_parts(t.get(content_key), f"{where}.{content_key}")
        if tool_call and role == "assistant":
            role = "function_call"
        if not content and t.get("tool_calls"):
            content = json.dumps(t["tool_calls"], ensure_ascii=False, sort_keys=True)
            role = "function_call"
        weight = _loss_weight(t, where)
        if role == "system":
            if turns:
                raise FieldError(where, "a system turn may only come first")
            system = content
            continue
        turns.append((role, content) if weight is None else (role, content, weight))
    if not any(t[0] == "assistant" for t in turns):
        raise FieldError(key, "has no assistant turn")
    if not any(t[0] == "user" for t in turns):
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


PAIR_KEYS = (
    ("prompt", "response"),
    ("prompt", "completion"),
    ("question", "answer"),
    ("query", "response"),
    ("question", "response"),
    ("input", "output"),
    ("question", "std_answer"),
)


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
    """A chosen/rejected pair; the chosen conversation is what is audited, the rejected side stays in the
    original record (reward training reads it with :func:`rejected_reply`).  Three shapes:

    * Anthropic HH: ``chosen``/``rejected`` dialogue strings ("\\n\\nHuman: … \\n\\nAssistant: …");
    * LLaMA-Factory ShareGPT: ``conversations`` (or ``messages``) for the prompt, ``chosen`` and ``rejected``
      one assistant message each (``{"from": "gpt", "value": …}``);
    * whole conversations: ``chosen``/``rejected`` (or LLaMA-Factory v1's ``chosen_messages``/``rejected_messages``)
      lists of messages ending in the two replies.
    """
    key = fm.get("chosen", "chosen")
    if key not in rec and "chosen_messages" in rec:
        key = "chosen_messages"
    chosen = rec.get(key)
    if isinstance(chosen, Mapping):
        prompt_key = "conversations" if "conversations" in rec else "messages" if "messages" in rec else None
        if prompt_key is None:
            raise FieldError(
                "conversations", "missing: a chosen message object needs the prompt turns in conversations"
            )
        items = rec[prompt_key]
        if not isinstance(items, list):
            raise FieldError(prompt_key, "must be a list of turns")
        _reply_text(rec.get("rejected"), "rejected")
        sharegpt_style = "from" in chosen or any(isinstance(t, Mapping) and "from" in t for t in items)
        role_key, content_key, roles = (
            ("from", "value", SHAREGPT_ROLES) if sharegpt_style else ("role", "content", MESSAGE_ROLES)
        )
        system = _text(rec, fm.get("system", "system"), required=False) or None
        return _chat([*items, chosen], prompt_key, role_key, content_key, roles, system)
    if isinstance(chosen, list):
        rejected_key = "rejected_messages" if key == "chosen_messages" else "rejected"
        _reply_text(rec.get(rejected_key), rejected_key)
        sharegpt_style = any(isinstance(t, Mapping) and "from" in t for t in chosen)
        role_key, content_key, roles = (
            ("from", "value", SHAREGPT_ROLES) if sharegpt_style else ("role", "content", MESSAGE_ROLES)
        )
        return _chat(chosen, key, role_key, content_key, roles, None)
    raw = _text(rec, key, allow_empty=False)
    turns: Turns = []
    for chunk in raw.split("\n\n"):
        if chunk.startswith("Human:"):
            turns.append(("user", chunk[6:].strip()))
        elif chunk.startswith("Assistant:"):
            turns.append(("assistant", chunk[10:].strip()))
        elif turns:
            role, content = turns[-1][:2]
            turns[-1] = (role, f"{content}\n\n{chunk}")
    if not any(t[0] == "assistant" for t in turns) or not any(t[0] == "user" for t in turns):
        raise FieldError(key, "no Human:/Assistant: turns found")
    return None, turns


def _reply_text(value: Any, where: str) -> str:
    """The text of a rejected reply: one message object, or the last assistant message of a list."""
    if isinstance(value, list):
        replies = [
            t
            for t in value
            if isinstance(t, Mapping)
            and str(t.get("from", t.get("role", ""))).lower() in ("gpt", "assistant", "model", "chatgpt")
        ]
        if not replies:
            raise FieldError(where, "has no assistant message")
        value = replies[-1]
    if not isinstance(value, Mapping):
        raise FieldError(where, "missing: expected a message object or a list of messages")
    text = _content(value.get("value", value.get("content")), f"{where}.value")
    if not text.strip():
        raise FieldError(where, "is empty")
    return text


def rejected_reply(original: Mapping[str, Any]) -> str | None:
    """The rejected reply of a message-object or message-list preference record, or None (HH-RLHF strings are
    parsed by ``app.training.reward.pair_from_hh_rlhf``)."""
    for key in ("rejected", "rejected_messages"):
        value = original.get(key)
        if value is None or isinstance(value, str):
            continue
        try:
            return _reply_text(value, key)
        except FieldError:
            return None
    return None


NORMALISERS: dict[str, Callable[[Mapping[str, Any], Mapping[str, str]], tuple[str | None, Turns]]] = {
    "alpaca": alpaca,
    "sharegpt": sharegpt,
    "messages": messages,
    "pairs": pairs,
    "text": text,
    "preference": preference,
}


def detect_format(rec: Mapping[str, Any], field_map: Mapping[str, str]) -> str | None:
    keys = set(rec)
    if ("chosen" in keys and "rejected" in keys) or ("chosen_messages" in keys and "rejected_messages" in keys):
        return "preference"
    if field_map.get("conversations") in keys or "conversations" in keys:
        return "sharegpt"
    if field_map.get("messages") in keys or "messages" in keys:
        return "messages"
    if "instruction" in field_map and "output" in field_map:
        return "alpaca" if field_map["instruction"] == "instruction" else "pairs"
    if "instruction" in keys and ({"output", "response"} & keys):
        return "alpaca"
    if any(q in keys and a in keys for q, a in PAIR_KEYS):
        return "pairs"
    if (field_map.get("text") or "text") in keys:
        return "text"
    return None
