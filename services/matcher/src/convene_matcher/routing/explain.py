"""Explanations: the evidence shown per candidate, a human reason per unmet quota, and what
the panel needs (access needs are accommodated, so the body is told, not the filter)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from convene_matcher.calls.schemas import CallRead
from convene_matcher.evidence.items import PRIVATE
from convene_matcher.panel import PanelResult
from convene_matcher.routing.filters import FILTER_REASONS
from convene_matcher.routing.frame import RoleSummary, Scored
from convene_matcher.scoring import Hit, MatchingConfig

EVIDENCE_SHOWN = 3


def _count_phrase(count: int, role: str) -> str:
    return f"{count} {role} {'is' if count == 1 else 'are'}"


def unmet_quotas(
    *, call: CallRead, roles: Mapping[str, RoleSummary], panel: PanelResult
) -> list[dict[str, object]]:
    """A human reason for each role whose min the panel does not reach."""
    place = call.place
    where = ""
    if place is not None and place.radius_km is not None:
        where = f" within {place.radius_km:g} km"
    elif place is not None and place.authority_code is not None:
        where = f" in {place.authority_code}"
    unmet: list[dict[str, object]] = []
    for perspective in call.perspectives:
        missing = panel.shortfall.get(perspective.role, 0)
        if missing <= 0:
            continue
        found = perspective.min - missing
        summary = roles.get(perspective.role, RoleSummary(0, 0, {}))
        breakdown = ", ".join(
            f"{summary.rejected[name]} by {name.replace('_', ' ')}"
            for name in FILTER_REASONS
            if summary.rejected.get(name)
        )
        if summary.total == 0:
            reason_text = f"nobody holds the role {perspective.role!r}"
        elif summary.available == 0:
            reason_text = (
                f"all {summary.total} holders of the role {perspective.role!r} were filtered"
                f" out ({breakdown})"
            )
        else:
            reason_text = (
                f"only {_count_phrase(summary.available, perspective.role)} available{where}"
            )
            if breakdown:
                reason_text += f"; filtered out: {breakdown}"
            if summary.available >= perspective.min:
                reason_text += "; role maxima or affiliation caps kept the others off the panel"
        unmet.append(
            {
                "role": perspective.role,
                "wanted": perspective.min,
                "found": found,
                "reason": reason_text,
            }
        )
    return unmet


PRIVATE_EVIDENCE = "private evidence"


def evidence_source(kind: str, attributes: Mapping[str, object]) -> str | None:
    """Where an imported record comes from, as "why you" says it."""
    if kind == "answer" and attributes.get("site"):
        return f"answered on {attributes['site']}"
    if kind == "past_response" and attributes.get("source"):
        return f"response to a {attributes['source']} consultation"
    return None


def _shown(hit: Hit) -> dict[str, object]:
    entry: dict[str, object] = {
        "kind": hit.item.kind,
        "text": hit.item.text,
        "similarity": round(hit.similarity, 4),
    }
    if hit.item.kind == "badge":
        entry["verified"] = bool(hit.item.attributes.get("verified"))
    if hit.item.kind == "skill":
        entry["level"] = hit.item.attributes.get("level")
    source = evidence_source(hit.item.kind, hit.item.attributes)
    if source is not None:
        entry["source"] = source
    return entry


def explain(scored: Scored, *, config: MatchingConfig) -> list[dict[str, object]]:
    """What a body sees of a candidate's best items. An item its citizen marked not visible
    to bodies still counted; its text (and level) are replaced by "private evidence"."""
    shown: list[dict[str, object]] = []
    for hit in scored.hits[:EVIDENCE_SHOWN]:
        if hit.item.attributes.get(PRIVATE):
            shown.append(
                {
                    "kind": hit.item.kind,
                    "text": PRIVATE_EVIDENCE,
                    "similarity": round(hit.similarity, 4),
                }
            )
            continue
        shown.append(_shown(hit))
    return shown


def explain_to_citizen(scored: Scored) -> list[dict[str, object]]:
    """The same items as ``explain``, as the citizen's own "why you" shows them: their
    private items in full, marked private (the citizen wrote them; only bodies are kept from
    them)."""
    shown: list[dict[str, object]] = []
    for hit in scored.hits[:EVIDENCE_SHOWN]:
        entry = _shown(hit)
        if hit.item.attributes.get(PRIVATE):
            entry["private"] = True
        shown.append(entry)
    return shown


def panel_needs(members: Iterable[Scored]) -> list[dict[str, object]]:
    """Per access need of the panel's members: how many need it, with a sentence for the
    body ("2 members need step-free access"); most needed first, then by name. Counts only:
    nobody is named."""
    counts = Counter(need for member in members for need in member.access_needs)
    return [
        {
            "need": need,
            "members": count,
            "summary": f"{count} {'member needs' if count == 1 else 'members need'} {need}",
        }
        for need, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
