"""The month window: caps and hours count per UTC calendar month."""

from __future__ import annotations

from datetime import UTC, datetime


def month_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(moment: datetime) -> datetime:
    start = month_start(moment)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def month_window(moment: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the UTC calendar month holding ``moment``."""
    return month_start(moment), next_month_start(moment)
