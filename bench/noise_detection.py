"""Noise detection benchmark: inject known noise into real data, audit it, score the flags.

For each base dataset (clean-ish real data from ../shared/data), a seeded script picks disjoint rows
and injects one noise type per row; the audit then runs every noise scorer and we print, per noise
type, the recall of its flag codes, per flag code its precision, and the false-positive rate on the
rows nobody touched.  Then the audit runs on the untouched original Alpaca 52k: counts per code and
20 flagged rows to check by eye.

    python -m bench.noise_detection                 # everything (embeddings take a few minutes on CPU)
    python -m bench.noise_detection --no-embeddings # skip semantic_duplicate / mismatched_answer
    python -m bench.noise_detection --cache /tmp/emb  # reuse embeddings between runs

Definitions: a row is *flagged* when it has a warning or error flag (``info`` flags such as
``extreme_length`` are observations, reported apart).  False positives are reported raw and on the
untouched rows not adjudicated as defective in ``bench/noise_adjudicated.json`` (rows read by eye).  The partner rows of injected duplicates and
swaps (the originals they copy or trade with) are neither injected nor untouched: flags there count
for no one.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._data import load  # noqa: E402
from scorers import ModelConfig, Sample, Turn, run_audit  # noqa: E402

NOISE_SCORERS = [
    "exact_duplicate",
    "duplicate_instruction",
    "duplicate_answer",
    "near_duplicate",
    "conflicting_answers",
    "junk_answer",
    "broken_answer",
    "text_damage",
    "unseen_content",
    "wrong_language",
    "extreme_length",
]
EMBEDDING_SCORERS = ["semantic_duplicate", "mismatched_answer"]

DUP_CODES = {
    "exact_duplicate",
    "duplicate_instruction",
    "duplicate_answer",
    "near_duplicate",
    "semantic_duplicate",
    "conflicting_answers",
}
#: injected type -> (codes that count as detecting it, codes that are also correct on such a row)
TYPES: dict[str, tuple[set[str], set[str]]] = {
    "exact_duplicate": ({"exact_duplicate"}, DUP_CODES),
    "near_duplicate": ({"near_duplicate", "duplicate_instruction", "exact_duplicate"}, DUP_CODES),
    "empty_answer": ({"empty_answer"}, {"extreme_length"}),
    "placeholder_answer": ({"placeholder_answer"}, {"extreme_length", "mismatched_answer"}),
    "placeholder_input": ({"placeholder_input"}, set()),
    "control_characters": ({"control_characters"}, set()),
    "mojibake": ({"mojibake"}, set()),
    # unfinished_answer: the same defect read by the configured LM (--lm; answer_ending)
    "truncated_answer": ({"truncated_answer", "unfinished_answer"}, {"extreme_length"}),
    "refusal": (
        {"refusal", "ai_boilerplate"},
        {"mismatched_answer", "extreme_length", "duplicate_answer", "conflicting_answers"},
    ),
    "wrong_language": ({"wrong_language"}, {"mismatched_answer", "extreme_length"}),
    "merged_instructions": ({"merged_instructions"}, {"extreme_length", "truncated_answer", "unfinished_answer"}),
    "swapped_answer": ({"mismatched_answer"}, {"conflicting_answers", "wrong_language", "extreme_length"}),
    "partner": (set(), DUP_CODES | {"mismatched_answer"}),
}
#: untouched rows of the bases whose flags were read by eye (``--show-fp``) and found to be real defects of
#: the base data (HTML entities, "No input" inputs, URL-only prompts, real empty answers, repeated problems…),
#: one line of reason each.  Rows are added only after reading them, never by rerunning a detector.
ADJUDICATED = Path(__file__).with_name("noise_adjudicated.json")


def load_adjudicated(path: Path = ADJUDICATED) -> dict[str, dict[int, set[str]]]:
    """base -> row -> codes adjudicated as real defects of that row."""
    out: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for e in json.loads(path.read_text(encoding="utf-8"))["rows"]:
        out[e["base"]][e["row"]].add(e["code"])
    return out


GOALS = {
    "exact_duplicate": 0.95,
    "empty_answer": 0.95,
    "placeholder_answer": 0.95,
    "control_characters": 0.95,
    "near_duplicate": 0.85,
    "truncated_answer": 0.85,
    "refusal": 0.85,
    "wrong_language": 0.85,
    "merged_instructions": 0.85,
    "swapped_answer": 0.85,
}

PLACEHOLDERS_EN = ["<nooutput>", "N/A", "<No Output>", "No output", "<noanswer>", "[No output]", "n/a", "No Output."]
PLACEHOLDERS_ZH = ["<无输出>", "无输出", "N/A", "<nooutput>"]
INPUT_PLACEHOLDERS_EN = ["<noinput>", "No input", "Noinput", "No input required.", "<No Input>", "None", "N/A"]
INPUT_PLACEHOLDERS_ZH = ["<无输入>", "无输入", "<noinput>", "无"]
REFUSALS_EN = [
    "I'm sorry, but I can't help with that request.",
    "As an AI language model, I am unable to browse the internet or access that information.",
    "Unfortunately, I cannot complete this task because it requires real-time data.",
    "I apologize, but I'm not able to provide an answer to this question.",
    "I cannot fulfill this request.",
    "Sorry, as an AI I don't have personal opinions or the ability to do that.",
]
REFUSALS_ZH = [
    "抱歉，我无法完成这个任务。",
    "对不起，作为一个AI语言模型，我不能提供这方面的信息。",
    "很抱歉，我没有办法回答这个问题。",
    "我无法访问互联网，因此不能回答这个问题。",
]
BOILERPLATE_EN = "As an AI language model, I don't have personal experiences, but here is an answer. "
BOILERPLATE_ZH = "作为一个AI语言模型，我没有个人经验，但可以回答。"
CONTROL = [chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 127)]
POLITE_EN = ["Please ", "Can you ", "Kindly "]
POLITE_ZH = ["请", "麻烦", "请你"]


@dataclass
class Injected:
    samples: list[Sample]
    kind: dict[int, str] = field(default_factory=dict)  # position -> injected type (or "partner")


def _turns(s: Sample, instruction: str | None = None, answer: str | None = None) -> Sample:
    turns = list(s.turns)
    ai = max(i for i, t in enumerate(turns) if t.role == "assistant")
    ui = max(i for i, t in enumerate(turns[:ai]) if t.role == "user")
    if instruction is not None:
        turns[ui] = Turn("user", instruction)
    if answer is not None:
        turns[ai] = Turn("assistant", answer)
    return Sample(s.index, tuple(turns), s.system, {})  # injected rows lose their original record


def _cut(answer: str, rng: random.Random) -> str | None:
    """A cut at a word boundary 40–90% into the answer, not right after a sentence end (nor after one and a second
    space: "…board of directors.  It's…" cut at its second space is a finished text; such a draw moves to the next
    boundary, so the seeded draws of every other row stay as they were)."""
    words = [i for i, ch in enumerate(answer) if ch == " " and 0.4 * len(answer) < i < 0.9 * len(answer)]
    words = [i for i in words if answer[i - 1] not in ".!?:;)\"'"]
    if not words:
        return None
    at = rng.choice(words)
    inside = [i for i in words if answer[:i].rstrip()[-1] not in ".!?:;)\"'"]
    if not inside:
        return None
    return answer[: next((i for i in inside if i >= at), inside[-1])]


def _cut_zh(answer: str, rng: random.Random) -> str | None:
    cands = [
        i
        for i in range(int(0.4 * len(answer)), int(0.9 * len(answer)))
        if "\u4e00" <= answer[i - 1] <= "\u9fff" and "\u4e00" <= answer[i] <= "\u9fff"
    ]
    return answer[: rng.choice(cands)] if cands else None


def _perturb(text: str, zh: bool, rng: random.Random) -> str:
    """A near copy that keeps the meaning: a polite prefix, a dropped word, an added closing."""
    head, sep, tail = text.partition("\n\n")
    if zh:
        edits = [
            lambda t: rng.choice(POLITE_ZH) + t,
            lambda t: t.rstrip("。") + "，谢谢。",
            lambda t: t.replace("的", "", 1),
        ]
    else:

        def drop(t: str) -> str:
            ws = t.split()
            if len(ws) < 8:
                return t + " Thanks!"
            k = rng.randrange(1, len(ws) - 1)
            return " ".join(ws[:k] + ws[k + 1 :])

        edits = [lambda t: rng.choice(POLITE_EN) + t[:1].lower() + t[1:], lambda t: t.rstrip(".?!") + ", please.", drop]
    for e in rng.sample(edits, 2):
        head = e(head)
    return head + sep + tail


def _merge(answer: str, other: Sample, zh: bool, rng: random.Random) -> str:
    k = rng.randint(2, 19)
    if zh:
        return f"{answer}\n\n{k}. 指令：{other.instruction}\n{k}. 输出：\n{other.answer}"
    fmt = rng.choice(
        [
            "{a}\n##\n{k}. Instruction: {q}\n{k}. Input:\n<noinput>\n{k}. Output:\n{o}",
            "{a}\n\n### Instruction:\n{q}\n\n### Response:\n{o}",
            "{a}\n\nInstruction: {q}\nOutput: {o}",
        ]
    )
    return fmt.format(a=answer, k=k, q=other.instruction, o=other.answer)


def _mojibake(answer: str) -> str:
    text = answer.replace("'", "\u2019", 1) if "'" in answer else answer.replace(" ", " \u2014 ", 1)
    return text.encode("utf-8").decode("cp1252", errors="ignore")


def inject(base: list[Sample], other_language: list[Sample], zh: bool, seed: int, rate: float) -> Injected:
    rng = random.Random(seed)
    out = list(base)
    n = len(out)
    per = max(6, int(rate * n))
    pool = [i for i in range(n) if out[i].answer.strip() and not out[i].history]
    rng.shuffle(pool)
    take = iter(pool)
    kind: dict[int, str] = {}

    def pick(pred=lambda s: True) -> int | None:
        for i in take:
            if pred(out[i]):
                return i
        return None

    long_answer = (lambda s: len(s.answer) >= 150) if not zh else (lambda s: len(s.answer) >= 60)
    types = [t for t in TYPES if t != "partner" and not (zh and t == "swapped_answer")]
    for t in types:
        for _ in range(per):
            if t in ("exact_duplicate", "near_duplicate"):
                src, dst = pick(), pick()
                if src is None or dst is None:
                    break
                src, dst = min(src, dst), max(src, dst)  # the copy comes later, the original is kept
                s = out[src]
                if t == "exact_duplicate":
                    out[dst] = Sample(
                        out[dst].index,
                        tuple(
                            Turn(x.role, x.content.upper() if rng.random() < 0.3 else x.content + " ") for x in s.turns
                        ),
                        s.system,
                    )
                else:
                    out[dst] = Sample(
                        out[dst].index, _turns(s, instruction=_perturb(s.instruction, zh, rng)).turns, s.system
                    )
                kind[dst], kind[src] = t, "partner"
                continue
            if t == "swapped_answer":
                a, b = pick(long_answer), pick(long_answer)
                if a is None or b is None:
                    break
                sa, sb = out[a], out[b]
                out[a], out[b] = _turns(sa, answer=sb.answer), _turns(sb, answer=sa.answer)
                kind[a] = kind[b] = t
                continue
            i = pick(long_answer) if t in ("truncated_answer", "merged_instructions") else pick()
            if i is None:
                break
            s = out[i]
            if t == "empty_answer":
                new = _turns(s, answer=rng.choice(["", " ", "\n"]))
            elif t == "placeholder_answer":
                new = _turns(s, answer=rng.choice(PLACEHOLDERS_ZH if zh else PLACEHOLDERS_EN))
            elif t == "placeholder_input":
                if "\n\n" in s.instruction:  # has a real input: put the placeholder in its place
                    head = s.instruction.split("\n\n")[0]
                else:
                    head = s.instruction
                new = _turns(
                    s, instruction=head + "\n\n" + rng.choice(INPUT_PLACEHOLDERS_ZH if zh else INPUT_PLACEHOLDERS_EN)
                )
            elif t == "control_characters":
                a = s.answer
                for _ in range(rng.randint(1, 3)):
                    k = rng.randrange(len(a) + 1)
                    a = a[:k] + rng.choice(CONTROL) + a[k:]
                new = _turns(s, answer=a)
            elif t == "mojibake":
                new = _turns(s, answer=_mojibake(s.answer))
            elif t == "truncated_answer":
                cut = (_cut_zh if zh else _cut)(s.answer, rng)
                if cut is None:
                    continue
                new = _turns(s, answer=cut)
            elif t == "refusal":
                if rng.random() < 0.25:
                    new = _turns(s, answer=(BOILERPLATE_ZH if zh else BOILERPLATE_EN) + s.answer)
                else:
                    new = _turns(s, answer=rng.choice(REFUSALS_ZH if zh else REFUSALS_EN))
            elif t == "wrong_language":
                donor = rng.choice(other_language)
                new = _turns(s, answer=donor.answer)
            elif t == "merged_instructions":
                new = _turns(s, answer=_merge(s.answer, out[rng.randrange(n)], zh, rng))
            else:
                raise ValueError(t)
            out[i] = new
            kind[i] = t
    return Injected(out, kind)


def _shown(flags: list[dict]) -> list[dict]:
    """The flags as a report shows them: through the precision gate of scorers/flags.py (a code measured
    wrong on real rows is not raised; one between 0.60 and 0.90 is capped at info)."""
    from scorers.base import Flag
    from scorers.flags import gate

    out = []
    for f in flags:
        g = gate(Flag.from_dict(f))
        if g is not None:
            out.append({**f, "severity": g.severity})
    return out


def evaluate(inj: Injected, flags: list[list[dict]], defective: dict[int, set[str]] | None = None) -> dict:
    """Recall per injected type, precision per code, false positives on the untouched rows: raw, and on
    the untouched rows not adjudicated as defective (``defective``: row -> codes checked by eye)."""
    defective = defective or {}
    per_type_hits: Counter[str] = Counter()
    per_type_detected: Counter[str] = Counter()  # by the detectors, before the precision gate
    per_type_total: Counter[str] = Counter()
    code_tp: Counter[str] = Counter()
    code_all: Counter[str] = Counter()
    code_real: Counter[str] = Counter()  # flags on untouched rows adjudicated as that defect
    untouched = 0
    untouched_flagged = 0
    untouched_info = 0
    fp_codes: Counter[str] = Counter()
    clean = clean_flagged = 0  # untouched rows not adjudicated as defective
    adjudicated = adjudicated_flagged = adjudicated_other_codes = 0
    fp_examples: dict[str, list[int]] = defaultdict(list)
    for pos, raw in enumerate(flags):
        t = inj.kind.get(pos)
        fl = _shown(raw)
        serious = {f["code"] for f in fl if f["severity"] != "info"}
        every = {f["code"] for f in fl}
        for c in every:
            if t == "partner":
                continue
            code_all[c] += 1
            if t is not None and (c in TYPES[t][0] or c in TYPES[t][1]):
                code_tp[c] += 1
            elif t is None and c in defective.get(pos, ()):
                code_real[c] += 1
        if t is None:
            untouched += 1
            untouched_flagged += bool(serious)
            untouched_info += bool(every)
            if pos in defective:
                adjudicated += 1
                adjudicated_flagged += bool(serious & defective[pos])
                adjudicated_other_codes += len(serious - defective[pos])
            else:
                clean += 1
                clean_flagged += bool(serious)
            for c in serious:
                fp_codes[c] += 1
                fp_examples[c].append(pos)
        elif t != "partner":
            per_type_total[t] += 1
            per_type_hits[t] += bool(every & TYPES[t][0])
            per_type_detected[t] += bool({f["code"] for f in raw} & TYPES[t][0])
    return {
        "hits": per_type_hits,
        "detected": per_type_detected,
        "total": per_type_total,
        "code_tp": code_tp,
        "code_all": code_all,
        "code_real": code_real,
        "untouched": untouched,
        "untouched_flagged": untouched_flagged,
        "untouched_any": untouched_info,
        "clean": clean,
        "clean_flagged": clean_flagged,
        "adjudicated": adjudicated,
        "adjudicated_flagged": adjudicated_flagged,
        "adjudicated_other_codes": adjudicated_other_codes,
        "fp_codes": fp_codes,
        "fp_examples": fp_examples,
    }


def merge(results: list[dict]) -> dict:
    total: dict = {}
    for r in results:
        for k, v in r.items():
            if isinstance(v, Counter):
                total.setdefault(k, Counter()).update(v)
            elif isinstance(v, int):
                total[k] = total.get(k, 0) + v
    return total


def print_table(r: dict) -> None:
    print(
        "\nrecall: a row counts as found when a flag of its type's codes is shown (after the precision gate, any "
        "severity);\ndetected: raised by the detectors before the gate (a code held back by the gate is still "
        "measured here)"
    )
    print(f"\n{'injected type':<22}{'rows':>6}{'found':>7}{'recall':>8}{'goal':>7}{'detected':>10}")
    inj_rows = inj_hits = 0
    for t in TYPES:
        if t == "partner" or not r["total"].get(t):
            continue
        rec = r["hits"][t] / r["total"][t]
        goal = GOALS.get(t)
        mark = "" if goal is None else ("  ok" if rec >= goal else "  MISS")
        det = r["detected"][t] / r["total"][t]
        print(f"{t:<22}{r['total'][t]:>6}{r['hits'][t]:>7}{rec:>8.3f}{goal if goal else '':>7}{det:>10.3f}{mark}")
        inj_rows += r["total"][t]
        inj_hits += r["hits"][t]
    print(f"{'overall':<22}{inj_rows:>6}{inj_hits:>7}{inj_hits / max(inj_rows, 1):>8.3f}")
    print(
        f"\n{'flag code':<24}{'flagged rows':>13}{'correct':>9}{'precision':>11}{'+ real defects':>16}{'precision':>11}"
    )
    for c in sorted(r["code_all"]):
        tp, real, n = r["code_tp"][c], r["code_real"][c], r["code_all"][c]
        print(f"{c:<24}{n:>13}{tp:>9}{tp / n:>11.3f}{real:>16}{(tp + real) / n:>11.3f}")
    tp, real, allc = sum(r["code_tp"].values()), sum(r["code_real"].values()), sum(r["code_all"].values())
    print(
        f"{'all codes (micro)':<24}{allc:>13}{tp:>9}{tp / max(allc, 1):>11.3f}{real:>16}"
        f"{(tp + real) / max(allc, 1):>11.3f}"
    )
    print(
        "  (correct: on a row injected with a type the code belongs to; + real defects: on an untouched row "
        "adjudicated as that defect)"
    )
    u = r["untouched"]
    print(
        f"\nuntouched rows: {u}; flagged (warning/error): {r['untouched_flagged']} = "
        f"{r['untouched_flagged'] / max(u, 1):.2%} (raw: real defects of the bases included); "
        f"with info flags: {r['untouched_any'] / max(u, 1):.2%}"
    )
    c = r["clean"]
    print(
        f"  on the {c} untouched rows not adjudicated as defective (bench/noise_adjudicated.json): "
        f"{r['clean_flagged']} = {r['clean_flagged'] / max(c, 1):.2%} (goal <= 2%)"
    )
    print(
        f"  adjudicated defective rows among the untouched: {r['adjudicated']}, flagged with an adjudicated code: "
        f"{r['adjudicated_flagged']}; other warning/error codes on them: {r['adjudicated_other_codes']}"
    )
    print("  warning/error codes on untouched rows:", dict(r["fp_codes"].most_common()))


BASES = [  # (path, rows used, is Chinese)
    ("llama_factory/lima.json", 600, False),
    ("alpagasus/dolly_3k.json", 1000, False),
    ("alpagasus/claude_t45.json", 1500, False),
    ("alpaca_chinese_carbonz0/zh-data-part-00.json", 1500, True),
    ("belle/dev1K.json", 1000, True),
]


def donors() -> tuple[list[Sample], list[Sample]]:
    """The answers injected as the other language (English, Chinese): prose only, an HTML snippet has no language
    to be wrong in."""

    def prose(s: Sample) -> bool:
        return len(s.answer) >= 40 and not any(c in s.answer for c in "<>{}=;`&")

    en = [s for s in load("alpagasus/claude_t45.json")[-800:] if prose(s)]
    zh = [s for s in load("alpaca_chinese_carbonz0/zh-data-part-00.json")[-800:] if prose(s)]
    return en, zh


def detection(args: argparse.Namespace) -> None:
    en_donors, zh_donors = donors()
    scorers = NOISE_SCORERS + ([] if args.no_embeddings else EMBEDDING_SCORERS) + (["answer_ending"] if args.lm else [])
    models = ModelConfig(language_model=args.lm)
    adjudicated = load_adjudicated()
    results = []
    for k, (path, limit, zh) in enumerate(BASES):
        base = load(path, limit)
        inj = inject(base, en_donors if zh else zh_donors, zh, seed=args.seed + k, rate=args.rate)
        t0 = time.perf_counter()
        out = run_audit(
            inj.samples, scorers=scorers, models=models, seed=args.seed, cache_dir=args.cache, gate_flags=False
        )
        dt = time.perf_counter() - t0
        r = evaluate(inj, [rec["flags"] for rec in out.samples], adjudicated[path])
        results.append(r)
        print(
            f"\n=== {path}: {len(base)} rows, {sum(1 for v in inj.kind.values() if v != 'partner')} injected, "
            f"audit {dt:.1f}s ==="
        )
        print_table(r)
        for c, ex in sorted(r["fp_examples"].items()):
            for pos in ex[: args.show_fp]:
                s = inj.samples[pos]
                reason = next(f["reason"] for f in out.samples[pos]["flags"] if f["code"] == c)
                real = " (adjudicated: a real defect)" if c in adjudicated[path].get(pos, ()) else ""
                print(
                    f"    FP?{real} [{c}] row {s.index}: {reason[:140]!r}\n        Q={s.instruction[:90]!r}\n"
                    f"        A={s.answer[-90:]!r}"
                )
    print("\n=== all bases together ===")
    print_table(merge(results))


def alpaca(args: argparse.Namespace) -> None:
    samples = load("stanford_alpaca/alpaca_data.json")
    t0 = time.perf_counter()
    out = run_audit(samples, scorers=NOISE_SCORERS, models=ModelConfig(), seed=args.seed)
    dt = time.perf_counter() - t0
    print(f"\n=== original Alpaca 52k ({len(samples)} rows), noise family without embeddings: {dt:.1f}s ===")
    print("rows flagged per code:", dict(sorted(out.report["flagged_samples"].items(), key=lambda kv: -kv[1])))
    flagged = sum(1 for r in out.samples if any(f["severity"] != "info" for f in r["flags"]))
    print(f"rows with a warning/error flag: {flagged} ({flagged / len(samples):.1%})")
    rng = random.Random(args.seed)
    by_code: dict[str, list[int]] = defaultdict(list)
    for pos, rec in enumerate(out.samples):
        for f in rec["flags"]:
            by_code[f["code"]].append(pos)
    shown: list[tuple[str, int]] = []
    codes = sorted(by_code)
    while len(shown) < 20 and any(by_code[c] for c in codes):
        for c in codes:
            if by_code[c] and len(shown) < 20:
                pos = by_code[c].pop(rng.randrange(len(by_code[c])))
                if all(p != pos for _, p in shown):
                    shown.append((c, pos))
    print("\n20 flagged rows (random, spread over codes):")
    for c, pos in shown:
        s = samples[pos]
        reason = next(f["reason"] for f in out.samples[pos]["flags"] if f["code"] == c)
        print(
            f"- row {s.index} [{c}] {reason[:150]}\n    instruction: {s.instruction[:110]!r}\n"
            f"    answer: {s.answer[:110]!r}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rate", type=float, default=0.015, help="share of rows per injected noise type")
    ap.add_argument("--no-embeddings", action="store_true")
    ap.add_argument("--cache", default=None, help="embedding cache directory")
    ap.add_argument("--show-fp", type=int, default=2, help="untouched flagged rows to print per code")
    ap.add_argument("--skip-alpaca", action="store_true")
    ap.add_argument("--only-alpaca", action="store_true")
    ap.add_argument(
        "--lm",
        default=None,
        help="a causal LM directory (e.g. from `python -m bench._gemma DIR`): also runs answer_ending, which reads "
        "whether each unpunctuated answer can end where it does",
    )
    args = ap.parse_args()
    if not args.only_alpaca:
        detection(args)
    if not args.skip_alpaca:
        alpaca(args)


if __name__ == "__main__":
    main()
