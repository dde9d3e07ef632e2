"""From a MatchSnapshot to evidence items.

One item per skill (text: the label; attribute ``level``), badge (text: name, description,
criteria and issuer; attribute ``verified``), role (text: the label, else the free-text role;
attribute ``curated``, ``role`` = slug or text) and rated contribution with a text (one item
per passage of the contribution's answers, as for experience; attributes ``rating`` (1-5),
``rated_at``, and ``private`` when the contribution came from a confidential or restricted
call). Experience entries and the bio, in the citizen's
own words, become several items of kind ``experience``: one per passage of the entry's title
and description (``evidence.passages``: sentence groups within the model's window), with
attributes ``entry_kind`` and ``title`` (the bio's passages have ``entry_kind`` "bio"), so an
explanation shows the passage that matched, not the whole entry. Weights for these
attributes live in ``scoring.MatchingConfig``; items only carry them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from convene_matcher.citizens.schemas import MatchSnapshot
from convene_matcher.evidence.passages import split_passages

EvidenceKind = Literal[
    "skill", "badge", "role", "contribution", "experience", "past_response", "answer"
]
# Appended only: a kind's position is its code in the citizen arrays and saved snapshots.
EVIDENCE_KINDS: tuple[EvidenceKind, ...] = (
    "skill", "badge", "role", "contribution", "experience", "past_response", "answer",
)  # fmt: skip
# Passages kept per imported response and per uploaded answer (its first ones: the opening
# of an answer says what it is about; 10 passages are about 500 words).
PAST_RESPONSE_PASSAGES = 10
ANSWER_PASSAGES = 3
LEVELS = ("want_to_learn", "can_explain", "can_connect", "can_do")
# The attribute of an item the citizen marked "use for matching but do not show to public
# bodies" (set only when true, so existing items keep their attributes).
PRIVATE = "private"


@dataclass(frozen=True, slots=True)
class ItemDraft:
    """An item before it has an id: (kind, source_id, text) identifies its vector."""

    kind: EvidenceKind
    source_id: str
    text: str
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.kind, self.source_id, self.text)


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """An item of a citizen's evidence; ``item_id`` is never reused.

    Its vector is the vector of its distinct normalised text, ``text_id`` (the id under which
    the index holds it, shared by every item with the same normalised text).
    """

    item_id: int
    citizen_id: str
    kind: EvidenceKind
    source_id: str
    text: str
    attributes: dict[str, Any] = field(default_factory=dict)
    text_id: int = 0

    def to_json(self) -> list[Any]:
        return [
            self.item_id,
            self.citizen_id,
            self.kind,
            self.source_id,
            self.text,
            self.attributes,
            self.text_id,
        ]

    @classmethod
    def from_json(cls, row: list[Any]) -> EvidenceItem:
        item_id, citizen_id, kind, source_id, text, attributes, text_id = row
        return cls(int(item_id), citizen_id, kind, source_id, text, attributes, int(text_id))


def _join(*parts: str | None) -> str:
    return ". ".join(part.strip().rstrip(".") for part in parts if part and part.strip())


def drafts_from_snapshot(snapshot: MatchSnapshot) -> list[ItemDraft]:
    drafts: list[ItemDraft] = []
    for skill in snapshot.skills:
        if skill.label.strip():
            attributes: dict[str, Any] = {"level": skill.level}
            if skill.code:
                attributes["code"] = skill.code
            if not skill.visible_to_bodies:
                attributes[PRIVATE] = True
            drafts.append(ItemDraft("skill", skill.id, skill.label.strip(), attributes))
    for badge in snapshot.badges:
        issuer = f"Issued by {badge.issuer_name}" if badge.issuer_name else None
        text = _join(badge.name, badge.description, badge.criteria, issuer)
        if text:
            badge_attributes: dict[str, Any] = {"verified": badge.verified}
            if badge.expires_at is not None:
                badge_attributes["expires_at"] = badge.expires_at.isoformat()
            drafts.append(ItemDraft("badge", badge.id, text, badge_attributes))
    for role in snapshot.roles:
        text = (role.label or role.role).strip()
        if text:
            role_attributes: dict[str, Any] = {"role": role.role, "curated": role.curated}
            if not role.visible_to_bodies:
                role_attributes[PRIVATE] = True
            drafts.append(ItemDraft("role", role.id, text, role_attributes))
    drafts.extend(_contribution_drafts(snapshot))
    drafts.extend(_experience_drafts(snapshot))
    drafts.extend(_record_drafts(snapshot))
    return drafts


def _record_drafts(snapshot: MatchSnapshot) -> list[ItemDraft]:
    """Confirmed past consultation responses (kind ``past_response``: attributes ``source``,
    ``rating``; weighted by the rating) and uploaded answers (kind ``answer``: the question's
    title leads, then the answer's passages; attributes ``site``, ``score``, ``accepted``;
    weighted by votes and acceptance). ``scoring.evidence_weight`` holds the formulas."""
    drafts: list[ItemDraft] = []
    for response in snapshot.past_responses:
        attributes: dict[str, Any] = {"source": response.source, "rating": response.rating}
        for passage in split_passages(response.text)[:PAST_RESPONSE_PASSAGES]:
            drafts.append(ItemDraft("past_response", response.id, passage, attributes))
    for answer in snapshot.answers:
        answer_attributes: dict[str, Any] = {
            "site": answer.site,
            "score": answer.score,
            "accepted": answer.accepted,
            "title": answer.title,
        }
        text = f"{answer.title.strip().rstrip('.?')}? {answer.text.strip()}"
        for passage in split_passages(text)[:ANSWER_PASSAGES]:
            drafts.append(ItemDraft("answer", answer.id, passage, answer_attributes))
    return drafts


def item_signal(item: EvidenceItem) -> float:
    """The number an imported record is weighted by: a past response's rating, an answer's
    score; NaN for everything else (and an unrated response)."""
    if item.kind == "past_response":
        value = item.attributes.get("rating")
    elif item.kind == "answer":
        value = item.attributes.get("score", 0)
    else:
        return float("nan")
    return float(value) if isinstance(value, int | float) else float("nan")


BIO_SOURCE = "bio"


def _contribution_drafts(snapshot: MatchSnapshot) -> list[ItemDraft]:
    """One item per passage of each rated contribution's text (profiles sends the text only
    with the citizen's consent). How much a rating counts (1-2: nothing) and its decay are
    routing's, from ``MatchingConfig``: the item carries the rating and its date."""
    drafts: list[ItemDraft] = []
    for contribution in snapshot.contributions:
        if not contribution.text or not contribution.text.strip() or not contribution.rating:
            continue
        attributes: dict[str, Any] = {
            "rating": int(contribution.rating),
            "rated_at": contribution.rated_at.isoformat() if contribution.rated_at else None,
        }
        if contribution.confidential:
            attributes[PRIVATE] = True
        for passage in split_passages(contribution.text):
            drafts.append(ItemDraft("contribution", contribution.id, passage, attributes))
    return drafts


def _experience_drafts(snapshot: MatchSnapshot) -> list[ItemDraft]:
    """One item per passage. The title leads the entry's text (it says what the entry is
    about), so a short entry is one passage "title. description"; a long one is the title's
    passage(s) and then its description's."""
    drafts: list[ItemDraft] = []
    for entry in snapshot.experience:
        attributes: dict[str, Any] = {"entry_kind": entry.kind, "title": entry.title.strip()}
        if not entry.visible_to_bodies:
            attributes[PRIVATE] = True
        title = entry.title.strip()
        # The title is its own sentence; the description is kept as written (its last full
        # stop included), so passages quote the citizen exactly.
        text = f"{title.rstrip('.')}. {entry.description.strip()}" if title else entry.description
        for passage in split_passages(text):
            drafts.append(ItemDraft("experience", entry.id, passage, attributes))
    if snapshot.bio.strip():
        for passage in split_passages(snapshot.bio):
            drafts.append(ItemDraft("experience", BIO_SOURCE, passage, {"entry_kind": "bio"}))
    return drafts
