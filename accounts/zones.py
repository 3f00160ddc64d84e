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
