"""Loaders for the answer-quality benchmark: the real files of ``../shared/data`` → :class:`Sample`.

Bench scripts read the JSON directly (the ingest layer lives in ``app/``); the mapping is the
alpaca one: user turn = instruction + "\\n\\n" + input (when there is an input), assistant = output.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
from pathlib import Path

from scorers.samples import Sample, Turn

ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    return Path(os.environ.get("SFTAUDIT_SHARED_DATA", ROOT.parent / "shared" / "data"))


def alpaca_sample(index: int, row: dict) -> Sample:
    user = f"{row['instruction']}\n\n{row['input']}" if row.get("input") else row["instruction"]
    return Sample(
        index=index, turns=(Turn("user", user), Turn("assistant", row.get("output") or "")), meta={"original": row}
    )


def load_alpaca(name: str = "stanford_alpaca/alpaca_data.json") -> list[dict]:
    return json.loads((data_dir() / name).read_text())


def alpaca_samples(rows: list[dict]) -> list[Sample]:
    return [alpaca_sample(i, r) for i, r in enumerate(rows)]


def alpagasus_labels(rows: list[dict], kept_file: str) -> list[int]:
    """1 where the Alpaca row is in the AlpaGasus kept subset (exact (instruction, input, output))."""
    kept = {(r["instruction"], r["input"], r["output"]) for r in load_alpaca(f"alpagasus/{kept_file}")}
    return [int((r["instruction"], r["input"], r["output"]) in kept) for r in rows]


_TURN = re.compile(r"\n\nHuman: |\n\nAssistant: ")


def dialogue_sample(index: int, text: str) -> Sample:
    """An hh-rlhf ``\\n\\nHuman: …\\n\\nAssistant: …`` dialogue as a sample."""
    roles = re.findall(r"\n\n(Human|Assistant): ", text)
    parts = _TURN.split(text)[1:]
    turns = tuple(Turn("user" if r == "Human" else "assistant", p.strip()) for r, p in zip(roles, parts))
    return Sample(index=index, turns=turns)


def hh_pairs(limit: int | None = None) -> tuple[list[Sample], list[int], list[int]]:
    """Samples (chosen and rejected interleaved), labels (1 = chosen), and the pair id of each."""
    samples, labels, pair = [], [], []
    with gzip.open(data_dir() / "hh_rlhf/harmless-base/test.jsonl.gz", "rt") as fh:
        for k, line in enumerate(fh):
            if limit is not None and k >= limit:
                break
            row = json.loads(line)
            for text, lab in ((row["chosen"], 1), (row["rejected"], 0)):
                samples.append(dialogue_sample(len(samples), text))
                labels.append(lab)
                pair.append(k)
    return samples, labels, pair


def kto_samples() -> tuple[list[Sample], list[int]]:
    rows = json.loads((data_dir() / "llama_factory/kto_en_demo.json").read_text())
    samples = []
    for i, r in enumerate(rows):
        turns = tuple(
            Turn(m["role"] if m["role"] in ("user", "assistant") else "user", m["content"]) for m in r["messages"]
        )
        samples.append(Sample(index=i, turns=turns))
    return samples, [int(bool(r["label"])) for r in rows]


def oasst_siblings() -> tuple[list[Sample], list[int], list[int]]:
    """Assistant replies that carry a sibling rank: samples, rank (0 = best), group id (the parent)."""
    samples, ranks, groups = [], [], []

    def walk(node: dict, history: tuple[Turn, ...], group: int) -> None:
        role = "user" if node["role"] == "prompter" else "assistant"
        turns = history + (Turn(role, node["text"]),)
        if role == "assistant" and node.get("rank") is not None:
            samples.append(Sample(index=len(samples), turns=turns))
            ranks.append(int(node["rank"]))
            groups.append(group)
        for child in node.get("replies") or []:
            walk(child, turns, id(node))

    with open(data_dir() / "oasst_en_100/en_100_message.jsonl") as fh:
        for line in fh:
            tree = json.loads(line)
            walk(tree.get("prompt", tree), (), 0)
    return samples, ranks, groups


def gsm8k_rows() -> list[dict]:
    return load_alpaca("gsm8k_alpaca_format/gsm_8k_train.json")


_LAST_NUM = re.compile(r"(\d[\d,]*(?:\.\d+)?)(?!.*\d)", re.S)


def alter_final_answers(rows: list[dict], seed: int = 0) -> list[dict]:
    """A copy of GSM8K with the last number of every output changed (seeded): the wrong-answer ground truth."""
    rng = random.Random(seed)
    out = []
    for r in rows:
        m = _LAST_NUM.search(r["output"])
        if not m:
            out.append(dict(r))
            continue
        old = m.group(1).replace(",", "")
        value = float(old)
        while True:
            new = value + rng.choice([-1, 1]) * rng.choice([1, 2, 3, 5, 10, max(1, round(abs(value) * 0.1))])
            if new != value and new >= 0:
                break
        text = str(int(new)) if "." not in old else f"{new:.{len(old.split('.')[1])}f}"
        out.append(dict(r, output=r["output"][: m.start(1)] + text + r["output"][m.end(1) :]))
    return out


def chinese_samples() -> dict[str, list[Sample]]:
    """The Chinese sets: carbonz0 Chinese Alpaca, the BELLE eval set, OpenAssistant Chinese (SFT, with history)."""
    zh = load_alpaca("alpaca_chinese_carbonz0/zh-data-part-00.json")
    with open(data_dir() / "belle/eval_set.json") as fh:
        belle = [json.loads(line) for line in fh if line.strip()]
    oaast = load_alpaca("llama_factory/oaast_sft_zh.json")
    oaast_samples = []
    for i, r in enumerate(oaast):
        turns = tuple(
            Turn(role, text) for pair in r.get("history") or [] for role, text in zip(("user", "assistant"), pair)
        )
        user = f"{r['instruction']}\n\n{r['input']}" if r.get("input") else r["instruction"]
        oaast_samples.append(
            Sample(index=i, turns=turns + (Turn("user", user), Turn("assistant", r["output"])), meta={"original": r})
        )
    return {
        "alpaca_chinese_carbonz0 (zh-data-part-00)": alpaca_samples(zh),
        "BELLE eval_set": [
            Sample(index=i, turns=(Turn("user", r["question"]), Turn("assistant", r["std_answer"])))
            for i, r in enumerate(belle)
        ],
        "oaast_sft_zh": oaast_samples,
    }


_ASK_START = re.compile(
    r"^(?:explain|describe|list|name|give|provide|suggest|write|identify|compare|summari[sz]e|"
    r"discuss|outline|define|state|recommend|predict|analy[sz]e|evaluate)\b",
    re.I,
)
_ZH_ASK_START = re.compile(
    r"^(?:解释|描述|列出|列举|说出|给出|提供|建议|写|找出|比较|总结|讨论|概述|定义|推荐|预测|分析|评估|介绍|说明)"
)


def combined_asks(rows: list[dict], n: int = 1000, seed: int = 0, zh: bool = False) -> list[tuple[str, str, str, int]]:
    """Two real instructions joined into one, as (style, instruction, answer, label), label 1 = an ask left unanswered.

    Rows without an input whose instruction is one short ask ("Explain …", "列出…"), or one question, are
    paired (seeded).
    Each pair gives the joined instruction twice: answered with the first row's real answer only
    (label 1: the second ask is not addressed), and with both real answers, unnumbered (label 0:
    every ask is addressed, in the data's own words). Styles: numbered parts ("1. … 2. …", "1、…",
    "（1）…"), a joined "Additionally, …" sentence, and two questions in a row."""
    start = _ZH_ASK_START if zh else _ASK_START
    ok = [
        r
        for r in rows
        if not r.get("input")
        and "\n" not in r["instruction"]
        and len(r["instruction"]) < 120
        and r["output"].strip()
        and len(r["output"]) < 1500
    ]
    rng = random.Random(seed)
    out: list[tuple[str, str, str, int]] = []
    asks = [r for r in ok if start.match(r["instruction"])]
    questions = [
        r
        for r in ok
        if r["instruction"].rstrip().endswith(("?", "？"))
        and r["instruction"].count("?") + r["instruction"].count("？") == 1
    ]
    rng.shuffle(asks)
    rng.shuffle(questions)
    for a, b in [
        *zip(asks[0 : 2 * n : 2], asks[1 : 2 * n : 2]),
        *zip(questions[0 : 2 * n : 2], questions[1 : 2 * n : 2]),
    ]:
        x, y = a["instruction"].strip(), b["instruction"].strip()
        if zh:
            styles = {"numbered (1、2、)": f"1、{x}\n2、{y}", "numbered (（1）（2）)": f"（1）{x}（2）{y}"}
            if x.endswith(("？", "?")) and y.endswith(("？", "?")):
                styles = {"two questions": f"{x}{y}"}
        elif x.endswith("?") and y.endswith("?"):
            styles = {"two questions": f"{x} {y}"}
        else:
            styles = {
                "numbered (1. 2.)": f"1. {x}\n2. {y}",
                "joined (Additionally, …)": f"{x.rstrip('.')}. Additionally, {y[0].lower()}{y[1:]}",
            }
        for style, ins in styles.items():
            out.append((style, ins, a["output"], 1))
            out.append((style, ins, f"{a['output']}\n\n{b['output']}", 0))
    return out
