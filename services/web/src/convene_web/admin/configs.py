"""Matching configurations as admins read and change them (pure functions).

A configuration's settings are a nested JSON object; the pages show and edit them flat, one
row or field per setting named by its dotted path (``kind_weights.badge``). Editing reads
each field back as the type the base configuration holds (a number stays a number, a
list or object is JSON), so "create from another with changes" changes only what the admin
typed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

Settings = dict[str, Any]


@dataclass(frozen=True)
class Setting:
    key: str
    value: Any

    @property
    def shown(self) -> str:
        return shown(self.value)

    @property
    def field(self) -> str:
        """The form field's name and id (dots are fine in both)."""
        return f"setting.{self.key}"


@dataclass(frozen=True)
class Difference:
    key: str
    left: str
    right: str


def shown(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None:
        return "Not set"
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def flatten(settings: Settings, prefix: str = "") -> list[Setting]:
    """Every setting as a dotted path, in order; an empty object stays one setting."""
    rows: list[Setting] = []
    for key in sorted(settings):
        value = settings[key]
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            rows.extend(flatten(value, prefix=f"{path}."))
        else:
            rows.append(Setting(key=path, value=value))
    return rows


def diff(left: Settings, right: Settings) -> list[Difference]:
    """The settings whose values differ (a setting only one side has counts as differing)."""
    a = {s.key: s.value for s in flatten(left)}
    b = {s.key: s.value for s in flatten(right)}
    missing = object()
    return [
        Difference(
            key=key,
            left=shown(a[key]) if key in a else "Not set",
            right=shown(b[key]) if key in b else "Not set",
        )
        for key in sorted(a.keys() | b.keys())
        if a.get(key, missing) != b.get(key, missing)
    ]


def _parse(raw: str, like: Any) -> Any:
    """``raw`` as the type of ``like``; ValueError when it is not."""
    text = raw.strip()
    if isinstance(like, bool):
        lowered = text.lower()
        if lowered in {"yes", "true"}:
            return True
        if lowered in {"no", "false"}:
            return False
        raise ValueError("must be Yes or No")
    if isinstance(like, int):
        return int(text)
    if isinstance(like, float):
        return float(text)
    if like is None:
        if text.lower() in {"", "not set", "null", "none"}:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    if isinstance(like, list | dict):
        value = json.loads(text)
        if not isinstance(value, type(like)):
            raise ValueError("has the wrong shape")
        return value
    return text


def _set(settings: Settings, path: str, value: Any) -> None:
    parts = path.split(".")
    node = settings
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def apply_changes(base: Settings, form: dict[str, str]) -> tuple[Settings, dict[str, str]]:
    """The base settings with each submitted field (``setting.<path>``) read as its type.
    Errors are keyed by field id, for the error summary."""
    settings: Settings = json.loads(json.dumps(base))
    errors: dict[str, str] = {}
    for setting in flatten(base):
        raw = form.get(setting.field)
        if raw is None or raw.strip() == setting.shown:
            continue
        try:
            value = _parse(raw, setting.value)
        except (ValueError, json.JSONDecodeError):
            kind = type(setting.value).__name__
            errors[setting.field] = f"{setting.key} must be {_KIND_WORDS.get(kind, kind)}"
            continue
        _set(settings, setting.key, value)
    return settings, errors


_KIND_WORDS = {
    "bool": "Yes or No",
    "int": "a whole number",
    "float": "a number",
    "list": "a JSON list, like [1, 2]",
    "dict": 'a JSON object, like {"a": 1}',
}
