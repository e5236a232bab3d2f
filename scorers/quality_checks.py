"""Answer accuracy that can be verified without a model.

Every check here either proves something wrong with a reason a person can re-check by hand, or says
nothing: arithmetic written in the answer (``a op b = c`` and chains) is recomputed with a safe
evaluator (an ``ast`` walk over numbers and + - * / ^, never ``eval``); the final number of a worked
solution must come out of its steps; an expression the instruction asks to compute is recomputed and
looked for in the answer; "convert X unit to unit" is recomputed from a small table; code answers
are parsed (:mod:`scorers.quality_code`: Python with ``ast``, JSON, SQL and HTML balance).

The per-sample accuracy score is ``None`` when nothing could be checked (most prose), 1.0 when every
check passed, and below 0.5 when one failed (lower the larger the share that failed).
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from scorers._findings import Findings, checks_summary
from scorers.base import Flag, Scorer, ScorerParams, ScorerResult, register
from scorers.context import ScoringContext
from scorers.quality_code import check_code
from scorers.samples import Sample
from scorers.text.code import calls_a_tool, code_blocks, looks_like_code, prints_a_result, strip_fences
from scorers.text.cues import COMPUTE, MATHS
from scorers.text.numbers import number_counts
from scorers.text.rules import Rule, Seen

DIM = "answer_quality"

# --- the safe evaluator --------------------------------------------------------------------------
_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


class UnsafeExpression(ValueError):
    pass


def safe_eval(expr: str) -> float:
    """Value of an arithmetic expression of numbers, + - * / % ** and parentheses.

    Anything else (names, calls, attributes, huge powers) raises :class:`UnsafeExpression`.
    """
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except (SyntaxError, ValueError) as e:
        raise UnsafeExpression(str(e)) from e
    return float(_walk(tree.body))


def _walk(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_walk(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _walk(node.left), _walk(node.right)
        if isinstance(node.op, ast.Pow) and (abs(right) > 64 or abs(left) > 1e6):
            raise UnsafeExpression("power too large")
        try:
            return _BINOPS[type(node.op)](left, right)
        except (ZeroDivisionError, OverflowError) as e:
            raise UnsafeExpression(str(e)) from e
    raise UnsafeExpression(f"not arithmetic: {type(node).__name__}")


# --- numbers as people write them ----------------------------------------------------------------
_NUM = r"\$?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)%?"
# an operator; two brackets side by side multiply ("(2+3)(3-2)", Alpaca 35680)
_OP = r"(?:[-+*/×÷^−–]|(?<=[\d\s)])x(?=\s*[\d$(.])|(?<=\))(?=\s*\())"
# the spaces and brackets around a number are taken whole (possessive ``*+``, Python 3.11): with plain ``\s*`` on
# both sides of every operator, a failed match tried each way of sharing a space between them, 2-3^terms ways
# ("2 * $100 + 1 * $50 + … + 27 * $1 bills, or $200 + … = $442": 14 s for one GSM8K-style answer, a fifth of a
# 200k-row audit's per-sample time); nothing after a term can match a space or a bracket it gave back
_TERM = rf"\(*+\s*+{_NUM}\s*+\)*+"
# not glued to a Latin word or another number; a number right after a Chinese character is one ("即3*2=6")
# nor after a colon: "6:00+48 = 6:48" adds minutes to a clock time (GSM8K row 4727)
_EXPR = rf"(?<![A-Za-z0-9_.,:]){_TERM}(?:\s*+{_OP}\s*+{_TERM})+"
_EXPR_AT_END = re.compile(rf"({_EXPR})\s*$")
_EXPR_AT_START = re.compile(rf"\s*({_TERM}(?:\s*+{_OP}\s*+{_TERM})+)")
_CLAIM = re.compile(rf"\s*(-?\s?{_NUM})")
# a number, and one glued to a unit ("25ml", "10km"); not one glued to a variable or a suffix ("5A", "2nd")
_NUMBER = re.compile(
    rf"(?<![A-Za-z0-9_.]){_NUM}(?:(?![A-Za-z])|(?=(?:ml|mg|kg|km|cm|mm|lbs?|oz|ft|mph|hrs?|mins?|g|l|m|s|h)\b))"
)


def parse_number(text: str) -> float:
    t = text.replace("$", "").replace(",", "").replace(" ", "")
    if t.endswith("%"):
        return float(t[:-1])
    return float(t)


def to_python(expr: str) -> str:
    """People's arithmetic → Python syntax (× x ÷ ^, $, thousands commas, percentages)."""
    e = expr.replace("−", "-").replace("–", "-").replace("×", "*").replace("÷", "/").replace("^", "**").replace("$", "")
    e = re.sub(r"(?<=[\d\s)])x(?=\s*[\d(.])", "*", e)
    e = re.sub(r"\)\s*\(", ")*(", e)
    e = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", e)
    e = re.sub(r"(\d+(?:\.\d+)?)%", r"(\1/100)", e)
    return e


def _decimals(text: str) -> int:
    t = text.rstrip("%")
    return len(t.split(".")[1]) if "." in t else 0


def close_enough(computed: float, claimed_text: str) -> bool:
    """Whether a written result matches the computed one, allowing the rounding the writer used.

    A result written with decimals may be rounded or cut at its last decimal (LIMA row 51 writes
    1,370,537,000/313,221,000 = 4.375 for 4.37562); a whole number must be the rounded value."""
    claimed = parse_number(claimed_text)
    d = _decimals(claimed_text)
    tol = (10 ** (-d) if d else 0.51) + 1e-9 * abs(computed)
    candidates = [(claimed, tol)]
    if claimed_text.strip().endswith("%"):  # "0.25 * 100 = 25%" and "1/2 = 50%" are both right (not "1/2 = 80%")
        candidates.append((claimed / 100, tol / 100))
    return any(abs(computed - c) <= t for c, t in candidates)


@dataclass
class Equation:
    expression: str
    claimed: str
    computed: float
    correct: bool


_LATIN = re.compile(r"[A-Za-z]")
#: the remainder written after a quotient: "余 2", "（余1）", "… 4", "remainder 1", "R 1"
REMAINDER = Rule(
    "quotient with remainder",
    re.compile(
        r"\s*(?:[（(]\s*)?(?:余数?(?:为|是)?|remainder(?: of| is)?|rem\b|R(?=\s*\d)|r(?=\s*\d)|…+|\.{3,})\s*[:：]?\s*(\d+)"
    ),
    "integer division written with its remainder is checked as such: 5 ÷ 3 = 1 余 2 is right",
    Seen("belle/dev1K.json", 163, "14 ÷ 5 = 2 余 4"),
)
_REMAINDER = REMAINDER.pattern
MIXED_NUMBER = Rule(
    "mixed number",
    re.compile(r"\d\s*又\s*$|\d\s+and\s+$"),
    "a fraction after a whole number and 又/and is the tail of a mixed number (2又1/4 = 2.25 is right)",
    Seen("belle/dev1K.json", 129, "9/4 = 2又"),
)
_DIVISION = re.compile(rf"^\s*({_NUM})\s*[/÷]\s*({_NUM})\s*$")


def _division_with_remainder(expr: str, quotient: str, remainder: str) -> bool:
    m = _DIVISION.match(expr)
    if not m:
        return True  # a remainder after something other than a plain division: not ours to judge
    try:
        a, b, q, r = parse_number(m.group(1)), parse_number(m.group(2)), parse_number(quotient), float(remainder)
    except ValueError:
        return True
    return b != 0 and a == b * q + r and 0 <= r < abs(b)


LABEL_NUMBER = Rule(
    "a number that names a day or a step",
    re.compile(
        r"\b(?:day|week|month|year|step|part|item|page|chapter|level|round|stage|phase|grade|no\.?|#)\s*$", re.I
    ),
    "a number after 'day', 'step', 'page'… names one ('on day 1 * 2 = 20' doubles the 10 pages of day 1): the "
    "equation starts further left, in words, and is not read",
    Seen("gsm8k_alpaca_format/gsm_8k_train.json", 5396, "10 pages per day on day "),
)


def find_equations(answer: str) -> list[Equation]:
    """Every ``expression = number`` written in ``answer`` (outside code), chains included."""
    text = strip_fences(answer, "\n")
    out: list[Equation] = []
    for line in text.splitlines():
        if "=" not in line or "==" in line or len(line) > 2000:
            continue
        parts = line.split("=")
        for k in range(len(parts) - 1):
            left, right = parts[k][-160:], parts[k + 1]
            m = _EXPR_AT_END.search(left)
            c = _CLAIM.match(right)
            if not m or not c:
                continue
            expr, claimed = m.group(1).strip(), c.group(1).strip()
            if re.search(r"(?:[-+*/×÷^−]|\bx|\d)\s*$", left[: m.start(1)]):
                continue  # the expression reaches further left through words ("72 ft * 3/4"): not ours to read
            if LABEL_NUMBER.pattern is not None and LABEL_NUMBER.pattern.search(left[: m.start(1)]):
                continue  # "10 pages per day on day 1 * 2 = 20": "day 1" names a day, it is not an operand
            rhs = _EXPR_AT_START.match(right)
            if rhs:  # "a + b = c + d = e": compare the two sides
                try:
                    lv, rv = safe_eval(to_python(expr)), safe_eval(to_python(rhs.group(1)))
                except UnsafeExpression:
                    continue
                ok = abs(lv - rv) <= 1e-6 * max(1.0, abs(lv)) or close_enough(lv, f"{rv:.2f}")
                # "2 + 2 = 4 + 1 = 5": a running total carried on, sloppy but not wrong
                ok = ok or close_enough(lv, claimed) or _other_reading(expr, f"{rv:.6g}", "")
                out.append(Equation(expr, rhs.group(1).strip(), lv, ok))
                continue
            if MIXED_NUMBER.pattern is not None and MIXED_NUMBER.pattern.search(left[: m.start(1)]):
                continue  # "2又1/4": the fraction is the tail of a mixed number
            end = c.end()
            nxt = right[end : end + 2]
            if (
                _LATIN.match(nxt)
                or nxt[:1] == "/"
                and nxt[1:].isdigit()
                or re.match(r"\s*[-+*/×÷^]\s*\(?[A-Za-z]", right[end:])
            ):
                continue  # "= 5A" (a variable) or "= 3/4" (a rewrite, not a result); "= 6元" is a result
            try:
                value = safe_eval(to_python(expr))
            except UnsafeExpression:
                continue
            rem = _REMAINDER.match(right[end:])
            if rem:  # "5 ÷ 3 = 1 余 2", "29 ÷ 5 = 5 … 4": a quotient with its remainder
                out.append(
                    Equation(
                        f"{expr} (with remainder)",
                        f"{claimed} r {rem.group(1)}",
                        value,
                        _division_with_remainder(expr, claimed, rem.group(1)),
                    )
                )
                continue
            ok = close_enough(value, claimed) or _other_reading(expr, claimed, right[end:])
            if not ok:  # "= 20 %", "= 16 and (2/3)", "= 18 000": the claim goes on past the number
                longer = _claim_as_written(claimed, right[end:])
                ok = longer is not None and close_enough(value, longer)
            out.append(Equation(expr, claimed, value, ok))
    return out


#: how a result goes on past its first number: a percent sign after a space, the fraction of a mixed number, a group
#: of thousands after a space
CLAIM_GOES_ON = (
    Rule(
        "percent after a space",
        re.compile(r"^\s+%"),
        "'100% - 80% = 20 %' writes 20 percent",
        Seen("gsm8k_alpaca_format/gsm_8k_train.json", 1041, " % were children"),
    ),
    Rule(
        "mixed number after a quotient",
        re.compile(r"^\s*(?:and|又)\s*\(?\s*(\d+)\s*/\s*(\d+)\s*\)?"),
        "'100 / 6 = 16 and (2/3)' writes sixteen and two thirds",
        Seen("gsm8k_alpaca_format/gsm_8k_train.json", 3640, " and (2/3)"),
    ),
    Rule(
        "thousands after a space",
        re.compile(r"^((?: \d{3})+)(?![\d.,])"),
        "'600 x 30 = 18 000 watts' groups thousands with a space",
        Seen("gsm8k_alpaca_format/gsm_8k_train.json", 2682, " 000 watts"),
    ),
)


def _claim_as_written(claimed: str, after: str) -> str | None:
    """The claim read with what follows it (:data:`CLAIM_GOES_ON`), as a number string; ``None`` when nothing does."""
    percent, mixed, thousands = CLAIM_GOES_ON
    if percent.search(after) and not claimed.endswith("%"):
        return claimed + "%"
    m = mixed.search(after)
    if m and int(m.group(2)) != 0 and "." not in claimed:
        try:
            return f"{parse_number(claimed) + int(m.group(1)) / int(m.group(2)):.6f}"
        except ValueError:
            return None
    m = thousands.search(after)
    if m and "," not in claimed and "." not in claimed:
        return claimed + m.group(1).replace(" ", "")
    return None


#: "28 / 1/5 = 140": a division by a fraction written without brackets (GSM8K row 3313)
_DIVIDED_BY_FRACTION = re.compile(rf"^(.*[/÷]\s*)({_NUM}\s*/\s*{_NUM})\s*$")
_CENTS = re.compile(r"\s*(?:cents?|¢)\b", re.I)


def _other_reading(expr: str, claimed: str, after: str) -> bool:
    """Whether a claim the plain reading rejects is right as people meant it: a division by a fraction written
    without brackets, or a dollar difference stated in cents ("$2.50 - $2.24 = 26 cents", GSM8K row 2429)."""
    if "/100%" in expr:  # "10/100%*$5 = $.50": x/100% is the writer's notation for x% (GSM8K row 6049)
        try:
            if close_enough(safe_eval(to_python(expr.replace("/100%", "/100"))), claimed):
                return True
        except UnsafeExpression:
            pass
    m = _DIVIDED_BY_FRACTION.match(expr)
    if m:
        try:
            if close_enough(safe_eval(to_python(f"{m.group(1)}({m.group(2)})")), claimed):
                return True
        except UnsafeExpression:
            pass
    if "$" in expr and _CENTS.match(after):
        try:
            return close_enough(safe_eval(to_python(expr)) * 100, claimed)
        except UnsafeExpression:
            return False
    return False


_LOOSE_TOKEN = re.compile(
    rf"(?P<num>{_NUM})|(?P<op>[-+*/×÷^−–]|\bx\b)|(?P<par>[()])|(?P<word>[A-Za-z][A-Za-z'-]*)|(?P<stop>[^\s])"
)


def loose_results(answer: str) -> set[float]:
    """Values of ``3 green hats + 16 pink hats = 19``-style steps, unit words dropped.

    Used only to recognise where a final answer came from, never to flag an error: dropping words
    can misread a sentence, so a mismatch here proves nothing.
    """
    out: set[float] = set()
    for line in strip_fences(answer, "\n").splitlines():
        if "=" not in line:
            continue
        for left in line.split("=")[:-1]:
            left = re.sub(r"/[A-Za-z]+", "", left[-160:])
            tokens = [(m.lastgroup, m.group(0)) for m in _LOOSE_TOKEN.finditer(left)]
            kept: list[str] = []
            words = 0
            for kind, tok in reversed(tokens):
                if kind == "word":
                    words += 1
                    if words > 6:
                        break
                    continue
                if kind == "stop":
                    break
                if kind == "num" and kept and kept[-1] not in {"+", "-", "−", "–", "*", "/", "×", "÷", "^", "x", ")"}:
                    break
                words = 0
                kept.append(tok)
            expr = " ".join(reversed(kept)).strip()
            while expr and expr[0] in "+-−–*/×÷^x)":
                expr = expr[1:].strip()
            if not re.search(r"\d\s*[-+*/×÷^x−–]\s*\(*\s*[$.\d]", expr):
                continue
            try:
                out.add(round(safe_eval(to_python(expr)), 6))
            except UnsafeExpression:
                continue
    return out


def numbers_in(text: str) -> list[str]:
    return [m.group(0) for m in _NUMBER.finditer(text)]


def _num_key(text: str) -> float | None:
    try:
        v = parse_number(text)
    except ValueError:
        return None
    return round(v, 6)


#: a number written as the result of a step whose left side cannot be evaluated ("12+8(26)=220", "t=5",
#: "≈ 0.86"): the final answer written so is that step's result
_RESULT_OF_STEP = re.compile(rf"[=≈]\s*(-?\s?{_NUM})")
_FRACTION = re.compile(r"(?<![\d.])(\d+)\s*/\s*(\d+)(?![\d.])")
_ZH_FRACTION = re.compile(r"(\d+)\s*分之\s*(\d+)")
#: a clock time ("9:05", "9：05") is not a number to derive
_CLOCK = re.compile(r"\d{1,2}\s*[:：]\s*\d{2}(?!\d)")


def _step_values(answer: str, instruction: str, equations: Sequence[Equation], loose: set[float]) -> list[float]:
    """Every value the final answer of a worked solution may rightly repeat (in percent or plain form, any sign)."""
    values: list[float] = [e.computed for e in equations]
    for e in equations:
        values += [v for part in e.claimed.split(" r ") if (v := _num_key(part)) is not None]
    values += [v for n in numbers_in(instruction) if (v := _num_key(n)) is not None]
    values += list(loose)
    for line in answer.splitlines():
        for m in _RESULT_OF_STEP.finditer(line):
            left = line[: m.start()]
            expr = _EXPR_AT_END.search(left[-160:])
            if expr:  # an evaluable step ("4 ÷ 7 ≈ 0.5714"): its own value counts, not what it claims
                try:
                    values.append(safe_eval(to_python(expr.group(1))))
                except UnsafeExpression:
                    pass
                continue
            if not left.strip() or loose_results(left + "="):
                continue
            if (v := _num_key(m.group(1))) is not None:
                values.append(v)
    values += [int(m.group(2)) / int(m.group(1)) for m in _ZH_FRACTION.finditer(answer) if int(m.group(1))]
    values += [int(m.group(1)) / int(m.group(2)) for m in _FRACTION.finditer(answer) if int(m.group(2))]
    out = []
    for v in values:
        out += [v, abs(v), v / 100, v * 100]
    return out


_LAST_FRACTION = re.compile(r"(?<![\d.])(\d+)\s*/\s*(\d+)\s*$")
_MINUS_BEFORE = re.compile(r"(?:^|[\s=(:：])[-−–]\s*$")


def _final_value(text: str) -> str | None:
    """The last number of ``text`` as the writer meant it: a fraction "5/2" is 2.5 and "1/312" is not 312; a
    minus sign before it counts (Alpaca rows read by the adjudication)."""
    found = list(_NUMBER.finditer(text))
    if not found:
        return None
    m = found[-1]
    frac = _LAST_FRACTION.search(text[: m.end()])
    if frac and int(frac.group(2)):
        return f"{int(frac.group(1)) / int(frac.group(2)):.6g}"
    return ("-" if _MINUS_BEFORE.search(text[: m.start()]) else "") + m.group(0)


def final_answer_unsupported(answer: str, instruction: str, equations: Sequence[Equation]) -> str | None:
    """The last number of a worked solution, when no step produced it (or its rounding) and the question does
    not state it.

    Applies only to worked solutions (two or more steps, with or without unit words); returns the unsupported number.
    """
    loose = loose_results(answer)
    if len(equations) + len(loose) < 2:
        return None
    prose = strip_fences(answer)
    final = _final_value(_CLOCK.sub(" ", prose))
    if final is None or _num_key(final) is None:
        return None
    # a step's value, or its rounding to the final's precision (12.5 → 13, 42.857 → 43, 5/9 → 0.56)
    if any(close_enough(v, final) for v in _step_values(prose, instruction, equations, loose)):
        return None
    return final


# --- the instruction asks to compute something ------------------------------------------------------
_INSTR_EXPR = re.compile(rf"({_EXPR})\s*(?:=\s*\??)?\s*[?.!:]?\s*$")
_PERCENT_OF = re.compile(r"(\d+(?:\.\d+)?)\s*%\s*of\s*\$?(\d[\d,]*(?:\.\d+)?)", re.I)


RANGE_OF_NUMBERS = Rule(
    "range of numbers",
    re.compile(r"^\s*(\d+)-(\d+)\s*$"),
    "a smaller and a larger whole number joined by a hyphen without spaces ('1-50') are a range unless the "
    "instruction says subtract",
    Seen("codealpaca/code_alpaca_2k.json", 422, "1-50"),
)
_SUBTRACT = re.compile(r"\b(?:subtract\w*|minus|difference|take away)\b|减", re.I)


NOT_A_SUM = Rule(
    "a date or a code",
    re.compile(r"\b\d{1,4}/\d{1,2}/\d{1,4}\b|\b\d+(?:-\d+){2,}\b"),
    "numbers joined by slashes as a date ('8/30/2020') or by hyphens without spaces as a code ('978-1-5247-3855-7') "
    "are data, not a division or a subtraction to compute",
    Seen("stanford_alpaca/alpaca_data.json", 33121, "978-1-5247-3855-7"),
)


def instruction_expression(instruction: str) -> tuple[str, float] | None:
    """An arithmetic expression the instruction asks to compute (``Calculate 8*(2+3)``), with its value."""
    text = instruction.strip()
    # the ask is the instruction's head: "calculate 5+7" given as a command line to describe is not asked for
    # (Alpaca 39712)
    if not COMPUTE.search(text.split("\n\n")[0]) and not re.fullmatch(rf"\s*{_EXPR}\s*[=?]*\s*", text):
        return None
    if re.search(r"[a-wyzA-WYZ]\s*[-+*/^=]|[-+*/^=]\s*[a-wyzA-WYZ]\b", text.split(":")[-1]):
        return None  # algebra with variables
    for line in reversed([ln for ln in text.splitlines() if ln.strip()]):
        m = _INSTR_EXPR.search(line) or _EXPR_AT_END.search(line.rstrip("?.!: "))
        if m:
            expr = m.group(1).strip()
            if re.fullmatch(r"\d+\s*/\s*\d+", expr):
                return None  # a bare fraction is data ("1/3 and 2/5"), not a computation
            if NOT_A_SUM.search(expr):
                return None  # a date ("8/30/2020") or a code ("ISBN 978-1-5247-3855-7") is not a computation
            rng = RANGE_OF_NUMBERS.search(expr)
            if rng and int(rng.group(1)) < int(rng.group(2)) and not _SUBTRACT.search(text):
                return None  # "Range: 1-50" (Code Alpaca row 422) is a range, not 1 − 50
            try:
                return expr, safe_eval(to_python(expr))
            except UnsafeExpression:
                return None
    m = _PERCENT_OF.search(text)
    if m:
        return m.group(0), float(m.group(1)) / 100 * float(m.group(2).replace(",", ""))
    return None


def answer_states(answer: str, value: float) -> bool:
    """Whether ``answer`` states ``value`` as a number (allowing the rounding it was written with): with its sign
    ("-4", Alpaca 28236), or in words ("Sixteen.", Alpaca 27612)."""
    for m in _NUMBER.finditer(answer):
        n = m.group(0)
        signed = (
            m.start() > 0
            and answer[m.start() - 1] in "-−"
            and not answer[max(0, m.start() - 2) : m.start() - 1].isalnum()
        )
        try:
            if close_enough(value, n) or (signed and close_enough(value, "-" + n)):
                return True
        except ValueError:
            continue
    if value == int(value) and str(int(value)) in number_counts(answer):
        return True  # a number word
    # fractions such as "3/2" written as the result
    for m in re.finditer(r"(\d+)\s*/\s*(\d+)", answer):
        if int(m.group(2)) and abs(int(m.group(1)) / int(m.group(2)) - value) < 1e-9:
            return True
    return False


# --- unit conversions --------------------------------------------------------------------------------
_UNITS: dict[str, tuple[str, float]] = {}
for names, dim, factor in [
    (("km", "kilometer", "kilometers", "kilometre", "kilometres"), "length", 1000.0),
    (("m", "meter", "meters", "metre", "metres"), "length", 1.0),
    (("cm", "centimeter", "centimeters", "centimetre", "centimetres"), "length", 0.01),
    (("mm", "millimeter", "millimeters"), "length", 0.001),
    (("mile", "miles", "mi"), "length", 1609.344),
    (("ft", "foot", "feet"), "length", 0.3048),
    (("in", "inch", "inches"), "length", 0.0254),
    (("yd", "yard", "yards"), "length", 0.9144),
    (("kg", "kilogram", "kilograms"), "mass", 1.0),
    (("g", "gram", "grams"), "mass", 0.001),
    (("lb", "lbs", "pound", "pounds"), "mass", 0.45359237),
    (("oz", "ounce", "ounces"), "mass", 0.028349523125),
    (("l", "liter", "liters", "litre", "litres"), "volume", 1.0),
    (("ml", "milliliter", "milliliters", "millilitre", "millilitres"), "volume", 0.001),
    (("gallon", "gallons", "gal"), "volume", 3.785411784),
    (("hour", "hours", "hr", "hrs"), "time", 3600.0),
    (("minute", "minutes", "min", "mins"), "time", 60.0),
    (("second", "seconds", "sec", "secs", "s"), "time", 1.0),
    (("day", "days"), "time", 86400.0),
    (("week", "weeks"), "time", 604800.0),
]:
    for n in names:
        _UNITS[n] = (dim, factor)
_TEMPS = {
    "c": "C",
    "celsius": "C",
    "°c": "C",
    "degrees celsius": "C",
    "f": "F",
    "fahrenheit": "F",
    "°f": "F",
    "degrees fahrenheit": "F",
    "k": "K",
    "kelvin": "K",
}
_UNIT_WORD = r"(°?[a-z]+(?: [a-z]+)?)"
_CONVERT = re.compile(rf"\bconvert\s+(-?\d[\d,]*(?:\.\d+)?)\s*{_UNIT_WORD}\s+(?:to|into|in)\s+{_UNIT_WORD}", re.I)


def _temp(value: float, src: str, dst: str) -> float:
    c = {"C": value, "F": (value - 32) * 5 / 9, "K": value - 273.15}[src]
    return {"C": c, "F": c * 9 / 5 + 32, "K": c + 273.15}[dst]


def unit_conversion(instruction: str) -> tuple[str, float] | None:
    """("5 km to miles", expected value) when the instruction asks a conversion we can recompute."""
    m = _CONVERT.search(instruction)
    if not m:
        return None
    value = float(m.group(1).replace(",", ""))
    src, dst = m.group(2).lower().strip(), m.group(3).lower().strip().rstrip(".?")
    for s in (src, src.split()[0]):
        for d in (dst, dst.split()[0]):
            if s in _TEMPS and d in _TEMPS:
                return f"{m.group(1)} {s} to {d}", _temp(value, _TEMPS[s], _TEMPS[d])
            if s in _UNITS and d in _UNITS and _UNITS[s][0] == _UNITS[d][0]:
                return f"{m.group(1)} {s} to {d}", value * _UNITS[s][1] / _UNITS[d][1]
    return None


def states_within(answer: str, value: float, rel: float = 0.02) -> bool:
    for n in numbers_in(answer):
        try:
            v = parse_number(n)
        except ValueError:
            continue
        if abs(v - value) <= max(rel * abs(value), 0.51 * 10 ** (-_decimals(n))):
            return True
    return False


# --- the per-sample verdict ---------------------------------------------------------------------------
AccuracyFindings = Findings


def _fmt(v: float) -> str:
    if math.isfinite(v) and abs(v - round(v)) < 1e-9:
        return str(int(round(v)))
    return f"{v:.6g}"


SUPPOSED = Rule(
    "a supposed premise",
    re.compile(r"(?:如果|假如|假设|若|if|suppose|supposing|assume|assuming|imagine)(?:that)?$"),
    "an equation the prompt supposes ('如果1+1=3，那么…') is a premise the answer reasons from, not its computation",
    Seen("llama_factory/oaast_sft_zh.json", 42, "如果"),
)


def _supposed(equation: str, prompt: str) -> bool:
    """Whether ``equation`` (spaces removed) follows a word of supposition in ``prompt`` (spaces removed, lower case)."""
    assert SUPPOSED.pattern is not None
    k = prompt.find(equation.lower())
    return k >= 0 and SUPPOSED.pattern.search(prompt[max(0, k - 12) : k]) is not None


def check_accuracy(instruction: str, answer: str, max_reported: int = 3) -> AccuracyFindings:
    f = AccuracyFindings()
    if not answer.strip():
        return f
    equations = find_equations(answer)
    # "如果1+1=3, …": a premise the prompt supposes is reasoned from, not computed (OASST zh row 42); an equation the
    # prompt asks to check ("3 + 8 = 10: true or false?") is still judged
    flat = re.sub(r"\s+", "", instruction).lower()
    wrong = [
        e for e in equations if not e.correct and not _supposed(re.sub(r"\s+", "", f"{e.expression}={e.claimed}"), flat)
    ]
    f.checked += len(equations)
    f.failed += len(wrong)
    for e in wrong[:max_reported]:
        f.flags.append(
            Flag(
                "arithmetic_error",
                DIM,
                "error",
                f"the answer writes {e.expression} = {e.claimed}, but {e.expression} is {_fmt(e.computed)}",
            )
        )
    # only a maths problem's last number is a result to be derived: a number that ends an explanation of
    # mounting a disk image or of string formatting is not (LIMA rows 76, 178, 393)
    unsupported = final_answer_unsupported(answer, instruction, equations) if MATHS.search(instruction) else None
    if unsupported is not None:
        f.checked += 1
        f.failed += 1
        f.flags.append(
            Flag(
                "final_answer_not_derived",
                DIM,
                "warning",
                f"the final answer {unsupported} is not the result of any step of the worked solution "
                f"(step results: {', '.join(dict.fromkeys(e.claimed for e in equations)) or 'none written as a = b'})",
            )
        )
    # "python('(50 * 9/5) + 32')": the result is left to the tool (Toolformer 307); "print(4+1)" to the program
    # (Alpaca 29558)
    delegated = calls_a_tool(answer) or looks_like_code(answer) or prints_a_result(answer)
    asked = None if delegated else instruction_expression(instruction)
    if asked is not None:
        expr, value = asked
        f.checked += 1
        if not answer_states(answer, value):
            f.failed += 1
            f.flags.append(
                Flag(
                    "wrong_result",
                    DIM,
                    "error",
                    f"the instruction asks for {expr}, which is {_fmt(value)}; the answer does not say {_fmt(value)}",
                )
            )
    conv = None if delegated else unit_conversion(instruction)
    if conv is not None:
        what, value = conv
        f.checked += 1
        if not states_within(answer, value):
            f.failed += 1
            f.flags.append(
                Flag(
                    "wrong_conversion",
                    DIM,
                    "error",
                    f"converting {what} gives about {value:.4g}; the answer states no number within 2% of it",
                )
            )
    for lang, code in code_blocks(answer):
        err = check_code(lang, code)
        if lang in {"python", "py", "python3", "json", "sql", "mysql", "postgresql", "sqlite", "html", "xml"}:
            f.checked += 1
        if err:
            f.failed += 1
            f.flags.append(Flag("code_does_not_parse", DIM, "error", err))
    return f


class AccuracyParams(ScorerParams):
    max_reported: int = Field(3, ge=1, le=50, description="At most this many wrong equations are flagged per sample.")


@register
class AnswerAccuracy(Scorer):
    """Verifiable accuracy: arithmetic, final answers of worked solutions, asked computations, unit conversions, code that parses."""

    name = "answer_accuracy"
    per_sample = True
    version = "2"
    dimension = "answer_quality"
    Params = AccuracyParams

    def score(self, samples: Sequence[Sample], ctx: ScoringContext) -> ScorerResult:
        flags: list[list[Flag]] = []
        fields: list[dict] = []
        for s in samples:
            f = check_accuracy(s.instruction, s.answer, self.params.max_reported)
            flags.append(f.flags)
            fields.append({"answer_accuracy": {"score": f.score, "checked": f.checked, "failed": f.failed}})
        result = ScorerResult(scores=None, flags=flags, fields=fields)
        result.summary = self.summarise(samples, result, ctx)
        return result

    def summarise(self, samples: Sequence[Sample], result: ScorerResult, ctx: ScoringContext) -> dict[str, Any]:
        return checks_summary(result, "answer_accuracy")
