"""Containers → records: JSON arrays, JSONL, CSV, Parquet, plain text; any of them gzipped.

Everything is read from the stored upload with limits counted on bytes actually read or inflated,
and every record comes with the line it starts on (or ``None`` for Parquet) so errors say where.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from app.errors import AppError, RowError

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
CONTAINERS = ("json", "jsonl", "csv", "parquet", "txt")


# JSON escapes that decode to text a database cannot store (NUL) or UTF-8 cannot encode (lone surrogates).
UNSAFE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


@dataclass
class Record:
    index: int
    line: int | None
    data: dict[str, Any] | None  # None when the row itself could not be parsed
    error: RowError | None = None
    #: the record's JSON source text, kept as the original when nothing had to be sanitised
    raw: str | None = None
    #: False when the source text proves there is nothing to sanitise (no NUL/surrogate escapes)
    needs_sanitise: bool = True


class CorruptGzip(AppError):
    """The gzip stream is truncated or not gzip at all (raised while reading; rows read so far stand)."""

    def __init__(self, detail: str):
        super().__init__(422, "bad_gzip", f"the gzip data is corrupt or truncated: {detail}")


class LimitedReader(io.RawIOBase):
    """Wraps a stream; aborts with 413 once more than ``limit`` bytes came out of it (decompression bombs)."""

    def __init__(self, raw: IO[bytes], limit: int, what: str):
        self.raw, self.limit, self.what, self.count = raw, limit, what, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        try:  # read1: a short read returns what was inflated so far, so a truncated gzip keeps its rows
            data = self.raw.read1(len(b)) if hasattr(self.raw, "read1") else self.raw.read(len(b))
        except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
            raise CorruptGzip(str(e) or type(e).__name__) from None
        self.count += len(data)
        if self.count > self.limit:
            raise AppError(
                413,
                "too_large",
                f"{self.what} exceeds the limit of {self.limit} bytes",
                extra={"limit_bytes": self.limit},
            )
        b[: len(data)] = data
        return len(data)


def open_payload(path: Path, max_decompressed: int) -> tuple[IO[bytes], bool]:
    """Binary stream of the upload's content (inflated if gzipped) and whether it was gzipped."""
    with path.open("rb") as f:
        head = f.read(2)
    if head == GZIP_MAGIC:
        gz = gzip.GzipFile(filename=str(path), mode="rb")
        return io.BufferedReader(LimitedReader(gz, max_decompressed, "decompressed upload"), 1 << 20), True
    return path.open("rb"), False


def sniff_container(stream: IO[bytes], hint: str | None) -> str:
    """Guess the container from the content; the client's file extension only breaks ties."""
    peek = stream.peek(4096)[:4096] if hasattr(stream, "peek") else b""
    if peek.startswith(PARQUET_MAGIC):
        return "parquet"
    if peek.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        len(peek) >= 4 and peek[1:2] == b"\x00" and peek[3:4] == b"\x00"
    ):
        raise AppError(
            422,
            "bad_encoding",
            "the file looks UTF-16 encoded; please re-save it as UTF-8",
            [RowError("UTF-16 is not supported", line=1)],
        )
    text = peek.lstrip(codecs.BOM_UTF8).lstrip()
    if hint in ("csv", "parquet", "txt"):
        return hint
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        return "jsonl"
    if not text:
        raise AppError(422, "empty_file", "the file is empty", [RowError("no content", line=1)])
    return hint or "txt"


def container_hint(filename: str | None, content_type: str | None) -> str | None:
    name = (filename or "").lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for ext, kind in (
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".json", "json"),
        (".csv", "csv"),
        (".parquet", "parquet"),
        (".txt", "txt"),
    ):
        if name.endswith(ext):
            return kind
    ct = (content_type or "").split(";")[0].strip().lower()
    return {"application/x-ndjson": "jsonl", "application/jsonl": "jsonl", "text/csv": "csv", "text/plain": "txt"}.get(
        ct
    )


def iter_records(
    stream: IO[bytes], container: str, max_line: int, max_json_bytes: int, max_depth: int = 64
) -> Iterator[Record]:
    if container == "jsonl":
        yield from _jsonl(stream, max_line, max_depth)
    elif container == "json":
        yield from _json_array(stream, max_json_bytes, max_depth)
    elif container == "csv":
        yield from _csv(stream, max_line)
    elif container == "parquet":
        yield from _parquet(stream)
    elif container == "txt":
        yield from _txt(stream, max_line)
    else:  # pragma: no cover - guarded by callers
        raise AppError(422, "unknown_container", f"unknown file type {container!r}")


def _decode(raw: bytes, line: int) -> tuple[str | None, RowError | None]:
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return None, RowError(f"invalid UTF-8 byte 0x{raw[e.start]:02x} at column {e.start + 1}", line=line)


def _read_lines(stream: IO[bytes], max_line: int) -> Iterator[tuple[int, bytes]]:
    lineno = 0
    while True:
        raw = stream.readline(max_line + 1)
        if not raw:
            return
        lineno += 1
        if len(raw) > max_line and not raw.endswith(b"\n"):
            raise AppError(
                422,
                "line_too_long",
                f"line {lineno} is longer than the limit of {max_line} bytes",
                [RowError(f"longer than {max_line} bytes", line=lineno)],
                {"limit_bytes": max_line},
            )
        if lineno == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        yield lineno, raw


class _NonFinite(float):
    """What NaN/Infinity parse to, so the row that holds one is refused on its own (not the whole file)."""

    name = "NaN"


def _no_constants(name: str) -> Any:
    value = _NonFinite(name)
    value.name = name
    return value


def _loads(text: str) -> Any:
    """Strict JSON: NaN/Infinity are not JSON, and a stored record must stay valid JSON (see _shape_error)."""
    return json.loads(text, parse_constant=_no_constants)


def _parse_error(e: Exception) -> str:
    """A row's JSON error in words: malformed, too deeply nested, or a number Python refuses (> 4300 digits)."""
    if isinstance(e, json.JSONDecodeError):
        return f"malformed JSON: {e.msg} at column {e.pos + 1}"
    if isinstance(e, RecursionError):
        return "JSON nested too deeply"
    if "digits" in str(e):
        return "a number with more than 4300 digits"
    return f"invalid JSON value: {e}"


def _shape_error(obj: Any, max_depth: int) -> str | None:
    """Why a parsed record cannot be stored: nested deeper than ``max_depth``, or holding NaN/Infinity.

    Iterative, so no recursion limit is involved however deep the record is.
    """
    stack = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, _NonFinite):
            return f"{value.name} is not valid JSON (NaN and Infinity are refused; use null or a string)"
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > max_depth:
            return f"nested deeper than {max_depth} levels"
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list, _NonFinite)))
    return None


def _jsonl(stream: IO[bytes], max_line: int, max_depth: int = 64) -> Iterator[Record]:
    index, lineno = 0, 0
    try:
        for lineno, raw in _read_lines(stream, max_line):
            if not raw.strip():
                continue
            text, err = _decode(raw, lineno)
            if err is None:
                text = text.strip()  # type: ignore[union-attr]  # error columns count on the line itself
                try:
                    obj = _loads(text)
                except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
                    err = RowError(_parse_error(e), line=lineno)
                else:
                    if not isinstance(obj, dict):
                        err = RowError(f"each line must be a JSON object, got {type(obj).__name__}", line=lineno)
                    elif (why := _shape_error(obj, max_depth)) is not None:
                        err = RowError(why, line=lineno)
            if err is None:
                yield Record(index, lineno, obj, None, text, UNSAFE_ESCAPE.search(text) is not None)
            else:
                yield Record(index, lineno, None, err)
            index += 1
    except CorruptGzip as e:
        yield Record(index, lineno + 1, None, RowError(e.message, line=lineno + 1))


def _json_array(stream: IO[bytes], max_bytes: int, max_depth: int = 64) -> Iterator[Record]:
    raw = stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise AppError(
            413,
            "too_large",
            f"JSON arrays over {max_bytes} bytes are not parsed in memory; upload JSONL (one object per line) instead",
            extra={"limit_bytes": max_bytes},
        )
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        raise AppError(
            422,
            "bad_encoding",
            "the file is not valid UTF-8",
            [RowError(f"invalid UTF-8 byte 0x{raw[e.start]:02x} at column {col}", line=line)],
        ) from None
    dec = json.JSONDecoder(parse_constant=_no_constants)
    any_unsafe = UNSAFE_ESCAPE.search(text) is not None
    n = len(text)
    pos = _skip_ws(text, 0)
    if pos >= n or text[pos] != "[":
        raise AppError(422, "malformed_json", "expected a JSON array", [RowError("expected '['", line=1)])
    line, line_pos = 1, 0
    pos = _skip_ws(text, pos + 1)
    index = 0
    if pos < n and text[pos] == "]":
        return
    while True:
        line += text.count("\n", line_pos, pos)
        line_pos = pos
        try:
            obj, end = dec.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise AppError(
                422,
                "malformed_json",
                f"malformed JSON on line {e.lineno}",
                [RowError(f"{e.msg} at column {e.colno}", line=e.lineno, index=index)],
            ) from None
        except (ValueError, RecursionError) as e:  # the item cannot be skipped: where it ends is unknown
            raise AppError(
                422,
                "malformed_json",
                f"item at line {line}: {_parse_error(e)}",
                [RowError(_parse_error(e), line=line, index=index)],
            ) from None
        if isinstance(obj, dict) and (why := _shape_error(obj, max_depth)) is not None:
            yield Record(index, line, None, RowError(why, line=line, index=index))
        elif isinstance(obj, dict):
            raw_text = text[pos:end]
            yield Record(index, line, obj, None, raw_text, any_unsafe and UNSAFE_ESCAPE.search(raw_text) is not None)
        else:
            yield Record(
                index,
                line,
                None,
                RowError(f"array items must be objects, got {type(obj).__name__}", line=line, index=index),
            )
        index += 1
        pos = _skip_ws(text, end)
        if pos < n and text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
            continue
        if pos < n and text[pos] == "]":
            if _skip_ws(text, pos + 1) < n:
                bad = text.count("\n", 0, pos) + 1
                raise AppError(
                    422,
                    "malformed_json",
                    f"unexpected content after the array on line {bad}",
                    [RowError("extra data after ']'", line=bad)],
                )
            return
        bad = text.count("\n", 0, pos) + 1
        raise AppError(
            422,
            "malformed_json",
            f"malformed JSON on line {bad}",
            [RowError("expected ',' or ']' after an item", line=bad, index=index)],
        )


def _skip_ws(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _csv_lines(stream: IO[bytes], max_line: int) -> Iterator[str]:
    """Physical lines, decoded one by one: a bad byte is reported on its own line and column."""
    for lineno, raw in _read_lines(stream, max_line):
        text, err = _decode(raw, lineno)
        if err is not None:
            raise AppError(422, "bad_encoding", f"the file is not valid UTF-8 (line {lineno})", [err])
        yield text  # type: ignore[misc]


def _csv(stream: IO[bytes], max_line: int) -> Iterator[Record]:
    csv.field_size_limit(max_line)
    reader = csv.DictReader(_csv_lines(stream, max_line))
    index = 0
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                yield Record(index, line, None, RowError("more values than header columns", line=line))
            else:
                yield Record(index, line, {k: v for k, v in row.items() if k is not None})
            index += 1
    except csv.Error as e:
        raise AppError(
            422, "malformed_csv", f"malformed CSV on line {reader.line_num}", [RowError(str(e), line=reader.line_num)]
        ) from None


def _parquet(stream: IO[bytes]) -> Iterator[Record]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(stream)
        index = 0
        for batch in pf.iter_batches(batch_size=4096):
            for row in batch.to_pylist():
                yield Record(index, None, row)
                index += 1
    except (pa.ArrowInvalid, OSError) as e:
        raise AppError(422, "malformed_parquet", f"unreadable Parquet file: {e}") from None


def _txt(stream: IO[bytes], max_line: int) -> Iterator[Record]:
    index, lineno = 0, 0
    try:
        for lineno, raw in _read_lines(stream, max_line):
            if not raw.strip():
                continue
            text, err = _decode(raw.rstrip(b"\r\n"), lineno)
            yield Record(index, lineno, None if err else {"text": text}, err)
            index += 1
    except CorruptGzip as e:
        yield Record(index, lineno + 1, None, RowError(e.message, line=lineno + 1))


__all__ = ["CONTAINERS", "Record", "container_hint", "iter_records", "open_payload", "sniff_container"]
