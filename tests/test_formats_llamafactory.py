"""LLaMA-Factory's formats: its current SFT format (``messages`` whose content is a list of
``{"type": "text", "value": …}`` parts, per-message ``loss_weight``) and its preference format (ShareGPT
``conversations`` + ``chosen``/``rejected`` message objects), ingested, audited and trained on."""

from __future__ import annotations

import json

from app.ingest.formats import NORMALISERS, detect_format, rejected_reply
from app.jobs.worker import Worker


def part(text: str) -> list[dict]:
    return [{"type": "text", "value": text}]


LF_SFT = [
    {
        "messages": [
            {"role": "system", "content": part("You are a helpful assistant."), "loss_weight": 0.0},
            {"role": "user", "content": part("Hello, who are you?"), "loss_weight": 0.0},
            {"role": "assistant", "content": part("I am an AI assistant."), "loss_weight": 1.0},
        ]
    },
    {
        "messages": [
            {"role": "user", "content": part("Name a colour."), "loss_weight": 0.0},
            {"role": "assistant", "content": part("Draft: red."), "loss_weight": 0.0},
            {"role": "user", "content": part("Another?"), "loss_weight": 0.0},
            {"role": "assistant", "content": part("Blue."), "loss_weight": 0.5},
        ]
    },
]
LF_PREFERENCE = [
    {
        "conversations": [{"from": "human", "value": "What is 2+2?"}],
        "chosen": {"from": "gpt", "value": "2 + 2 = 4."},
        "rejected": {"from": "gpt", "value": "5."},
    },
    {
        "conversations": [{"from": "system", "value": "Be kind."}, {"from": "human", "value": "Say hi."}],
        "chosen": {"from": "gpt", "value": "Hi there!"},
        "rejected": {"from": "gpt", "value": "No."},
    },
]


def test_content_parts_with_value_and_loss_weights_are_read() -> None:
    rec = LF_SFT[1]
    assert detect_format(rec, {}) == "messages"
    system, turns = NORMALISERS["messages"](rec, {})
    assert system is None
    assert turns == [
        ("user", "Name a colour.", 0.0),
        ("assistant", "Draft: red.", 0.0),
        ("user", "Another?", 0.0),
        ("assistant", "Blue.", 0.5),
    ]
    tool = {
        "messages": [
            {"role": "user", "content": part("6*8?")},
            {"role": "assistant", "content": [{"type": "tool_call", "value": '{"name": "mul"}'}]},
            {"role": "tool", "content": part("48")},
            {"role": "assistant", "content": part("48.")},
        ]
    }
    assert [t[0] for t in NORMALISERS["messages"](tool, {})[1]] == ["user", "function_call", "tool", "assistant"]


def test_upload_keeps_loss_weight_and_the_chosen_side_is_audited(client, settings) -> None:
    r = client.post("/v1/datasets", files={"file": ("lf.jsonl", "\n".join(json.dumps(x) for x in LF_SFT).encode())})
    assert r.status_code == 201, r.text
    ds = r.json()
    assert ds["format"] == "messages" and ds["rows"] == 2
    turns = client.get(f"/v1/datasets/{ds['id']}/samples").json()["items"][1]["conversation"]["turns"]
    assert [t.get("loss_weight") for t in turns] == [0.0, 0.0, 0.0, 0.5]
    from app.db.session import session_scope
    from app.services.datasets import load_samples

    with session_scope(settings.db_url) as s:  # what a training job reads
        assert [x.meta["loss_weights"] for x in load_samples(s, ds["id"])] == [[0.0, 1.0], [0.0, 0.0, 0.0, 0.5]]

    r = client.post("/v1/datasets", files={"file": ("pref.json", json.dumps(LF_PREFERENCE).encode())})
    assert r.status_code == 201, r.text
    pref = r.json()
    assert pref["format"] == "preference"
    conv = client.get(f"/v1/datasets/{pref['id']}/samples").json()["items"][1]["conversation"]
    assert conv == {
        "system": "Be kind.",
        "turns": [{"role": "user", "content": "Say hi."}, {"role": "assistant", "content": "Hi there!"}],
    }
    audit = client.post(f"/v1/datasets/{pref['id']}/audits", json={"scorers": ["text_length"]}).json()
    Worker(settings).run_once()
    rec = client.get(f"/v1/audits/{audit['id']}/samples/0").json()
    assert rec["answer_chars"] == len("2 + 2 = 4.")  # the chosen reply is what is audited


def test_reward_training_reads_both_sides_of_the_preference_rows(settings) -> None:
    from app.db.session import session_scope
    from app.services.datasets import IngestOptions, StoredUpload, ingest_upload, load_samples
    from app.services.training import load_training_samples
    from app.training_spec.spec import TrainingSpec

    path = settings.storage.data_dir / "pref.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(LF_PREFERENCE))
    from app.services.auth import get_or_create_project

    with session_scope(settings.db_url) as s:
        project_id = get_or_create_project(s, "p").id
    ds, _ = ingest_upload(
        settings, project_id, StoredUpload(path, "0" * 64, path.stat().st_size, "pref.json", None), IngestOptions()
    )
    with session_scope(settings.db_url) as s:
        spec = TrainingSpec(base_model="/nowhere", task="reward", method="lora")
        pairs = load_training_samples(s, spec, {"main": ds.id})
        assert [(p.turns[-1].content, p.meta["rejected"]) for p in pairs] == [
            ("2 + 2 = 4.", "5."),
            ("Hi there!", "No."),
        ]
        assert pairs[1].system == "Be kind."
        assert all("loss_weights" not in x.meta for x in load_samples(s, ds.id))


def test_other_preference_shapes() -> None:
    v1 = {
        "chosen_messages": [{"role": "user", "content": part("Q")}, {"role": "assistant", "content": part("good")}],
        "rejected_messages": [{"role": "user", "content": part("Q")}, {"role": "assistant", "content": part("bad")}],
    }
    assert detect_format(v1, {}) == "preference"
    assert NORMALISERS["preference"](v1, {})[1] == [("user", "Q"), ("assistant", "good")]
    assert rejected_reply(v1) == "bad"
    hh = {"chosen": "\n\nHuman: hi\n\nAssistant: hello", "rejected": "\n\nHuman: hi\n\nAssistant: go away"}
    assert NORMALISERS["preference"](hh, {})[1] == [("user", "hi"), ("assistant", "hello")]


def test_bad_preference_rows_name_the_field(client) -> None:
    bad = [
        LF_PREFERENCE[0],
        {"conversations": [{"from": "human", "value": "Q"}], "chosen": {"from": "gpt", "value": "A"}},
    ]
    r = client.post("/v1/datasets", files={"file": ("p.json", json.dumps(bad).encode())})
    assert r.status_code == 422
    assert r.json()["error"]["errors"][0] == {
        "line": 1,
        "index": 1,
        "field": "rejected",
        "reason": "missing: expected a message object or a list of messages",
    }
    image = [
        {
            "messages": [
                {"role": "user", "content": [{"type": "image_url", "value": "cat.jpg"}]},
                {"role": "assistant", "content": part("A cat.")},
            ]
        }
    ]
    r = client.post("/v1/datasets", files={"file": ("i.json", json.dumps(image).encode())})
    assert r.status_code == 422 and "image_url" in r.json()["error"]["errors"][0]["reason"]
