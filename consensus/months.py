"""Calendar months for time windows: "within N months" counts calendar months, last day included."""

from __future__ import annotations

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def within_months(start: date, months: float, day: date) -> bool:
    """Whether `day` falls from `start` to `months` calendar months later, both days included."""
    return start <= day <= add_months(start, round(months))


def whole_months(start: date, end: date) -> int:
    """Whole calendar months from `start` to `end` (0 when `end` is earlier)."""
    count = (end.year - start.year) * 12 + end.month - start.month
    if add_months(start, count) > end:
        count -= 1
    return max(count, 0)
