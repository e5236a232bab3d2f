"""The bench's adjudication file: every entry names a bench base, a row inside it, a noise code and a reason."""

from bench.noise_detection import BASES, Injected, evaluate, load_adjudicated
from scorers import sample


def test_every_adjudicated_row_is_a_bench_row_with_a_reason() -> None:
    import json

    from bench.noise_detection import ADJUDICATED

    rows = json.loads(ADJUDICATED.read_text(encoding="utf-8"))["rows"]
    limits = {path: limit for path, limit, _ in BASES}
    assert rows
    for e in rows:
        assert e["base"] in limits and 0 <= e["row"] < limits[e["base"]]
        assert e["code"] and len(e["reason"]) > 15
    assert len({(e["base"], e["row"], e["code"]) for e in rows}) == len(rows)
    assert load_adjudicated()[rows[0]["base"]][rows[0]["row"]] >= {rows[0]["code"]}


def test_false_positives_are_counted_raw_and_without_adjudicated_rows() -> None:
    samples = [sample(i, f"q{i}", f"a{i}") for i in range(5)]
    inj = Injected(samples, {0: "empty_answer"})
    flag = {"code": "unfilled_template", "severity": "warning"}  # a code the precision gate shows at warning
    flags = [[{"code": "empty_answer", "severity": "error"}], [flag], [flag], [], []]
    r = evaluate(inj, flags, {1: {"unfilled_template"}})
    assert r["untouched"] == 4 and r["untouched_flagged"] == 2
    assert r["clean"] == 3 and r["clean_flagged"] == 1  # row 2's flag is still a false positive
    assert r["adjudicated"] == 1 and r["adjudicated_flagged"] == 1 and r["code_real"]["unfilled_template"] == 1
