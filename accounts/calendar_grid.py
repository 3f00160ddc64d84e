"""Calendar periods and day grids in an organization's time zone: pure functions shared by the
partner workspace's calendar (/partner/calendar/) and the back office's (/admin/calendar/).

A period is a day, a Monday-to-Sunday week or a month; its grid is the days shown (a month is
shown as whole weeks, so its grid starts on the Monday before the 1st). Bookings are placed on
the local day (in the zone) on which they start, or on the grid's first day when they started
before it. No database access.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

VIEWS = ("day", "week", "month")
T = TypeVar("T")


def monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def midnight(day: datetime.date, zone: ZoneInfo) -> datetime.datetime:
    """The instant (UTC) the local day begins in `zone`; raises OverflowError at the calendar's
    ends (a date the caller read from a request)."""
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=zone).astimezone(datetime.UTC)


@dataclass(frozen=True)
class Period:
    view: str  # "day", "week" or "month"
    first: datetime.date  # the period's first day
    end: datetime.date  # the day after its last
    previous: datetime.date  # the date the "previous" link opens
    following: datetime.date  # the date the "next" link opens
    grid_first: datetime.date  # the first day shown
    grid_end: datetime.date  # the day after the last day shown

    @property
    def last(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)

    def bounds(self, zone: ZoneInfo) -> tuple[datetime.datetime, datetime.datetime]:
        """[start, end) of the grid as UTC instants: a DST change inside it is accounted for
        (a week with one has 167 or 169 hours)."""
        return midnight(self.grid_first, zone), midnight(self.grid_end, zone)

    def grid_days(self) -> list[datetime.date]:
        return [self.grid_first + datetime.timedelta(days=i) for i in range((self.grid_end - self.grid_first).days)]


def period_of(view: str, day: datetime.date) -> Period:
    """The day, week or month holding `day` (an unknown view is a week)."""
    if view == "day":
        following = day + datetime.timedelta(days=1)
        return Period("day", day, following, day - datetime.timedelta(days=1), following, day, following)
    if view == "month":
        first = day.replace(day=1)
        end = (first + datetime.timedelta(days=32)).replace(day=1)
        previous = (first - datetime.timedelta(days=1)).replace(day=1)
        grid_end = monday(end - datetime.timedelta(days=1)) + datetime.timedelta(days=7)
        return Period("month", first, end, previous, end, monday(first), grid_end)
    first = monday(day)
    end = first + datetime.timedelta(days=7)
    return Period("week", first, end, first - datetime.timedelta(days=7), end, first, end)


def local_day(start: datetime.datetime, zone: ZoneInfo, period: Period) -> datetime.date:
    """The grid day an item starting at `start` is shown on: its local day in `zone`, or the
    grid's first day when it started before the grid (a booking running into it)."""
    return max(start.astimezone(zone).date(), period.grid_first)


def by_day(
    items: Iterable[tuple[datetime.datetime, T]], zone: ZoneInfo, period: Period
) -> dict[datetime.date, list[T]]:
    """Items (start instant, item) grouped by the grid day they are shown on, in input order."""
    grouped: dict[datetime.date, list[T]] = {}
    for start, item in items:
        grouped.setdefault(local_day(start, zone, period), []).append(item)
    return grouped


def day_cells(period: Period, grouped: dict[datetime.date, list[Any]], today: datetime.date) -> list[dict[str, Any]]:
    """One cell per grid day: its date, entries, whether it is today and whether it lies
    outside the period (the neighbouring months' days of a month grid)."""
    return [
        {
            "date": day,
            "entries": grouped.get(day, []),
            "today": day == today,
            "outside": not (period.first <= day < period.end),
        }
        for day in period.grid_days()
    ]
