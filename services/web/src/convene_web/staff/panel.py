"""The proposed panel as the officer reviews it: quota table and swaps (pure functions).

The gateway's match answer (ranked candidates, the panel, the quotas it could not meet) is
kept in the officer's session; a swap replaces one member by the best-ranked candidate not
yet on the panel, preferring one who fills the same perspectives, so the quotas hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from convene_web.staff.gateway import Candidate, Invitation, MatchResult, PanelMember, Perspective


@dataclass(frozen=True)
class QuotaRow:
    role: str
    wanted: str
    in_panel: int
    accepted: int
    short: int
    reason: str


class SwapError(ValueError):
    pass


def _holds(candidate: Candidate | None, member: PanelMember, role: str) -> bool:
    if role in member.fills:
        return True
    return candidate is not None and role in candidate.roles


def quota_table(
    *,
    perspectives: list[Perspective],
    match: MatchResult,
    invitations: list[Invitation],
) -> list[QuotaRow]:
    by_ref = {candidate.ref: candidate for candidate in match.candidates}
    unmet = {entry.role: entry.reason for entry in match.unmet}
    rows = []
    for perspective in perspectives:
        role = perspective.role
        in_panel = sum(1 for m in match.panel if _holds(by_ref.get(m.ref), m, role))
        accepted = sum(1 for i in invitations if i.status == "accepted" and role in i.fills)
        short = max(0, perspective.min - in_panel)
        wanted = (
            f"{perspective.min} to {perspective.max}"
            if perspective.max < 500
            else f"at least {perspective.min}"
        )
        reason = unmet.get(role, "") if short else ""
        if short and not reason:
            reason = "Not enough eligible people hold this perspective"
        rows.append(
            QuotaRow(
                role=role,
                wanted=wanted,
                in_panel=in_panel,
                accepted=accepted,
                short=short,
                reason=reason,
            )
        )
    return rows


def swap(match: MatchResult, *, ref: str) -> tuple[MatchResult, str]:
    """The match with ``ref`` swapped for the next best candidate, and who came in."""
    members = {member.ref: member for member in match.panel}
    leaving = members.get(ref)
    if leaving is None:
        raise SwapError("That person is not on the panel")
    wanted_roles = [role for role in leaving.fills if role != "relevance"]
    ranked = sorted((c for c in match.candidates if c.ref not in members), key=lambda c: -c.score)
    if not ranked:
        raise SwapError("Nobody else on the shortlist can take this place")
    same_roles = [c for c in ranked if all(role in c.roles for role in wanted_roles)]
    coming = (same_roles or ranked)[0]
    fills = [role for role in wanted_roles if role in coming.roles] or ["relevance"]
    panel = [
        PanelMember(ref=coming.ref, fills=fills) if member.ref == ref else member
        for member in match.panel
    ]
    return match.model_copy(update={"panel": panel}), coming.ref
