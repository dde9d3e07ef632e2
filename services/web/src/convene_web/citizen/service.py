"""Citizens' forms: what a page's answers mean for the gateway, and what is wrong with them.

Each `parse_*` takes the posted form and returns (payload for the gateway, errors by field id).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

from starlette.datastructures import FormData, UploadFile

SKILL_LEVELS = {
    "want_to_learn": "I want to learn it",
    "can_explain": "I can explain it",
    "can_connect": "I can connect others who do it",
    "can_do": "I can do it",
}
AFFILIATION_KINDS = {
    "employer": "I work for it",
    "board": "I am on its board or committee",
    "commercial_interest": "I have a commercial interest in it",
    "other": "Another link",
}
DECLINE_REASONS = {
    "not_my_expertise": "It is not my area of expertise",
    "no_time": "I do not have the time",
    "not_interested": "I am not interested",
    "conflict_of_interest": "I have a conflict of interest",
    "other": "Another reason",
}
STATUS_LABELS = {
    "pending": ("New", "govuk-tag--blue"),
    "accepted": ("Accepted", "govuk-tag--green"),
    "declined": ("Declined", "govuk-tag--grey"),
    "expired": ("Expired", "govuk-tag--yellow"),
    "withdrawn": ("Withdrawn", "govuk-tag--grey"),
}
LANGUAGES = {
    "en": "English",
    "cy": "Welsh",
    "gd": "Scottish Gaelic",
    "ga": "Irish",
    "pl": "Polish",
    "ro": "Romanian",
    "pa": "Punjabi",
    "ur": "Urdu",
    "bn": "Bengali",
    "gu": "Gujarati",
    "ar": "Arabic",
    "so": "Somali",
    "pt": "Portuguese",
    "es": "Spanish",
    "fr": "French",
}
POSTCODE_AREA = re.compile(r"^[A-Z]{1,2}(\d{1,2}[A-Z]?)?$")
AUTHORITY_CODE = re.compile(r"^[EWSN]\d{8}$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
MAX_TEXT = 200
MAX_BADGE_BYTES = 32_000

Errors = dict[str, str]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _short_text(form: FormData, name: str, *, missing: str, errors: Errors) -> str:
    value = _text(form, name)
    if not value:
        errors[name] = missing
    elif len(value) > MAX_TEXT:
        errors[name] = f"Enter {MAX_TEXT} characters or fewer"
    return value


def parse_skill(form: FormData) -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    label = _short_text(form, "label", missing="Enter a skill", errors=errors)
    level = _text(form, "level")
    if level not in SKILL_LEVELS:
        errors["level"] = "Select how well you know it"
    return {"label": label, "level": level}, errors


def parse_role(form: FormData) -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    role = _short_text(form, "role", missing="Enter a role you have lived", errors=errors)
    return {"role": role}, errors


def parse_affiliation(form: FormData) -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    organisation = _short_text(
        form, "organisation", missing="Enter the organisation or interest", errors=errors
    )
    kind = _text(form, "kind")
    if kind not in AFFILIATION_KINDS:
        errors["kind"] = "Select how you are linked to it"
    return {"organisation": organisation, "kind": kind}, errors


async def parse_badge(form: FormData) -> tuple[dict[str, Any], Errors]:
    """An uploaded Open Badge: a JSON assertion (2.0) or a signed JWS / VC-JWT (3.0) file."""
    upload = form.get("badge")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return {}, {"badge": "Select a badge file"}
    try:
        raw = await upload.read(MAX_BADGE_BYTES + 1)
    finally:
        await upload.close()
    if len(raw) > MAX_BADGE_BYTES:
        return {}, {"badge": "The badge file must be smaller than 32 KB"}
    try:
        content = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return {}, {"badge": "The badge file must be an Open Badge (JSON or a signed text file)"}
    if not content:
        return {}, {"badge": "The selected file is empty"}
    if content.startswith("{"):
        try:
            assertion = json.loads(content)
        except ValueError:
            return {}, {"badge": "The badge file is not valid JSON"}
        return {"assertion": assertion}, {}
    if content.count(".") == 2:
        return {"credential": content}, {}
    return {}, {"badge": "The badge file must be an Open Badge (JSON or a signed text file)"}


def parse_place(form: FormData) -> tuple[dict[str, Any], Errors]:
    """The local authority (required: matching filters on it) and, optionally, the postcode
    area. There is no geocoder behind the pages, so no point is sent."""
    errors: Errors = {}
    area = _text(form, "postcode_area").upper().replace(" ", "")
    authority = _text(form, "authority_code").upper().replace(" ", "")
    if not authority:
        errors["authority_code"] = "Enter your local authority code, like E08000003"
    elif not AUTHORITY_CODE.match(authority):
        errors["authority_code"] = (
            "Enter a local authority code in the correct format, like E08000003"
        )
    if area and not POSTCODE_AREA.match(area):
        errors["postcode_area"] = "Enter the first part of a postcode, like M1 or LS6"
    place: dict[str, Any] = {"authority_code": authority}
    if area:
        place["postcode_area"] = area
    return {"place": place}, errors


def parse_languages(form: FormData) -> tuple[dict[str, Any], Errors]:
    chosen = [code for code in form.getlist("languages") if isinstance(code, str)]
    other = [part.strip().lower() for part in _text(form, "other_languages").split(",")]
    other = [code for code in other if code]
    errors: Errors = {}
    bad = [code for code in other if not LANGUAGE_CODE.match(code)]
    if bad:
        errors["other_languages"] = "Enter other languages as two-letter codes, like de, it"
    languages = list(dict.fromkeys([code for code in chosen if code in LANGUAGES] + other))
    if not languages and not errors:
        errors["languages"] = "Select at least one language you can take part in"
    return {"languages": languages}, errors


def parse_access_needs(form: FormData) -> tuple[dict[str, Any], Errors]:
    lines = [line.strip() for line in _text(form, "access_needs").splitlines()]
    needs = [line for line in lines if line]
    errors: Errors = {}
    if any(len(line) > 300 for line in needs):
        errors["access_needs"] = "Each access need must be 300 characters or fewer"
    if len(needs) > 50:
        errors["access_needs"] = "Enter 50 access needs or fewer"
    return {"access_needs": needs}, errors


def _whole_number(
    form: FormData, name: str, *, low: int, high: int, label: str, errors: Errors
) -> int:
    raw = _text(form, name)
    if not raw:
        errors[name] = f"Enter {label}"
        return 0
    if not raw.isdigit():
        errors[name] = f"{label[0].upper()}{label[1:]} must be a whole number"
        return 0
    value = int(raw)
    if not low <= value <= high:
        errors[name] = f"{label[0].upper()}{label[1:]} must be between {low} and {high}"
    return value


def parse_availability(
    form: FormData, *, unavailable: list[dict[str, Any]]
) -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    invitations = _whole_number(
        form,
        "max_invitations_per_month",
        low=0,
        high=100,
        label="how many invitations a month you may get",
        errors=errors,
    )
    hours = _whole_number(
        form, "hours_per_month", low=0, high=744, label="hours a month", errors=errors
    )
    return {
        "availability": {
            "max_invitations_per_month": invitations,
            "hours_per_month": hours,
            "unavailable": unavailable,
        }
    }, errors


def _date(form: FormData, prefix: str, *, label: str, errors: Errors) -> date | None:
    parts = [_text(form, f"{prefix}-{part}") for part in ("day", "month", "year")]
    if not all(parts):
        errors[prefix] = f"Enter the date {label}"
        return None
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        errors[prefix] = f"The date {label} must be a real date"
        return None


def parse_pause(form: FormData) -> tuple[dict[str, Any], Errors]:
    errors: Errors = {}
    start = _date(form, "start", label="your pause starts", errors=errors)
    end = _date(form, "end", label="your pause ends", errors=errors)
    if start and end and end < start:
        errors["end"] = "The date your pause ends must be the same as or after the date it starts"
    if errors or start is None or end is None:
        return {}, errors
    period = {
        "start": datetime(start.year, start.month, start.day, tzinfo=UTC).isoformat(),
        # The whole last day: a pause ending on the 5th still covers the 5th.
        "end": datetime(end.year, end.month, end.day, 23, 59, 59, tzinfo=UTC).isoformat(),
    }
    return period, {}


def parse_consent(form: FormData) -> tuple[dict[str, Any], Errors]:
    chosen = set(form.getlist("consent"))
    return {
        "consent": {
            "matching": "matching" in chosen,
            "contact": "contact" in chosen,
            "contributions_as_evidence": "contributions_as_evidence" in chosen,
        }
    }, {}


def parse_accept(form: FormData, *, hours_asked: float | None) -> tuple[dict[str, Any], Errors]:
    raw = _text(form, "hours_offered")
    if not raw:
        return {}, {}
    try:
        hours = float(raw)
    except ValueError:
        return {}, {"hours_offered": "Enter the hours you can give as a number, like 1.5"}
    if hours <= 0:
        return {}, {"hours_offered": "The hours you can give must be more than 0"}
    if hours_asked is not None and hours > hours_asked:
        return {}, {
            "hours_offered": f"The hours you can give must be {hours_asked:g} or fewer "
            "(the time asked)"
        }
    return {"hours_offered": hours}, {}


def parse_decline(form: FormData) -> tuple[dict[str, Any], Errors]:
    reason = _text(form, "reason")
    if reason and reason not in DECLINE_REASONS:
        return {}, {"reason": "Select a reason from the list"}
    return ({"reason": reason} if reason else {}), {}


def invitation_groups(items: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """New, accepted, declined, expired (withdrawn ones with the expired), deadline first."""
    order = [
        ("New", ("pending",)),
        ("Accepted", ("accepted",)),
        ("Declined", ("declined",)),
        ("Expired or withdrawn", ("expired", "withdrawn")),
    ]
    groups = []
    for title, statuses in order:
        chosen = sorted(
            (item for item in items if item.get("status") in statuses),
            key=lambda item: str(item.get("deadline", "")),
        )
        groups.append((title, chosen))
    return groups


def task_status(me: dict[str, Any], section: str) -> bool:
    """Whether a part of the profile has an answer (the task list's 'Completed')."""
    if section == "consent":
        return bool(me.get("consent") and me["consent"].get("matching"))
    if section == "availability":  # profiles keeps a default: it is always answered
        availability = me.get("availability") or {}
        return availability.get("max_invitations_per_month") is not None
    if section == "place":
        return bool(me.get("place"))
    value = me.get(section)
    return bool(value)


MAX_ANSWER_CHARS = 10_000


def contribution_form_values(
    contribution: dict[str, Any] | None, questions: list[str]
) -> dict[str, str]:
    """A stored contribution as the form's values: ``answer-<n>`` per question, ``comment``."""
    if not contribution:
        return {}
    texts = {a.get("question"): a.get("text", "") for a in contribution.get("answers", [])}
    values = {f"answer-{n}": texts.get(q, "") for n, q in enumerate(questions)}
    values["comment"] = contribution.get("comment") or ""
    return values


def parse_contribution(
    form: FormData, questions: list[str]
) -> tuple[dict[str, Any], Errors, dict[str, str]]:
    """The form's answers (one textarea per question, blank ones left out) and comment as
    the gateway's payload; errors by field; the values as typed."""
    values = {f"answer-{n}": _text(form, f"answer-{n}") for n in range(len(questions))}
    values["comment"] = _text(form, "comment")
    errors: Errors = {}
    answers = []
    for n, question in enumerate(questions):
        typed = values[f"answer-{n}"]
        if len(typed) > MAX_ANSWER_CHARS:
            errors[f"answer-{n}"] = f"Answer {n + 1} must be 10,000 characters or fewer"
        elif typed:
            answers.append({"question": question, "text": typed})
    if len(values["comment"]) > MAX_ANSWER_CHARS:
        errors["comment"] = "Your comment must be 10,000 characters or fewer"
    if not errors and not answers and not values["comment"]:
        field = "answer-0" if questions else "comment"
        errors[field] = "Answer at least one question, or write a comment"
    payload: dict[str, Any] = {"answers": answers}
    if values["comment"]:
        payload["comment"] = values["comment"]
    return payload, errors, values


# -- what we use to match you ---------------------------------------------------------------
EVIDENCE_KINDS = {
    "skill": "Skill",
    "badge": "Badge",
    "role": "Lived experience",
    "contribution": "Rated contribution",
    "experience": "Experience in your own words",
    "past_response": "Past consultation response",
    "answer": "Answer on a question-and-answer site",
}


def _evidence_detail(item: dict[str, Any]) -> str:
    kind = item.get("kind")
    if kind == "skill" and item.get("level"):
        return SKILL_LEVELS.get(str(item["level"]), str(item["level"]))
    if kind == "badge":
        return "Verified" if item.get("verified") else "Not verified"
    if kind == "experience":
        if item.get("entry_kind") == "bio":
            return "From your bio"
        entry_kind = str(item.get("entry_kind") or "other").replace("_", " ")
        title = str(item.get("title") or "")
        return f"From your {entry_kind} entry “{title}”" if title else f"From a {entry_kind} entry"
    if kind == "contribution" and item.get("rating") is not None:
        return f"Rated {item['rating']:g} out of 5"
    return ""


def evidence_rows(held: dict[str, Any]) -> list[list[dict[str, str]]]:
    """One table row per item the matcher holds, in its order; an experience entry held as
    several passages is several rows (each passage is compared with calls on its own)."""
    rows = []
    for item in held.get("items") or []:
        private = bool(item.get("private"))
        rows.append(
            [
                {"text": EVIDENCE_KINDS.get(str(item.get("kind")), str(item.get("kind")))},
                {"text": str(item.get("text", ""))},
                {"text": _evidence_detail(item)},
                {
                    "text": "No: private (bodies read “private evidence”)"
                    if private
                    else "Yes, when it matches a call"
                },
            ]
        )
    return rows
