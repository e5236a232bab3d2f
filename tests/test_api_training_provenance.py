"""A training job's artifacts say where their rows came from: the dataset, the audit and the curation."""

from __future__ import annotations

import json

import pytest

from app.jobs.worker import Worker


@pytest.fixture(scope="module")
def toy_model(tmp_path_factory):
    from app.training.toy import build_toy_model

    return build_toy_model(tmp_path_factory.mktemp("toy") / "model")


@pytest.fixture(autouse=True)
def _model_root(request):
    """Base models come only from configured roots (issue #14)."""
    if "settings" in request.fixturenames and "toy_model" in request.fixturenames:
        request.getfixturevalue("settings").models.roots = [request.getfixturevalue("toy_model").parent]


def test_provenance_and_model_card_name_dataset_audit_and_curation(client, settings, toy_model) -> None:
    rows = [
        {"instruction": f"what is number {i % 9}?", "input": "", "output": ["red cat.", "blue dog."][i % 2]}
        for i in range(12)
    ]
    ds = client.post("/v1/datasets", files={"file": ("d.json", json.dumps(rows).encode())}).json()["id"]
    audit = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": ["exact_duplicate"]}).json()["id"]
    Worker(settings).run_once()
    cur = client.post(f"/v1/datasets/{ds}/curations", json={"audit_id": audit, "policy": {"dedupe": True}}).json()["id"]
    Worker(settings).run_once()
    curated = client.get(f"/v1/curations/{cur}").json()["curated"]["id"]
    spec = {"base_model": str(toy_model), "method": "adapter", "max_steps": 2, "batch_size": 4, "lr": 0.03}
    job = client.post("/v1/training-jobs", json={"dataset_id": curated, "spec": spec})
    assert job.status_code == 202, job.text
    assert Worker(settings).run_once() == job.json()["id"]
    done = client.get(f"/v1/training-jobs/{job.json()['id']}").json()
    assert done["status"] == "succeeded", done["error"]
    prov = client.get(f"/v1/training-jobs/{done['id']}/artifacts/final/provenance.json").json()
    src = prov["sources"]["datasets"]["main"]
    assert (src["dataset_id"], src["audit_id"], src["curation_id"], src["parent_id"]) == (curated, audit, cur, ds)
    card = client.get(f"/v1/training-jobs/{done['id']}/artifacts/final/README.md").text
    assert f"curation `{cur}`" in card and f"audit `{audit}`" in card and "More Information Needed" not in card
