"""Labelling in the sample browser, in headless Chromium, against the real service: keyboard only.

The learned ranker is the contract stand-in of learned_fake.py, so "Label next" has proposals to offer.
The browser's screenshot goes to ``test-artifacts/browser-labelling.png``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from learned_fake import fake_ranker  # noqa: F401  (fixture)
from test_reporting_chromium import ARTIFACTS, browser, serve, watch  # noqa: F401  (fixtures)

from app.jobs.worker import Worker

N = 60
PATTERN = "ggbgbbggggbgbggbbggg"  # the verdicts typed for the first 20 proposed samples


@pytest.fixture
def service(tmp_path, fake_ranker, serve) -> dict[str, Any]:  # noqa: F811
    """A migrated SQLite service with one dataset, two uploaded labels and a finished audit with the ranker."""
    from fastapi.testclient import TestClient

    from app.api.main import create_app
    from app.db.migrate import upgrade
    from app.db.session import session_scope
    from app.services.auth import create_key
    from app.settings import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'ui.db'}", storage={"data_dir": tmp_path / "data"})
    upgrade(settings.db_url)
    with session_scope(settings.db_url) as s:
        key, _ = create_key(s, "default")
    rows = [
        {"instruction": f"Question {i}: what is {i} plus {i}?", "input": "", "output": f"{i} plus {i} is {2 * i}."}
        for i in range(N)
    ]
    app = create_app(settings, migrate=False)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        ds = client.post("/v1/datasets", files={"file": ("d.json", json.dumps(rows).encode())}).json()["id"]
        labels = "".join(json.dumps(x) + "\n" for x in ({"index": 0, "label": "good"}, {"index": 1, "rating": 2}))
        assert client.post(f"/v1/datasets/{ds}/labels", files={"file": ("l.jsonl", labels.encode())}).status_code == 200
        audit = client.post(f"/v1/datasets/{ds}/audits", json={"scorers": ["learned_quality", "text_length"]}).json()
        Worker(settings).run_once()
        assert client.get(f"/v1/audits/{audit['id']}").json()["status"] == "succeeded"
    return {"settings": settings, "key": key, "dataset": ds, "url": serve(app) + f"/v1/audits/{audit['id']}/browser"}


def stored(settings) -> dict[int, tuple[float, str]]:
    from app.db.models import Label
    from app.db.session import session_scope

    with session_scope(settings.db_url) as s:
        return {lab.idx: (lab.value, lab.source) for lab in s.query(Label)}


def settle(page) -> None:
    page.wait_for_function("document.getElementById('label-status').dataset.pending === '0'")


def test_label_twenty_samples_with_the_keyboard_alone(browser, service) -> None:  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = watch(page)
    page.goto(service["url"])
    page.wait_for_selector("#api-key:focus")
    page.keyboard.type(service["key"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#rows tr.row")
    assert page.locator("#label-head").is_visible()
    # the uploaded labels are shown on their rows
    assert page.locator("#label-0 .keep").get_attribute("aria-pressed") == "true"
    assert page.locator("#label-1 .drop").get_attribute("aria-pressed") == "true"
    assert page.inner_text("#label-next") == "Label next (50 of 50 left)"

    # n: the ranker's proposals (the unlabelled rows, in its order); focus lands on the first
    page.keyboard.press("n")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Label next')")
    proposed = list(range(2, 52))
    assert [int(i) for i in page.locator("#rows tr.row").evaluate_all("rs => rs.map(r => r.dataset.index)")] == proposed
    assert page.evaluate("document.activeElement.closest('tr').dataset.index") == "2"

    # g / b label the row in focus and move on; a wrong key is undone with u
    for verdict in PATTERN[:-1]:
        page.keyboard.press(verdict)
    page.keyboard.press("b" if PATTERN[-1] == "g" else "g")
    page.keyboard.press("u")
    assert page.evaluate("document.activeElement.closest('tr').dataset.index") == str(proposed[19])
    page.keyboard.press(PATTERN[-1])
    # j / k move without labelling; k back and b relabels the last one as bad, u puts it back
    page.keyboard.press("k")
    page.keyboard.press("b")
    page.keyboard.press("u")
    settle(page)
    expected = {proposed[k]: (1.0 if v == "g" else 0.0, "browser") for k, v in enumerate(PATTERN)}
    assert stored(service["settings"]) == {0: (1.0, "upload"), 1: (0.25, "upload"), **expected}
    assert page.inner_text("#label-next") == "Label next (30 of 50 left)"
    assert "20 here, 2 uploaded" in page.inner_text("#label-status")
    page.screenshot(path=str(ARTIFACTS / "browser-labelling.png"), full_page=True)

    # a fresh page shows what was stored; "Label next" offers only what is still unlabelled
    page.reload()
    page.wait_for_selector("#rows tr.row")
    settle(page)
    assert page.locator(f"#label-{proposed[2]} .drop").get_attribute("aria-pressed") == "true"
    assert page.locator(f"#label-{proposed[0]} .keep").get_attribute("aria-pressed") == "true"
    page.keyboard.press("n")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('Label next')")
    assert page.locator("#rows tr.row").first.get_attribute("data-index") == str(proposed[20])
    assert errors == []
    page.close()
