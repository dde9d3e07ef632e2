""" "Not my expertise": a citizen's decline lowers the weight of the evidence that matched.

When a citizen declines with reason ``not_my_expertise``, the evidence texts shown as "why
you" on that invitation are stored (table ``evidence_feedback``). Routing multiplies the
similarity of that citizen's item with the same text by ``DAMPING ** n`` (n = declines naming
it; at most ``MAX_DECLINES`` count), so the same evidence pulls them less into similar calls
while their other evidence is untouched. Undoing the decline removes the feedback.
"""

from __future__ import annotations

from collections.abc import Mapping

DAMPING = 0.7
MAX_DECLINES = 3


def evidence_factor(declines: int) -> float:
    return float(DAMPING ** min(max(declines, 0), MAX_DECLINES))


def damped(
    similarity: float, *, citizen_id: str, text: str, counts: Mapping[tuple[str, str], int]
) -> float:
    declines = counts.get((citizen_id, text), 0)
    return similarity * evidence_factor(declines) if declines else similarity
