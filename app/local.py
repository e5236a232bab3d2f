"""Read a dataset file straight into samples (the CLI's one-shot audit), with the same parser and
error policy as an upload — no database involved."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.ingest.normalise import IngestStats, OnError, normalise_records
from app.ingest.reader import container_hint, iter_records, open_payload, sniff_container
from app.jsonutil import load_json
from app.settings import Settings
from scorers.samples import Sample


def read_file_samples(
    path: Path,
    settings: Settings,
    *,
    format: str | None = None,
    field_map: Mapping[str, str] | None = None,
    on_error: OnError = "reject",
) -> tuple[list[Sample], dict[str, Any]]:
    lim = settings.upload
    stream, gzipped = open_payload(path, lim.max_decompressed_bytes)
    stats = IngestStats()
    with stream:
        container = sniff_container(stream, container_hint(path.name, None))
        samples = [
            Sample.from_dict(
                {"index": row["idx"], **row["conversation"]},
                meta={
                    "original": load_json(row["original"]),
                    **({"warnings": row["warnings"]} if row["warnings"] else {}),
                },
            )
            for row in normalise_records(
                iter_records(stream, container, lim.max_line_bytes, lim.max_json_array_bytes, lim.max_depth),
                format,
                field_map,
                on_error,
                stats,
                lim.max_errors_reported,
                lim.max_rows,
            )
        ]
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return samples, {"format": stats.format, "name": path.name, "sha256": h.hexdigest(), "skipped": stats.skipped}
