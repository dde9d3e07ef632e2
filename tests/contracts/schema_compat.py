"""Structural compatibility of two JSON schemas: can what one side sends be read by the other?

``check(sender, receiver, ...)`` walks both schemas together and lists every place where a
value the sender may produce would not be accepted by the receiver:

- types: every alternative the sender may send (after $ref, anyOf/oneOf, nullability) must
  be accepted by one of the receiver's (an integer is a number; a string with a format the
  receiver does not require is a string; a receiver's uuid/date-time or enum needs the same
  from the sender);
- constraints: where the receiver bounds a value (maxLength, maximum, maxItems, ...), the
  sender must bound it at least as tightly (an anchored pattern bounds a string's length);
  where the receiver requires a pattern, the sender must require the same one;
- fields, by direction: a *read* needs every field the receiver declares to exist on the
  sender; a *forward* needs every field the sender may send to exist on the receiver, and
  every field the receiver requires to be sent (or added on the way, ``added``).
"""

from __future__ import annotations

import re._parser as regex_parser  # type: ignore[import-not-found]  # no stubs; stable since 3.11
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Direction = Literal["read", "forward"]
Schema = Mapping[str, Any]

FORMATS_THAT_MATTER = frozenset({"uuid", "date-time", "date", "email", "uri"})
UPPER_BOUNDS = ("maxLength", "maxItems", "maximum", "exclusiveMaximum", "maxProperties")
LOWER_BOUNDS = ("minLength", "minItems", "minimum", "exclusiveMinimum", "minProperties")


@dataclass
class Document:
    """A schema with where its $refs resolve (an OpenAPI document or a $defs holder)."""

    root: Schema

    def resolve(self, node: Schema) -> Schema:
        seen = 0
        while "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            target: Any = self.root
            for part in ref[2:].split("/"):
                target = target[part]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            seen += 1
            assert seen < 50, ref
        return node


@dataclass
class Side:
    node: Schema
    doc: Document


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where or '<root>'}: {message}")


def alternatives(side: Side) -> list[Schema]:
    """The concrete alternatives of a schema (anyOf/oneOf/allOf-of-one flattened)."""
    node = side.doc.resolve(side.node)
    for key in ("anyOf", "oneOf"):
        if key in node:
            out: list[Schema] = []
            for option in node[key]:
                out += alternatives(Side(option, side.doc))
            return out
    if "allOf" in node and len(node["allOf"]) == 1:
        merged = {
            **side.doc.resolve(node["allOf"][0]),
            **{k: v for k, v in node.items() if k != "allOf"},
        }
        return alternatives(Side(merged, side.doc))
    if isinstance(node.get("type"), list):
        return [{**node, "type": t} for t in node["type"]]
    if "const" in node and "type" not in node:
        return [{**node, "type": _json_type(node["const"]), "enum": [node["const"]]}]
    return [node]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _kind(node: Schema) -> str:
    if "type" in node:
        return str(node["type"])
    if "enum" in node:
        return _json_type(node["enum"][0])
    if "properties" in node or "additionalProperties" in node:
        return "object"
    return "any"


def _enum(node: Schema) -> set[Any] | None:
    if "enum" in node:
        return set(node["enum"])
    if "const" in node:
        return {node["const"]}
    return None


def _accepts(receiver: Schema, sent: Schema) -> bool:
    """Whether one receiver alternative takes one sender alternative (shallowly)."""
    r, s = _kind(receiver), _kind(sent)
    if r == "any":
        return True
    if s == "any":
        return False
    if r != s and not (r == "number" and s == "integer"):
        return False
    if r == "string":
        wanted = receiver.get("format")
        if wanted in FORMATS_THAT_MATTER and sent.get("format") != wanted:
            return False
    allowed, sent_values = _enum(receiver), _enum(sent)
    return allowed is None or (sent_values is not None and sent_values <= allowed)


def _pattern_lengths(node: Schema) -> Schema:
    """minLength/maxLength implied by an anchored pattern (``^...$``), when not given."""
    pattern = node.get("pattern")
    if not isinstance(pattern, str) or not (pattern.startswith("^") and pattern.endswith("$")):
        return node
    low, high = regex_parser.parse(pattern).getwidth()
    implied: dict[str, Any] = {"minLength": low}
    if high < regex_parser.MAXREPEAT:
        implied["maxLength"] = high
    return {**implied, **node}


def _bounds(where: str, receiver: Schema, sent: Schema, report: Report) -> None:
    if _kind(sent) == "string":
        sent = _pattern_lengths(sent)
        if "pattern" in receiver and sent.get("pattern") != receiver["pattern"]:
            report.add(
                where, f"pattern {sent.get('pattern')!r} sent, {receiver['pattern']!r} accepted"
            )
    for key in UPPER_BOUNDS:
        if key in receiver and (key not in sent or sent[key] > receiver[key]):
            report.add(where, f"{key} {sent.get(key, 'unbounded')} sent, {receiver[key]} accepted")
    for key in LOWER_BOUNDS:
        if key in receiver and (key not in sent or sent[key] < receiver[key]):
            report.add(where, f"{key} {sent.get(key, 'unbounded')} sent, {receiver[key]} accepted")


def _describe(node: Schema) -> str:
    kind = _kind(node)
    extra = node.get("format") or (sorted(map(str, node["enum"])) if "enum" in node else "")
    return f"{kind}{f' ({extra})' if extra else ''}"


def without_nulls(side: Side) -> Side:
    """The sender's schema when it drops None values (``model_dump(exclude_none=True)``):
    a nullable field is then omitted, never sent as null."""

    def strip(node: Any) -> Any:
        if isinstance(node, list):
            return [strip(item) for item in node]
        if not isinstance(node, Mapping):
            return node
        out = {key: strip(value) for key, value in node.items()}
        for key in ("anyOf", "oneOf"):
            if key in out:
                kept = [o for o in out[key] if o != {"type": "null"}]
                out[key] = kept or out[key]
        return out

    return Side(strip(side.node), Document(strip(side.doc.root)))


def check(
    sender: Side,
    receiver: Side,
    *,
    direction: Direction,
    added: Iterable[str] = (),
    where: str = "",
    report: Report | None = None,
    depth: int = 0,
) -> Report:
    report = report if report is not None else Report()
    if depth > 12:
        return report
    receiving = alternatives(receiver)
    for sent in alternatives(sender):
        matches = [r for r in receiving if _accepts(r, sent)]
        if not matches:
            report.add(
                where,
                f"{_describe(sent)} sent, receiver takes "
                + " | ".join(_describe(r) for r in receiving),
            )
            continue
        target = matches[0]
        if _kind(target) == "any":
            continue
        _bounds(where, target, sent, report)
        kind = _kind(sent)
        if kind == "array" and "items" in target:
            check(
                Side(sent.get("items", {}), sender.doc),
                Side(target["items"], receiver.doc),
                direction=direction,
                where=f"{where}[]",
                report=report,
                depth=depth + 1,
            )
        elif kind == "object":
            _objects(sent, sender.doc, target, receiver.doc, direction, added, where, report, depth)
    return report


def _objects(
    sent: Schema,
    sent_doc: Document,
    target: Schema,
    target_doc: Document,
    direction: Direction,
    added: Iterable[str],
    where: str,
    report: Report,
    depth: int,
) -> None:
    sent_props: Mapping[str, Any] = sent.get("properties", {})
    target_props: Mapping[str, Any] = target.get("properties", {})
    if direction == "read":
        for name in target_props:
            if name not in sent_props and not _open_dict(sent):
                report.add(f"{where}.{name}", "read by the receiver, absent from the sender")
    else:
        closed = target.get("additionalProperties") is False or bool(target_props)
        for name in sent_props:
            if name not in target_props and closed:
                report.add(f"{where}.{name}", "sent, not accepted by the receiver")
        provided = set(sent.get("required", [])) | set(added)
        for name in target.get("required", []):
            if name not in provided:
                report.add(f"{where}.{name}", "required by the receiver, not always sent")
    for name, node in sent_props.items():
        if name in target_props:
            check(
                Side(node, sent_doc),
                Side(target_props[name], target_doc),
                direction=direction,
                where=f"{where}.{name}",
                report=report,
                depth=depth + 1,
            )
    sent_values, target_values = (
        sent.get("additionalProperties"),
        target.get("additionalProperties"),
    )
    if isinstance(sent_values, Mapping) and isinstance(target_values, Mapping):
        check(
            Side(sent_values, sent_doc),
            Side(target_values, target_doc),
            direction=direction,
            where=f"{where}.*",
            report=report,
            depth=depth + 1,
        )


def _open_dict(node: Schema) -> bool:
    """A free-form object (dict[str, Any]): any key may be there."""
    return not node.get("properties") and node.get("additionalProperties", True) not in (False,)
