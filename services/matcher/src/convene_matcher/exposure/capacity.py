"""``hours_per_month``: the hours a citizen gives in a month, against what they accepted.

A citizen's load in a month is the sum, over their accepted invitations whose call's deadline
falls in that UTC calendar month, of the hours they offered (the hours the call asked when
they offered none). A call fits when that load plus the call's hours stays within
``hours_per_month``. No stated limit, or a call that states no hours: it fits.

Pure, so routing can filter candidates with the same rule (``fits`` over the map that
``exposure.repository.accepted_hours`` returns for the call's month).
"""

from __future__ import annotations

from collections.abc import Mapping

# Float sums of hours (0.5 + 0.25 ...) must not refuse a call that fits exactly.
_EPSILON = 1e-9


def hours_left(*, hours_per_month: float | None, accepted_hours: float) -> float | None:
    """Hours still free this month (None: no limit stated)."""
    if hours_per_month is None:
        return None
    return max(0.0, hours_per_month - accepted_hours)


def fits(*, hours_per_month: float | None, accepted_hours: float, hours: float | None) -> bool:
    if hours_per_month is None or hours is None:
        return True
    return accepted_hours + hours <= hours_per_month + _EPSILON


def citizens_over_hours(
    limits: Mapping[str, float | None],
    accepted: Mapping[str, float],
    *,
    hours: float | None,
) -> set[str]:
    """The citizens (of ``limits``: id -> hours_per_month) whom a call of ``hours`` would take
    past their monthly hours: routing's filter."""
    return {
        citizen_id
        for citizen_id, limit in limits.items()
        if not fits(
            hours_per_month=limit, accepted_hours=accepted.get(citizen_id, 0.0), hours=hours
        )
    }
