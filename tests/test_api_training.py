"""Training through the API: validate masks before queueing, run in the worker (child process),
follow progress, download artifacts that load back with peft."""

from __future__ import annotations

import json

import pytest

from app.jobs.worker import Worker

ROWS = [
    {"instruction": f"what is number {i}?", "input": "", "output": ["red cat.", "blue dog.", "green tree."][i % 3]}
    for i in range(12)
]


@pytest.fixture(scope="module")
def toy_model(tmp_path_factory):
    from app.training.toy import build_toy_model

    return build_toy_model(tmp_path_factory.mktemp("toy") / "model")


@pytest.fixture(autouse=True)
def _model_root(settings, toy_model):
    """Base models come only from configured roots (issue #14)."""
    settings.models.roots = [toy_model.parent]


def dataset(client, rows=ROWS) -> str:
    return client.post("/v1/datasets", files={"file": ("d.json", json.dumps(rows).encode())}).json()["id"]


def test_lora_job_end_to_end(client, settings, toy_model) -> None:
    ds = dataset(client)
    spec = {
        "base_model": str(toy_model),
        "method": "lora",
        "max_steps": 4,
        "batch_size": 4,
        "lr": 0.03,
        "save_steps": 2,
        "eval_fraction": 0.2,
    }
    preview = client.post("/v1/training-jobs/preview", json={"dataset_id": ds, "spec": spec, "n": 2})
    assert preview.status_code == 200, preview.text
    assert len(preview.json()["samples"]) == 2
    r = client.post("/v1/training-jobs", json={"dataset_id": ds, "spec": spec})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "queued" and job["validation"]
    assert Worker(settings).run_once() == job["id"]
    done = client.get(f"/v1/training-jobs/{job['id']}").json()
    assert done["status"] == "succeeded", done["error"]
    assert done["result"]["status"] == "completed" and done["result"]["steps"] == 4
    metrics = client.get(f"/v1/training-jobs/{job['id']}/metrics").json()["items"]
    steps = [m for m in metrics if m.get("phase") == "training" and "loss" in m]
    assert [m["step"] for m in steps] == [1, 2, 3, 4]
    assert all({"lr", "tokens_per_s"} <= set(m) for m in steps)
    assert any("eval_loss" in m for m in metrics)
    last = dict(metrics[-1])
    last.pop("seq")
    assert done["latest"] == last, "the job's latest event is the last stored metric"
    events = client.get(f"/v1/training-jobs/{job['id']}/events").text
    assert events.count("event: progress") == len(metrics) and 'event: end\ndata: {"status": "succeeded"}' in events
    files = client.get(f"/v1/training-jobs/{job['id']}/artifacts").json()["items"]
    paths = {f["path"] for f in files}
    assert any(p.endswith("adapter_config.json") for p in paths), paths
    adapter_cfg = next(p for p in paths if p.endswith("adapter_config.json"))
    got = client.get(f"/v1/training-jobs/{job['id']}/artifacts/{adapter_cfg}")
    assert got.status_code == 200 and "lora" in got.text.lower()
    assert client.get(f"/v1/training-jobs/{job['id']}/artifacts/../spec.json").status_code == 404


def test_unusable_data_is_refused_before_queueing(client, toy_model) -> None:
    rows = ROWS[:3] + [{"instruction": "what is " + "number " * 40, "input": "", "output": "red cat."}]
    ds = dataset(client, rows)
    spec = {"base_model": str(toy_model), "method": "lora", "max_steps": 2, "max_length": 48}
    r = client.post("/v1/training-jobs", json={"dataset_id": ds, "spec": spec})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "unusable_training_data" and err["errors"][0]["index"] == 3
    assert client.get("/v1/jobs").status_code in (404, 405)  # nothing else to list: no job was queued


def test_spec_errors_are_4xx(client, toy_model) -> None:
    ds = dataset(client)
    r = client.post("/v1/training-jobs", json={"dataset_id": ds, "spec": {"base_model": "/nope", "method": "lora"}})
    assert r.status_code == 422 and r.json()["error"]["errors"][0]["field"] == "base_model"
    r = client.post(
        "/v1/training-jobs", json={"dataset_id": ds, "spec": {"base_model": str(toy_model), "method": "magic"}}
    )
    assert r.status_code == 422
    r = client.post("/v1/training-jobs", json={"spec": {"base_model": str(toy_model)}})
    assert r.status_code == 422 and r.json()["error"]["code"] == "missing_dataset"
    assert client.get("/v1/training-jobs/nope").status_code == 404


def test_plan_recommendation(client) -> None:
    ds = dataset(client)
    r = client.post(
        "/v1/training-plans/recommend",
        json={"domain_corpus_tokens": 3_000_000_000, "domain_dataset_id": ds, "keep_general_ability": True},
    )
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["stages"][0]["mode"] == "pretrain" and plan["reasons"]
    small = client.post("/v1/training-plans/recommend", json={"domain_sft_rows": 500}).json()
    assert all(s["mode"] == "sft" for s in small["stages"])


def test_closed_loop_experiment(client, settings, toy_model) -> None:
    rows = [
        {
            "instruction": f"what is number {i}?",
            "input": "",
            "output": ["red cat.", "blue dog.", "green tree."][i % 3] + (" and more" * (i % 4)),
        }
        for i in range(30)
    ]
    ds = dataset(client, rows)
    audit = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": ["exact_duplicate"]}).json()
    Worker(settings).run_once()
    cur = client.post(
        f"/v1/datasets/{ds}/curations", json={"audit_id": audit["id"], "policy": {"budget": {"rows": 8}}}
    ).json()
    Worker(settings).run_once()
    spec = {"base_model": str(toy_model), "method": "lora", "max_steps": 2, "batch_size": 4, "lr": 0.03}
    r = client.post("/v1/experiments", json={"curation_id": cur["id"], "spec": spec, "held_out_rows": 5})
    assert r.status_code == 202, r.text
    exp = r.json()
    assert set(exp["arms"]) == {"curated", "random", "longest"} and exp["status"] == "queued"
    held = client.get(f"/v1/datasets/{exp['eval_dataset_id']}").json()
    assert held["rows"] == 5 and held["lineage"]["kind"] == "held_out"

    def source_rows(dataset_id: str) -> set[int]:
        return {x["source_index"] for x in client.get(f"/v1/datasets/{dataset_id}/lineage").json()["items"]}

    train_rows = set()
    for arm in exp["arms"].values():
        train_rows |= source_rows(arm["dataset_id"])
    assert not train_rows & source_rows(exp["eval_dataset_id"]), "held-out rows are never trained on"
    w = Worker(settings)
    for _ in range(3):
        assert w.run_once() is not None
    done = client.get(f"/v1/experiments/{exp['id']}").json()
    assert done["status"] == "succeeded", done
    for arm in done["arms"].values():
        assert arm["rows"] == 8 and arm["held_out_loss"] > 0 and 0 <= arm["held_out_accuracy"] <= 1


def test_experiment_with_extra_arms_and_chosen_baselines(client, settings, toy_model) -> None:
    """The noise loop's arms: the curated subset, its random baseline only, and two datasets of the project's
    own (the whole uncurated upload, a clean reference), all evaluated on one given held-out set."""
    rows = [
        {"instruction": f"what is number {i}?", "input": "", "output": ["red cat.", "blue dog.", "green tree."][i % 3]}
        for i in range(20)
    ]
    ds, clean, held = dataset(client, rows), dataset(client, rows[:12]), dataset(client, rows[:4])
    audit = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": ["exact_duplicate"]}).json()
    Worker(settings).run_once()
    cur = client.post(
        f"/v1/datasets/{ds}/curations", json={"audit_id": audit["id"], "policy": {"budget": {"rows": 8}}}
    ).json()
    Worker(settings).run_once()
    spec = {"base_model": str(toy_model), "method": "lora", "max_steps": 1, "batch_size": 4}
    body = {"curation_id": cur["id"], "spec": spec, "baselines": ["random"], "extra_arms": {"all": ds, "oracle": clean}}
    r = client.post("/v1/experiments", json=body)
    assert r.status_code == 422 and r.json()["error"]["code"] == "eval_dataset_required", r.text
    r = client.post("/v1/experiments", json={**body, "extra_arms": {"random": ds}, "eval_dataset_id": held})
    assert r.status_code == 422 and "random" in r.json()["error"]["message"], r.text
    r = client.post("/v1/experiments", json={**body, "extra_arms": {"bad name!": ds}, "eval_dataset_id": held})
    assert r.status_code == 422, r.text
    r = client.post("/v1/experiments", json={**body, "extra_arms": {"all": "ds_" + "0" * 26}, "eval_dataset_id": held})
    assert r.status_code in (404, 422), r.text
    r = client.post("/v1/experiments", json={**body, "eval_dataset_id": held})
    assert r.status_code == 202, r.text
    exp = r.json()
    assert set(exp["arms"]) == {"curated", "random", "all", "oracle"} and exp["eval_dataset_id"] == held
    assert exp["arms"]["all"]["dataset_id"] == ds and exp["arms"]["all"]["rows"] == 20
    assert exp["arms"]["oracle"]["rows"] == 12 and exp["arms"]["random"]["rows"] == 8
    jobs = {arm: client.get(f"/v1/jobs/{a['job_id']}").json() for arm, a in exp["arms"].items()}
    assert all(j["status"] == "queued" for j in jobs.values()) and len({j["id"] for j in jobs.values()}) == 4


def test_reward_model_from_preference_pairs(client, settings, toy_model) -> None:
    pairs = [
        {
            "chosen": f"\n\nHuman: what is number {i}?\n\nAssistant: red cat.",
            "rejected": f"\n\nHuman: what is number {i}?\n\nAssistant: no.",
        }
        for i in range(8)
    ]
    body = "\n".join(json.dumps(p) for p in pairs).encode()
    ds = client.post("/v1/datasets", files={"file": ("hh.jsonl", body)}).json()
    assert ds["format"] == "preference"
    spec = {"base_model": str(toy_model), "task": "reward", "method": "lora", "max_steps": 2, "batch_size": 4}
    job = client.post("/v1/training-jobs", json={"dataset_id": ds["id"], "spec": spec})
    assert job.status_code == 202, job.text
    assert Worker(settings).run_once() == job.json()["id"]
    done = client.get(f"/v1/training-jobs/{job.json()['id']}").json()
    assert done["status"] == "succeeded", done["error"]
    paths = {f["path"] for f in client.get(f"/v1/training-jobs/{done['id']}/artifacts").json()["items"]}
    assert "final/adapter_config.json" in paths
    plain = dataset(client)
    r = client.post("/v1/training-jobs", json={"dataset_id": plain, "spec": spec})
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_preference_data"
