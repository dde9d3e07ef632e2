"""Reading an import file of past consultation responses: one row at a time, each either a
``ResponseRow`` or a ``Rejection`` naming its line and reason. Pure: no I/O, no database.

Formats (docs/imports.md): JSON Lines (one object per line; blank lines skipped) or CSV with a
header row naming the columns. Fields: source, external_id, respondent_email, responded_at,
question, response_text, rating (optional, an integer 1-5). Unknown fields are ignored.
Line numbers are 1-based physical lines; a CSV record spanning lines is reported at its first.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from email_validator import EmailNotValidError, validate_email

SOURCE_MAX = 200
EXTERNAL_ID_MAX = 200
EMAIL_MAX = 254
QUESTION_MAX = 2_000
RESPONSE_MAX = 10_000
REQUIRED = (
    "source",
    "external_id",
    "respondent_email",
    "responded_at",
    "question",
    "response_text",
)
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
# A response dated more than this after the upload is a data error, not a time zone.
FUTURE_SLACK = timedelta(days=1)

ImportFormat = Literal["jsonl", "csv"]


class FileFormatError(ValueError):
    """The file as a whole cannot be read (no CSV header, not UTF-8): the job fails."""


@dataclass(frozen=True, slots=True)
class ResponseRow:
    line: int
    source: str
    external_id: str
    email: str  # normalised: as validated, lower-cased
    responded_at: datetime
    question: str
    response_text: str
    rating: int | None


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    reason: str


def normalise_email(address: str) -> str:
    """The form hashed and compared: surrounding white space removed, lower-cased."""
    return address.strip().lower()


def _text(values: dict[str, Any], name: str, limit: int) -> str:
    value = values.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{name} is missing")
    if not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool) and name == "external_id":
            value = str(value)
        else:
            raise ValueError(f"{name} must be a string")
    value = value.strip()
    if len(value) > limit:
        raise ValueError(f"{name} is longer than {limit} characters ({len(value)})")
    return value


def _email(values: dict[str, Any]) -> str:
    raw = _text(values, "respondent_email", EMAIL_MAX)
    try:
        checked = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"respondent_email is not a valid address: {exc}") from None
    return normalise_email(checked.normalized)


def _when(values: dict[str, Any], *, now: datetime) -> datetime:
    raw = _text(values, "responded_at", 64)
    try:
        if len(raw) == 10:
            when = datetime.combine(date.fromisoformat(raw), time(), tzinfo=UTC)
        else:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"responded_at is not an ISO 8601 date or date-time: {raw[:40]!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when < EARLIEST or when > now + FUTURE_SLACK:
        raise ValueError("responded_at is out of range (1900 to today)")
    return when


def _rating(values: dict[str, Any]) -> int | None:
    raw = values.get("rating")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise ValueError("rating must be an integer from 1 to 5")
    if isinstance(raw, str):
        try:
            raw = int(raw.strip())
        except ValueError:
            raise ValueError("rating must be an integer from 1 to 5") from None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if not isinstance(raw, int) or not 1 <= raw <= 5:
        raise ValueError("rating must be an integer from 1 to 5")
    return raw


def check_row(line: int, values: dict[str, Any], *, now: datetime) -> ResponseRow | Rejection:
    """One row's fields checked, in a fixed order (the first problem is the reason)."""
    missing = [name for name in REQUIRED if values.get(name) in (None, "")]
    if missing:
        return Rejection(line, f"missing field(s): {', '.join(missing)}")
    for name, value in values.items():
        if isinstance(value, str) and "\x00" in value:
            return Rejection(line, f"{name} contains a NUL character")
    try:
        return ResponseRow(
            line=line,
            source=_text(values, "source", SOURCE_MAX),
            external_id=_text(values, "external_id", EXTERNAL_ID_MAX),
            email=_email(values),
            responded_at=_when(values, now=now),
            question=_text(values, "question", QUESTION_MAX),
            response_text=_text(values, "response_text", RESPONSE_MAX),
            rating=_rating(values),
        )
    except ValueError as exc:
        return Rejection(line, str(exc))


def _jsonl_records(text: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except ValueError:
            yield number, "not a JSON object (invalid JSON)"
            continue
        if not isinstance(value, dict):
            yield number, "not a JSON object"
            continue
        yield number, value


def csv_records(
    text: str, *, required: tuple[str, ...] = REQUIRED
) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line, record by lower-cased header name) per CSV record, or (line, reason) when the
    record cannot be read; blank records are skipped. Shared with the answers upload."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise FileFormatError(f"the CSV header cannot be read: {exc}") from None
    names = [name.strip().lower() for name in header]
    absent = [name for name in required if name not in names]
    if absent:
        raise FileFormatError(f"the CSV header lacks the column(s): {', '.join(absent)}")
    start = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, f"not a readable CSV record: {exc}"
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(names):
            yield line, f"has {len(record)} columns; the header has {len(names)}"
            continue
        yield line, dict(zip(names, record, strict=True))


def decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"the file is not UTF-8 (at byte {exc.start})") from None


def check_file_head(content: bytes, *, file_format: ImportFormat) -> None:
    """Refuses at upload a file no row of which could be read: not UTF-8, a CSV header
    without the required columns, or JSON Lines whose first line is not a JSON object (a
    wrong format chosen, or not a file of responses). Later bad rows are reported by line."""
    text = decode(content)
    if file_format == "csv":
        next(csv_records(text), None)
        return
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        value = json.loads(first)
    except ValueError:
        raise FileFormatError("the first line is not JSON: is the file JSON Lines?") from None
    if not isinstance(value, dict):
        raise FileFormatError("the first line is not a JSON object of one response")


def read_rows(
    content: bytes, *, file_format: ImportFormat, now: datetime | None = None
) -> Iterator[ResponseRow | Rejection]:
    """Every row of the file, checked; a (source, external_id) seen earlier in the same file
    is rejected as a duplicate of that line. Raises FileFormatError for the whole file."""
    text = decode(content)
    moment = now or datetime.now(UTC)
    records = _jsonl_records(text) if file_format == "jsonl" else csv_records(text)
    seen: dict[tuple[str, str], int] = {}
    for line, record in records:
        if isinstance(record, str):
            yield Rejection(line, record)
            continue
        checked = check_row(line, record, now=moment)
        if isinstance(checked, ResponseRow):
            key = (checked.source, checked.external_id)
            first = seen.setdefault(key, line)
            if first != line:
                yield Rejection(line, f"duplicate of line {first} (same source and external_id)")
                continue
        yield checked
