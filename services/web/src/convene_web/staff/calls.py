"""Posting a call as a task list: the draft's sections, their checks, and the API payload.

Pure functions over plain dicts (what the session keeps between pages): no FastAPI, no
httpx. Each section reads its form into draft values and returns the errors to show in the
GOV.UK error summary, keyed by the field id they link to. The checks here are the ones a
person can fix on that page; checks across sections (quotas above the panel size, a role
nobody holds) are the gateway's, shown on the check-your-answers page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

Values = dict[str, Any]
Errors = dict[str, str]

PERSPECTIVE_ROWS = 5
MAX_PANEL_SIZE = 500
AUTHORITY_CODE = re.compile(r"^[EWSN]\d{8}$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
CONFIDENTIALITY = {
    "public": "Public: anyone invited sees the whole call",
    "restricted": "Restricted: the details are shown once a citizen accepts",
    "confidential": "Confidential: the details are shown once a citizen accepts, "
    "and nothing said becomes evidence for others",
}


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    required: bool


SECTIONS = (
    Section("what-you-need", "What you need", True),
    Section("perspectives", "Perspectives you want", False),
    Section("place", "Place and radius", False),
    Section("languages", "Languages", False),
    Section("access", "Access you offer", False),
    Section("time", "Time asked, deadline and panel size", True),
    Section("conflicts", "Conflicts of interest", False),
    Section("confidentiality", "Confidentiality", False),
)
SECTION_BY_SLUG = {section.slug: section for section in SECTIONS}


def lines(value: str, *, limit: int = 200) -> list[str]:
    """One item per line, blank lines dropped (the textareas' format)."""
    return [line.strip()[:limit] for line in value.splitlines() if line.strip()]


def _number(raw: str, *, field: str, label: str, errors: Errors, integer: bool) -> float | None:
    if raw == "":
        return None
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        errors[field] = f"{label} must be a {'whole ' if integer else ''}number"
        return None
    return value


def read_section(slug: str, form: dict[str, str], *, today: date) -> tuple[Values, Errors]:
    """The draft values one section's form gives, and what is wrong with them."""
    reader = _READERS[slug]
    return reader(form, today)


def _what_you_need(form: dict[str, str], today: date) -> tuple[Values, Errors]:
    values = {
        "title": form.get("title", "").strip(),
        "description": form.get("description", "").strip(),
        "questions": form.get("questions", ""),
        "skills": form.get("skills", ""),
    }
    errors: Errors = {}
    if not values["title"]:
        errors["title"] = "Enter a title for your call"
    elif len(values["title"]) > 200:
        errors["title"] = "Title must be 200 characters or fewer"
    if not values["description"]:
        errors["description"] = "Enter what you need and why"
    elif len(values["description"]) > 20_000:
        errors["description"] = "Description must be 20,000 characters or fewer"
    if len(lines(values["questions"], limit=2000)) > 50:
        errors["questions"] = "Ask 50 questions or fewer"
    if len(lines(values["skills"])) > 100:
        errors["skills"] = "List 100 skills or fewer"
    return values, errors


def _perspectives(form: dict[str, str], today: date) -> tuple[Values, Errors]:
    errors: Errors = {}
    rows = []
    for index in range(1, PERSPECTIVE_ROWS + 1):
        role = form.get(f"role-{index}", "").strip()
        minimum = form.get(f"min-{index}", "").strip()
        maximum = form.get(f"max-{index}", "").strip()
        rows.append({"role": role, "min": minimum, "max": maximum})
        if not role:
            if minimum or maximum:
                errors[f"role-{index}"] = f"Enter the perspective for row {index}"
            continue
        if len(role) > 200:
            errors[f"role-{index}"] = f"Perspective {index} must be 200 characters or fewer"
        low = _number(minimum, field=f"min-{index}", label="Minimum", errors=errors, integer=True)
        high = _number(maximum, field=f"max-{index}", label="Maximum", errors=errors, integer=True)
        if low is not None and not 0 <= low <= MAX_PANEL_SIZE:
            errors[f"min-{index}"] = f"Minimum must be between 0 and {MAX_PANEL_SIZE}"
        if high is not None and not 0 <= high <= MAX_PANEL_SIZE:
            errors[f"max-{index}"] = f"Maximum must be between 0 and {MAX_PANEL_SIZE}"
        if low is not None and high is not None and f"max-{index}" not in errors and low > high:
            errors[f"max-{index}"] = "Maximum must be the same as or more than the minimum"
    return {"perspectives": rows}, errors


def _place(form: dict[str, str], today: date) -> tuple[Values, Errors]:
    values = {
        "authority_code": form.get("authority_code", "").strip().upper(),
        "lat": form.get("lat", "").strip(),
        "lon": form.get("lon", "").strip(),
        "radius_km": form.get("radius_km", "").strip(),
    }
    errors: Errors = {}
    if values["authority_code"] and not AUTHORITY_CODE.match(values["authority_code"]):
        errors["authority_code"] = (
            "Enter an area code like E08000003 (a letter and 8 digits), or leave it blank"
        )
    lat = _number(values["lat"], field="lat", label="Latitude", errors=errors, integer=False)
    lon = _number(values["lon"], field="lon", label="Longitude", errors=errors, integer=False)
    radius = _number(
        values["radius_km"], field="radius_km", label="Radius", errors=errors, integer=False
    )
    if lat is not None and not -90 <= lat <= 90:
        errors["lat"] = "Latitude must be between -90 and 90"
    if lon is not None and not -180 <= lon <= 180:
        errors["lon"] = "Longitude must be between -180 and 180"
    if radius is not None and not 0 < radius <= 20_000:
        errors["radius_km"] = "Radius must be more than 0 and at most 20,000 km"
    if radius is not None and (lat is None or lon is None) and "radius_km" not in errors:
        errors["radius_km"] = "Enter the latitude and longitude of the centre of the radius"
    if (lat is None) != (lon is None) and "lat" not in errors and "lon" not in errors:
        errors["lat" if lat is None else "lon"] = "Enter both latitude and longitude"
    return values, errors


def _languages(form: dict[str, str], today: date) -> tuple[Values, Errors]:
    raw = form.get("languages", "").strip()
    codes = [code.strip().lower() for code in re.split(r"[\s,]+", raw) if code.strip()]
    errors: Errors = {}
    if any(not LANGUAGE_CODE.match(code) for code in codes):
        errors["languages"] = "Enter two-letter language codes separated by commas, like en, cy"
    elif len(codes) > 20:
        errors["languages"] = "List 20 languages or fewer"
    return {"languages": raw}, errors


def _access(form: dict[str, str], today: date) -> tuple[Values, Errors]:
    raw = form.get("access_offered", "")
    errors: Errors = {}
    if len(lines(raw)) > 50:
        errors["access_offered"] = "List 50 kinds of access or fewer"
    return {"access_offered": raw}, errors


def _time(form: dict[str, str], today: date) -> tuple[Values, Errors]:
    values = {
        "hours": form.get("hours", "").strip(),
        "deadline-day": form.get("deadline-day", "").strip(),
        "deadline-month": form.get("deadline-month", "").strip(),
        "deadline-year": form.get("deadline-year", "").strip(),
        "panel_size": form.get("panel_size", "").strip(),
    }
    errors: Errors = {}
    hours = _number(values["hours"], field="hours", label="Hours", errors=errors, integer=False)
    if hours is not None and not 0 < hours <= 1000:
        errors["hours"] = "Hours must be more than 0 and at most 1,000"
    parts = (values["deadline-day"], values["deadline-month"], values["deadline-year"])
    if not all(parts):
        errors["deadline-day"] = "Enter the deadline as a day, month and year"
    else:
        try:
            deadline = date(int(parts[2]), int(parts[1]), int(parts[0]))
        except ValueError:
            errors["deadline-day"] = "Deadline must be a real date"
        else:
            if deadline <= today:
                errors["deadline-day"] = "Deadline must be in the future"
    if not values["panel_size"]:
        errors["panel_size"] = "Enter how many people you want on the panel"
    else:
        size = _number(
            values["panel_size"],
            field="panel_size",
            label="Panel size",
            errors=errors,
            integer=True,
        )
        if size is not None and not 1 <= size <= MAX_PANEL_SIZE:
            errors["panel_size"] = f"Panel size must be between 1 and {MAX_PANEL_SIZE}"
    return values, errors


def _conflicts(form: dict[str, str], today: date) -> tuple[Values, Errors]:
    raw = form.get("conflicts", "")
    errors: Errors = {}
    if len(lines(raw)) > 200:
        errors["conflicts"] = "List 200 organisations or fewer"
    return {"conflicts": raw}, errors


def _confidentiality(form: dict[str, str], today: date) -> tuple[Values, Errors]:
    value = form.get("confidentiality", "")
    if value not in CONFIDENTIALITY:
        return {"confidentiality": ""}, {"confidentiality": "Select how confidential the call is"}
    return {"confidentiality": value}, {}


_READERS = {
    "what-you-need": _what_you_need,
    "perspectives": _perspectives,
    "place": _place,
    "languages": _languages,
    "access": _access,
    "time": _time,
    "conflicts": _conflicts,
    "confidentiality": _confidentiality,
}


def status_of(draft: Values, slug: str) -> str:
    """'completed', 'not started' (a required section never saved) or 'optional'."""
    if slug in draft.get("done", []):
        return "completed"
    return "not started" if SECTION_BY_SLUG[slug].required else "optional"


def missing_sections(draft: Values) -> list[Section]:
    return [s for s in SECTIONS if s.required and s.slug not in draft.get("done", [])]


def _float(value: str) -> float | None:
    return float(value) if value else None


def payload(draft: Values) -> dict[str, Any]:
    """The POST /v1/calls body a complete draft gives."""
    deadline = date(
        int(draft["deadline-year"]), int(draft["deadline-month"]), int(draft["deadline-day"])
    )
    perspectives = []
    for row in draft.get("perspectives", []):
        if row["role"]:
            # No maximum given: the API's own default (the largest panel), stated explicitly.
            maximum = int(row["max"]) if row["max"] else MAX_PANEL_SIZE
            perspectives.append({"role": row["role"], "min": int(row["min"] or 0), "max": maximum})
    place: dict[str, Any] = {}
    if draft.get("authority_code"):
        place["authority_code"] = draft["authority_code"]
    for key in ("lat", "lon", "radius_km"):
        if draft.get(key):
            place[key] = float(draft[key])
    languages = [c.lower() for c in re.split(r"[\s,]+", draft.get("languages", "")) if c]
    body: dict[str, Any] = {
        "title": draft.get("title", ""),
        "description": draft.get("description", ""),
        "questions": lines(draft.get("questions", ""), limit=2000),
        "skills": [{"label": label} for label in lines(draft.get("skills", ""))],
        "perspectives": perspectives,
        "place": place or None,
        "languages": languages,
        "access_offered": lines(draft.get("access_offered", "")),
        "hours": _float(draft.get("hours", "")),
        # The end of the deadline day, UTC: a call open "until 20 March" is open all that day.
        "deadline": datetime.combine(deadline, time(23, 59), tzinfo=UTC).isoformat(),
        "panel_size": int(draft["panel_size"]),
        "conflicts": lines(draft.get("conflicts", "")),
        "confidentiality": draft.get("confidentiality") or "public",
    }
    return body


# Which section holds each field the gateway can name in a 422 (for the change links).
FIELD_SECTION = {
    "title": "what-you-need",
    "description": "what-you-need",
    "questions": "what-you-need",
    "skills": "what-you-need",
    "perspectives": "perspectives",
    "place": "place",
    "languages": "languages",
    "access_offered": "access",
    "hours": "time",
    "deadline": "time",
    "panel_size": "time",
    "conflicts": "conflicts",
    "confidentiality": "confidentiality",
}
