"""Spans of time that pages let people choose: presets, whole UTC days, and the half-open window
a query reads (`start <= created_at < end`).

Whatever a user picks ends up as a `Window`, and a `Window` refuses to end before it starts, so
the check and its wording live here once for every page and service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from core.errors import InvalidInput

REVERSED_PERIOD = "The first day of the period must not be after the last day."


class Period(StrEnum):
    DAY = "24h"
    WEEK = "7d"
    MONTH = "30d"
    ALL = "all"
    CUSTOM = "custom"


_PRESET_LENGTH = {
    Period.DAY: timedelta(hours=24),
    Period.WEEK: timedelta(days=7),
    Period.MONTH: timedelta(days=30),
}


@dataclass(frozen=True)
class Window:
    """`start <= created_at < end`; None leaves that side open."""

    start: datetime | None
    end: datetime | None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise InvalidInput(REVERSED_PERIOD)

    def bounds(
        self, column: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None]
    ) -> list[ColumnElement[bool]]:
        """The conditions that keep `column` inside the window."""
        conditions: list[ColumnElement[bool]] = []
        if self.start is not None:
            conditions.append(column >= self.start)
        if self.end is not None:
            conditions.append(column < self.end)
        return conditions


def utc_days(first: date | None, last: date | None) -> Window:
    """Whole UTC days from `first` to `last`, both included; a missing day leaves that side open."""
    return Window(
        datetime.combine(first, time(), UTC) if first is not None else None,
        datetime.combine(last + timedelta(days=1), time(), UTC) if last is not None else None,
    )


def period_window(
    period: Period, now: datetime, *, start: date | None = None, end: date | None = None
) -> Window:
    """The time range of a period. A custom period covers whole UTC days, both included."""
    if period is Period.ALL:
        return Window(None, None)
    if period is Period.CUSTOM:
        if start is None or end is None:
            raise InvalidInput("Choose both a first and a last day for a custom period.")
        return utc_days(start, end)
    return Window(now - _PRESET_LENGTH[period], None)
