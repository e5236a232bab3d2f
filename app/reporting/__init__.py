"""Pages people look at: the HTML audit report and the sample browser (no torch imported here)."""

from app.reporting.browser import render_browser_html
from app.reporting.html import render_report_html, texts_from_samples
from app.reporting.view import CurationSummary, needed_text_indices

__all__ = ["CurationSummary", "needed_text_indices", "render_browser_html", "render_report_html", "texts_from_samples"]
