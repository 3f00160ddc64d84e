"""Formatting of scorecard figures in the back office."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent(value) -> str:
    """0.4286 -> "43%"; None -> "–"."""
    if value is None or value == "":
        return "–"
    return f"{round(float(value) * 100)}%"


@register.filter
def duration(seconds) -> str:
    """Seconds as "45 min", "3.5 h" or "2.1 d"; None -> "–"."""
    if seconds is None or seconds == "":
        return "–"
    seconds = float(seconds)
    sign = "−" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 3600:
        return f"{sign}{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{sign}{seconds / 3600:.1f} h"
    return f"{sign}{seconds / 86400:.1f} d"
