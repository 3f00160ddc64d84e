"""Times shown to people: in the organization's time zone, with the zone named.

Times are stored in UTC; the organization's `time_zone` (an IANA name, `Europe/Oslo`) decides
how they are shown. An unknown or empty name shows UTC.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.html import format_html
from django.utils.safestring import SafeString

UTC = ZoneInfo("UTC")


def zone_named(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def zone_of(organization) -> ZoneInfo:
    """The organization's zone (UTC when it has none or the name is unknown)."""
    return zone_named(getattr(organization, "time_zone", None))


def local_text(value: datetime.datetime | None, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """`2030-06-03 10:00 CEST`: the time in `zone` with the zone's abbreviation; "-" for None."""
    if value is None:
        return "-"
    local = value.astimezone(zone)
    return f"{local.strftime(fmt)} {local.tzname()}"


def local_html(value: datetime.datetime | None, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> SafeString | str:
    """As `local_text`, the abbreviation in an `<abbr>` that names the zone in full."""
    if value is None:
        return "-"
    local = value.astimezone(zone)
    return format_html('{} <abbr title="{}">{}</abbr>', local.strftime(fmt), zone.key, local.tzname())


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_text(value: datetime.datetime, zone: ZoneInfo, *, now: datetime.datetime, with_time: bool = True) -> str:
    """`Thu 10 Dec 08:00 (Europe/Oslo)`: the day (with the year when it is not `now`'s year in
    `zone`) and the time in `zone`, with the zone named. English whatever the process locale,
    so it can go into an HTTP header as it is."""
    local = value.astimezone(zone)
    text = f"{_WEEKDAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"
    if local.year != now.astimezone(zone).year:
        text += f" {local.year}"
    if with_time:
        text += f" {local:%H:%M}"
    return f"{text} ({zone.key})"
