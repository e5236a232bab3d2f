"""The sample browser: one static page whose inline script pages through an audit's samples endpoint.

The API serves it at ``GET /v1/audits/{id}/browser``.  The page holds no data and no secret: it asks
for the API key, keeps it in ``sessionStorage`` and sends it as ``Authorization: Bearer <key>`` to

* ``GET {api_base}/v1/audits/{id}`` — optional; its report's flag codes fill the flag filter's suggestions;
* ``GET {api_base}/v1/audits/{id}/samples?dimension=&flag=&min_score=&max_score=&sort=&limit=&cursor=``
  (plus ``cluster=`` and ``difficulty_level=``, which the page also applies to the rows it has loaded,
  so it is correct whether or not the endpoint filters on them);
* ``GET {api_base}/v1/audits/{id}/samples/{index}`` — one record, for links to samples not loaded yet;
* ``GET {api_base}/v1/audits/{id}/curations`` — the audit's curations with signed report URLs (the
  "Open curation report" button opens the newest finished one);
* when the audit names its dataset (``dataset_id``), the labels of that dataset:
  ``GET {api_base}/v1/datasets/{dataset_id}/labels`` (every page, once), ``PUT``/``DELETE
  …/labels/{index}`` as the user keeps, drops or undoes (``g``/``b``/``u``); "Label next" (``n``)
  loads the learned ranker's ``proposed_next`` samples from the report, one record each.

Opened from a signed link (``…/browser?exp=…&sig=…``), the page sends the link's ``exp`` and ``sig``
with every call instead of a key (see app/services/links.py).

Vanilla JavaScript inlined in the page: no build step, nothing fetched but the API.
"""

from __future__ import annotations

from markupsafe import Markup

from app.reporting.html import TEMPLATES, environment
from scorers.base import DIMENSIONS

#: ``sort`` values the page sends (the samples endpoint's contract): file order, worst first, best first.
SORTS = (("index", "row number"), ("score", "score, lowest first"), ("-score", "score, highest first"))
PAGE_SIZES = (25, 50, 100)


def render_browser_html(audit_id: str, api_base: str = "") -> str:
    """The browser page for one audit; ``api_base`` prefixes API paths (empty = same origin)."""
    config = {
        "audit_id": audit_id,
        "api_base": api_base.rstrip("/"),
        "dimensions": list(DIMENSIONS),
        "sorts": [list(s) for s in SORTS],
        "page_sizes": list(PAGE_SIZES),
    }
    return (
        environment()
        .get_template("browser.html.j2")
        .render(
            config=config,
            audit_id=audit_id,
            dimensions=DIMENSIONS,
            sorts=SORTS,
            page_sizes=PAGE_SIZES,
            css=Markup((TEMPLATES / "style.css").read_text(encoding="utf-8")),
            script=Markup((TEMPLATES / "browser.js").read_text(encoding="utf-8")),
        )
    )
