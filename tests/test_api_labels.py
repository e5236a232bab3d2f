"""Quality labels through the API: label files (by row or content hash), one-sample labels, export, and
how audits and curation use them (with a stand-in learned ranker, see learned_fake.py)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from learned_fake import fake_ranker  # noqa: F401  (fixture)

from app.jobs.worker import Worker

ROWS = [
    {"instruction": "What is 2+2?", "input": "", "output": "4"},
    {"instruction": "Name a colour.", "input": "", "output": "Blue."},
    {"instruction": "Name a colour.", "input": "", "output": "Blue."},  # an exact duplicate of row 1
    {
        "instruction": "Write a haiku about rain.",
        "input": "",
        "output": "Soft rain on the roof / the garden drinks slowly / grey sky, green leaves",
    },
    {"instruction": "Translate 'cat' to French.", "input": "", "output": "chat"},
    {"instruction": "保持健康的三个提示。", "input": "", "output": "多运动，多睡觉，均衡饮食。"},
]


def make_dataset(client, rows=ROWS) -> str:
    r = client.post("/v1/datasets", files={"file": ("d.json", json.dumps(rows).encode())})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def upload(client, ds: str, text: str, name: str = "labels.jsonl"):
    return client.post(f"/v1/datasets/{ds}/labels", files={"file": (name, text.encode())})


def jsonl(*rows: dict) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def labels_of(client, ds: str) -> dict[int, tuple[float, str, str | None]]:
    page = client.get(f"/v1/datasets/{ds}/labels", params={"limit": 1000}).json()
    return {x["index"]: (x["value"], x["source"], x["raw"]) for x in page["items"]}


def hashes(client, ds: str) -> list[str]:
    return [s["content_hash"] for s in client.get(f"/v1/datasets/{ds}/samples").json()["items"]]


def test_label_file_by_index_every_kind_of_value(client) -> None:
    ds = make_dataset(client)
    r = upload(
        client,
        ds,
        jsonl(
            {"index": 0, "label": "good"},
            {"index": 1, "label": "DROP"},
            {"index": 3, "rating": 4},
            {"index": 4, "score": 0.25},
            {"index": 5, "label": False, "note": "ignored column"},
        ),
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "rows": 5,
        "samples_labelled": 5,
        "created": 5,
        "updated": 0,
        "by_key": {"index": 5, "content_hash": 0},
    }
    assert labels_of(client, ds) == {
        0: (1.0, "upload", "good"),
        1: (0.0, "upload", "drop"),
        3: (0.75, "upload", "4"),
        4: (0.25, "upload", None),
        5: (0.0, "upload", "false"),
    }
    page = client.get(f"/v1/datasets/{ds}/labels", params={"source": "upload", "limit": 2}).json()
    assert page["total"] == 5 and [x["index"] for x in page["items"]] == [0, 1]
    assert page["by_source"] == {"upload": 5, "browser": 0, "judge": 0}
    # a later file replaces those samples' labels and adds others
    r = upload(client, ds, "index,rating\n0,1\n2,5\n", "more.csv")
    assert r.json()["created"] == 1 and r.json()["updated"] == 1
    assert labels_of(client, ds)[0] == (0.0, "upload", "1")


def test_content_hash_is_exposed_and_keys_labels(client) -> None:
    ds = make_dataset(client)
    h = hashes(client, ds)
    assert len(h) == 6 and all(len(x) == 64 for x in h)
    assert h[1] == h[2] and len(set(h)) == 5  # the same content, the same hash
    # the hash depends on the conversation, not the file: the same rows as JSONL in another order hash alike
    other = make_dataset(client, list(reversed(ROWS)))
    assert hashes(client, other) == list(reversed(h))
    r = upload(client, other, f"content_hash,label\n{h[1]},bad\n{h[3].upper()},keep\n", "l.csv")
    assert r.status_code == 200, r.text
    # a hash labels every row with that content (both copies of the duplicate)
    assert r.json()["samples_labelled"] == 3 and r.json()["by_key"] == {"index": 0, "content_hash": 2}
    assert labels_of(client, other) == {
        3: (0.0, "upload", "bad"),
        4: (0.0, "upload", "bad"),
        2: (1.0, "upload", "keep"),
    }


@pytest.mark.parametrize(
    "text, line, field, reason",
    [
        (jsonl({"index": 0, "label": "good"}, {"index": 1, "rating": 7}), 2, "rating", "not a rating"),
        (jsonl({"index": 0, "rating": 2.5}), 1, "rating", "integer from 1"),
        (jsonl({"index": 0, "score": 1.5}), 1, "score", "from 0 (bad) to 1"),
        (jsonl({"index": 0, "label": "maybe"}), 1, "label", "not a label"),
        (jsonl({"index": 0, "label": 1}), 1, "label", "'rating'"),  # a bare 1 is never guessed
        (jsonl({"index": 0, "label": "good"}, {"index": 9, "label": "good"}), 2, "index", "no row 9"),
        (jsonl({"index": -1, "label": "good"}), 1, "index", "not a row index"),
        (jsonl({"label": "good"}), 1, None, "no sample key"),
        (jsonl({"index": 0}), 1, None, "no label"),
        (jsonl({"index": 0, "label": "good", "score": 1}), 1, None, "one label field"),
        (jsonl({"content_hash": "ab" * 32, "label": "good"}), 1, "content_hash", "no sample of this dataset"),
        (jsonl({"content_hash": "xyz", "label": "good"}), 1, "content_hash", "64 hex digits"),
        (
            jsonl({"index": 0, "label": "good"}, {"index": 0, "label": "bad"}),
            2,
            None,
            "labelled twice (first on line 1)",
        ),
        ('{"index": 0, "label": "good"}\n{"index": 1, "label": \n', 2, None, "malformed JSON"),
    ],
)
def test_bad_label_rows_get_a_422_naming_the_line_and_nothing_is_stored(client, text, line, field, reason) -> None:
    ds = make_dataset(client)
    upload(client, ds, jsonl({"index": 5, "label": "good"}))
    r = upload(client, ds, text)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    first = err["errors"][0]
    assert first["line"] == line and first.get("field") == field and reason in first["reason"], err
    assert f"line {line}" in err["message"]
    assert labels_of(client, ds) == {5: (1.0, "upload", "good")}  # the earlier label only: all or nothing


def test_hash_of_another_row_and_duplicate_through_a_hash_are_refused(client) -> None:
    ds = make_dataset(client)
    h = hashes(client, ds)
    r = upload(client, ds, jsonl({"index": 0, "content_hash": h[3], "label": "good"}))
    assert r.status_code == 422 and "does not match row 0" in r.json()["error"]["errors"][0]["reason"]
    r = upload(client, ds, jsonl({"index": 2, "label": "good"}, {"content_hash": h[1], "label": "bad"}))
    assert r.status_code == 422 and "row 2 is labelled twice" in r.json()["error"]["errors"][0]["reason"]
    assert upload(client, ds, "just some text\n", "notes.txt").status_code == 422
    assert upload(client, "nope", jsonl({"index": 0, "label": "good"})).status_code == 404


def test_label_one_sample_undo_and_delete(client) -> None:
    ds = make_dataset(client)
    r = client.put(f"/v1/datasets/{ds}/labels/3", json={"label": "keep"})
    assert r.status_code == 200, r.text
    assert (
        r.json()["label"]["value"] == 1.0 and r.json()["label"]["source"] == "browser" and r.json()["previous"] is None
    )
    r = client.put(f"/v1/datasets/{ds}/labels/3", json={"label": "drop"})
    prev = r.json()["previous"]
    assert r.json()["label"]["value"] == 0.0 and prev["value"] == 1.0 and prev["raw"] == "keep"
    assert client.put(f"/v1/datasets/{ds}/labels/3", json={"rating": 3}).json()["label"]["value"] == 0.5
    assert (
        client.put(f"/v1/datasets/{ds}/labels/3", json={"score": 0.9, "source": "upload"}).json()["label"]["source"]
        == "upload"
    )
    for bad in (
        {},
        {"label": "good", "score": 1},
        {"score": 2},
        {"rating": 0},
        {"label": "meh"},
        {"score": 1, "source": "x"},
    ):
        assert client.put(f"/v1/datasets/{ds}/labels/3", json=bad).status_code == 422, bad
    assert client.put(f"/v1/datasets/{ds}/labels/99", json={"label": "good"}).status_code == 404
    assert client.delete(f"/v1/datasets/{ds}/labels/3").status_code == 204
    assert client.delete(f"/v1/datasets/{ds}/labels/3").status_code == 404
    assert labels_of(client, ds) == {}


def test_export_jsonl_and_csv_and_upload_the_export_again(client) -> None:
    ds = make_dataset(client)
    upload(client, ds, jsonl({"index": 0, "label": "good"}, {"index": 3, "rating": 2}))
    client.put(f"/v1/datasets/{ds}/labels/4", json={"label": "bad"})
    h = hashes(client, ds)
    lines = [json.loads(x) for x in client.get(f"/v1/datasets/{ds}/labels/export").text.splitlines()]
    assert [(x["index"], x["content_hash"], x["score"], x["source"], x["raw"]) for x in lines] == [
        (0, h[0], 1.0, "upload", "good"),
        (3, h[3], 0.25, "upload", "2"),
        (4, h[4], 0.0, "browser", "bad"),
    ]
    r = client.get(f"/v1/datasets/{ds}/labels/export", params={"format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert [(int(x["index"]), float(x["score"]), x["raw"]) for x in table] == [
        (0, 1.0, "good"),
        (3, 0.25, "2"),
        (4, 0.0, "bad"),
    ]
    assert client.get(f"/v1/datasets/{ds}/labels/export", params={"format": "xml"}).status_code == 422
    # the CSV export, minus its index column, labels another upload of the same rows (in another order) by content
    other = make_dataset(client, list(reversed(ROWS)))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[k for k in table[0] if k != "index"])
    writer.writeheader()
    writer.writerows({k: v for k, v in row.items() if k != "index"} for row in table)
    r = upload(client, other, buf.getvalue(), "export.csv")
    assert r.status_code == 200, r.text
    assert {i: v for i, (v, _, _) in labels_of(client, other).items()} == {5: 1.0, 2: 0.25, 1: 0.0}
    # and the JSONL export goes back into the same dataset unchanged (index and hash agree)
    assert upload(client, ds, client.get(f"/v1/datasets/{ds}/labels/export").text).json()["updated"] == 3


def test_labels_belong_to_their_project_and_go_with_the_dataset(client, settings) -> None:
    from app.db.session import session_scope
    from app.services.auth import create_key

    ds = make_dataset(client)
    upload(client, ds, jsonl({"index": 0, "label": "good"}))
    with session_scope(settings.db_url) as s:
        other_key, _ = create_key(s, "other-project")
    headers = {"Authorization": f"Bearer {other_key}"}
    assert client.get(f"/v1/datasets/{ds}/labels", headers=headers).status_code == 404
    assert client.put(f"/v1/datasets/{ds}/labels/1", json={"label": "bad"}, headers=headers).status_code == 404
    assert client.delete(f"/v1/datasets/{ds}").status_code == 202  # purged in the background
    assert client.get(f"/v1/datasets/{ds}/labels").status_code == 404
    # the labels go with the dataset's row (a foreign key with ON DELETE CASCADE, on both databases)
    from sqlalchemy import delete, func, select

    from app.db.models import Dataset, Label

    other = make_dataset(client)
    upload(client, other, jsonl({"index": 1, "label": "bad"}))
    with session_scope(settings.db_url) as s:
        s.execute(delete(Dataset).where(Dataset.id == other))
    with session_scope(settings.db_url) as s:
        assert s.scalar(select(func.count()).select_from(Label).where(Label.dataset_id == other)) == 0


# --- audits and curation use the labels -------------------------------------------------------------------
def audit(client, settings, ds: str, **params) -> dict:
    body = {"scorers": ["learned_quality", "text_length"], "params": {"learned_quality": params} if params else {}}
    r = client.post(f"/v1/datasets/{ds}/audits", json=body)
    assert r.status_code == 202, r.text
    Worker(settings).run_once()
    done = client.get(f"/v1/audits/{r.json()['id']}").json()
    assert done["status"] == "succeeded", done
    return done


def ranker_run(report: dict) -> tuple[dict, dict | None]:
    run = next(r for r in report["scorers"] if r["name"] == "learned_quality")
    return run, report["dimensions"]["answer_quality"]["figures"].get("learned_quality")


@pytest.mark.usefixtures("fake_ranker")
def test_audit_hands_labels_to_the_ranker_and_keeps_the_judges(client, settings) -> None:
    ds = make_dataset(client)
    run, _ = ranker_run(audit(client, settings, ds)["report"])
    assert run["status"] == "not_computed" and "upload a label file" in run["reason"]

    upload(client, ds, jsonl({"index": 0, "label": "bad"}, {"index": 3, "rating": 5}))
    client.put(f"/v1/datasets/{ds}/labels/4", json={"label": "drop"})
    first = audit(client, settings, ds, judge_budget=2)
    run, summary = ranker_run(first["report"])
    assert run["status"] == "ok"
    assert summary["label_sources"] == {"given": 3, "judge": 2} and summary["judge_labels"] == [[1, 1.0], [2, 1.0]]
    assert first["job"]["result"]["labels_given"] == 3 and first["job"]["result"]["judge_labels_stored"] == 2
    assert labels_of(client, ds) == {
        0: (0.0, "upload", "bad"),
        1: (1.0, "judge", None),
        2: (1.0, "judge", None),
        3: (1.0, "upload", "5"),
        4: (0.0, "browser", "drop"),
    }
    rec = client.get(f"/v1/audits/{first['id']}/samples/0").json()
    assert rec["learned_quality"] == 0.0  # the person's label reached the ranker

    # a re-audit hands the judge's labels back as given ones: nothing is bought twice
    again = audit(client, settings, ds, judge_budget=2)
    _, summary = ranker_run(again["report"])
    assert summary["label_sources"] == {"given": 5, "judge": 1} and summary["judge_labels"] == [[5, 1.0]]
    # a person's later label replaces the judge's; the judge never replaces a person's
    client.put(f"/v1/datasets/{ds}/labels/1", json={"label": "bad"})
    from app.db.session import session_scope
    from app.services.labels import store_judge_labels

    with session_scope(settings.db_url) as s:
        assert store_judge_labels(s, ds, [[1, 1.0], [5, 0.0]]) == (0, 1)
    assert labels_of(client, ds)[1] == (0.0, "browser", "bad") and labels_of(client, ds)[5] == (0.0, "judge", None)


@pytest.mark.usefixtures("fake_ranker")
def test_curation_ranks_by_learned_quality(client, settings) -> None:
    rows = [{"instruction": f"Question {i}", "input": "", "output": f"Answer number {i}"} for i in range(10)]
    ds = make_dataset(client, rows)
    upload(client, ds, jsonl({"index": 0, "label": "bad"}, {"index": 9, "label": "good"}))
    done = audit(client, settings, ds)
    policy = {"rank_by": "learned_quality", "budget": {"rows": 3}}
    r = client.post(f"/v1/datasets/{ds}/curations", json={"audit_id": done["id"], "policy": policy})
    assert r.status_code == 202, r.text
    Worker(settings).run_once()
    cur = client.get(f"/v1/curations/{r.json()['id']}").json()
    assert cur["status"] == "succeeded", cur
    # the stand-in ranks earlier rows higher, but row 0 was labelled bad and row 9 good
    page = client.get(cur["curated"]["lineage"]["sources_url"]).json()
    assert [item["source_index"] for item in page["items"]] == [1, 2, 9]

    # an audit without the ranker cannot be curated by it, and says why
    r = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": ["text_length"]})
    Worker(settings).run_once()
    bad = client.post(f"/v1/datasets/{ds}/curations", json={"audit_id": r.json()["id"], "policy": policy})
    assert bad.status_code == 422 and "learned_quality" in bad.json()["error"]["message"]
    unknown = client.post(f"/v1/datasets/{ds}/curations", json={"audit_id": done["id"], "policy": {"rank_by": "vibes"}})
    assert unknown.status_code == 422
