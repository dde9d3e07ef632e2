"""Configurations read and edited flat (pure functions)."""

from __future__ import annotations

from convene_web.admin.configs import apply_changes, diff, flatten

BASE = {
    "top_k": 3,
    "lexical_weight": 0.3,
    "kind_weights": {"skill": 1.0, "badge": 0.8},
    "fairness": {"enabled": True, "caps": [1, 2]},
    "note": None,
}


def test_flatten_names_every_setting_by_its_dotted_path() -> None:
    keys = [s.key for s in flatten(BASE)]
    assert keys == [
        "fairness.caps",
        "fairness.enabled",
        "kind_weights.badge",
        "kind_weights.skill",
        "lexical_weight",
        "note",
        "top_k",
    ]
    shown = {s.key: s.shown for s in flatten(BASE)}
    assert shown["fairness.enabled"] == "Yes"
    assert shown["fairness.caps"] == "[1, 2]"
    assert shown["note"] == "Not set"


def test_changes_are_read_as_the_type_the_base_holds() -> None:
    settings, errors = apply_changes(
        BASE,
        {
            "setting.top_k": "5",
            "setting.kind_weights.badge": "1.2",
            "setting.fairness.enabled": "No",
            "setting.fairness.caps": "[3]",
            "setting.lexical_weight": "0.3",  # unchanged as shown: left alone
        },
    )
    assert errors == {}
    assert settings["top_k"] == 5
    assert settings["kind_weights"] == {"skill": 1.0, "badge": 1.2}
    assert settings["fairness"] == {"enabled": False, "caps": [3]}
    assert BASE["top_k"] == 3  # the base is not changed


def test_values_of_the_wrong_type_are_errors_for_their_field() -> None:
    _, errors = apply_changes(
        BASE,
        {
            "setting.top_k": "many",
            "setting.fairness.enabled": "maybe",
            "setting.fairness.caps": "{",
        },
    )
    assert errors == {
        "setting.top_k": "top_k must be a whole number",
        "setting.fairness.enabled": "fairness.enabled must be Yes or No",
        "setting.fairness.caps": "fairness.caps must be a JSON list, like [1, 2]",
    }


def test_diff_lists_only_what_differs() -> None:
    other = {**BASE, "top_k": 5, "kind_weights": {"skill": 1.0}}
    rows = diff(BASE, other)
    assert [(d.key, d.left, d.right) for d in rows] == [
        ("kind_weights.badge", "0.8", "Not set"),
        ("top_k", "3", "5"),
    ]
    assert diff(BASE, BASE) == []
