"""A citizen's own answers from a question-and-answer site (docs/answers-import.md). Pure.

JSON: an array of objects, or an object with an ``items`` array (the shape of the Stack
Exchange API's answer lists). CSV: a header row and one answer per record. Fields:

- ``site`` (required, 1-100 characters; e.g. "cooking.stackexchange.com");
- ``question_title`` (alias ``title``; required, at most 300 characters);
- ``answer_text`` (aliases ``body_markdown``, ``body``; required; HTML tags are removed and
  entities decoded; at most 10,000 characters after that);
- ``date`` (alias ``creation_date``): ISO 8601 date or date-time, or POSIX seconds; optional;
- ``score``: an integer (votes up minus down), default 0;
- ``accepted`` (alias ``is_accepted``): true/false (CSV: true, false, 1, 0, yes, no, or
  empty), default false;
- ``answer_id`` (optional): the site's id for the answer; with it, the same answer uploaded
  twice is stored once (without it, title and text identify it).

Each answer is reported by its number: the 1-based position in the JSON array, or the CSV
line it starts on.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from convene_profiles.imports.rows import FileFormatError, csv_records, decode

SITE_MAX = 100
TITLE_MAX = 300
TEXT_MAX = 10_000
SCORE_BOUND = 10_000_000

_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t]+")
_ALIASES = {
    "title": "question_title",
    "body_markdown": "answer_text",
    "body": "answer_text",
    "creation_date": "date",
    "is_accepted": "accepted",
}
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}

AnswersFormat = Literal["json", "csv"]


# The file as a whole cannot be read.
AnswersFileError = FileFormatError


@dataclass(frozen=True, slots=True)
class AnswerRow:
    number: int
    site: str
    answer_key: str
    question_title: str
    answer_text: str
    answered_at: datetime | None
    score: int
    accepted: bool


@dataclass(frozen=True, slots=True)
class AnswerRejection:
    number: int
    reason: str


def plain_text(value: str) -> str:
    """HTML tags removed, entities decoded, runs of spaces collapsed (line breaks kept)."""
    text = html.unescape(_TAG.sub(" ", value))
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines()).strip()


def _canonical(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        key = str(name).strip().lower()
        key = _ALIASES.get(key, key)
        if key not in out or out[key] in (None, ""):
            out[key] = value
    return out


def _required(values: dict[str, Any], name: str, limit: int) -> str:
    value = values.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} is missing")
    value = plain_text(value) if name == "answer_text" else value.strip()
    if not value:
        raise ValueError(f"{name} is empty")
    if len(value) > limit:
        raise ValueError(f"{name} is longer than {limit} characters ({len(value)})")
    return value


def _date(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("date must be an ISO 8601 date or POSIX seconds")
    if isinstance(value, int | float):
        if not 0 <= value < 4_102_444_800:  # 2100-01-01
            raise ValueError("date is out of range")
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        raise ValueError("date must be an ISO 8601 date or POSIX seconds")
    raw = value.strip()
    try:
        if raw.isdigit():
            return _date(int(raw))
        if len(raw) == 10:
            return datetime.combine(date.fromisoformat(raw), time(), tzinfo=UTC)
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"date is not an ISO 8601 date or date-time: {raw[:40]!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _score(value: Any) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValueError("score must be an integer")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise ValueError("score must be an integer") from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or abs(value) > SCORE_BOUND:
        raise ValueError("score must be an integer")
    return value


def _accepted(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError("accepted must be true or false")


def check_answer(number: int, raw: dict[str, Any]) -> AnswerRow | AnswerRejection:
    values = _canonical(raw)
    for name, value in values.items():
        if isinstance(value, str) and "\x00" in value:
            return AnswerRejection(number, f"{name} contains a NUL character")
    try:
        site = _required(values, "site", SITE_MAX)
        title = _required(values, "question_title", TITLE_MAX)
        text = _required(values, "answer_text", TEXT_MAX)
        answered_at = _date(values.get("date"))
        score = _score(values.get("score"))
        accepted = _accepted(values.get("accepted"))
    except ValueError as exc:
        return AnswerRejection(number, str(exc))
    answer_id = values.get("answer_id")
    if answer_id not in (None, "") and not isinstance(answer_id, bool):
        key = f"id:{str(answer_id).strip()[:100]}"
    else:
        key = "sha256:" + hashlib.sha256(f"{title}\x00{text}".encode()).hexdigest()
    return AnswerRow(number, site, key, title, text, answered_at, score, accepted)


def _json_records(text: str) -> Iterator[tuple[int, Any]]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise AnswersFileError(f"the file is not valid JSON: {exc}") from None
    if isinstance(document, dict):
        document = document.get("items")
    if not isinstance(document, list):
        raise AnswersFileError('the JSON must be an array of answers or {"items": [...]}')
    yield from enumerate(document, start=1)


def read_answers(
    content: bytes, *, file_format: AnswersFormat
) -> Iterator[AnswerRow | AnswerRejection]:
    text = decode(content)
    records = _json_records(text) if file_format == "json" else csv_records(text, required=())
    for number, record in records:
        if isinstance(record, str):
            yield AnswerRejection(number, record)
        elif not isinstance(record, dict):
            yield AnswerRejection(number, "not an object")
        else:
            yield check_answer(number, record)


def sniff_format(content: bytes) -> AnswersFormat:
    """JSON when the file starts (after white space and a BOM) with [ or {; CSV otherwise."""
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "json" if head in (b"[", b"{") else "csv"
