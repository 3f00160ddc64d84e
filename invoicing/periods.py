"""The period of a statement: `from` and `to` dates (both included) from a query string."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from installer.errors import InvalidInput

MAX_DAYS = 366


def parse_period(params: Mapping[str, str]) -> tuple[datetime.date, datetime.date]:
    """InvalidInput naming the field for a missing or malformed date, `to` before `from`, or a
    period longer than MAX_DAYS."""
    errors: dict[str, list[str]] = {}
    days: dict[str, datetime.date] = {}
    for name in ("from", "to"):
        raw = (params.get(name) or "").strip()
        if not raw:
            errors[name] = ["Required: a date, YYYY-MM-DD."]
            continue
        try:
            days[name] = datetime.date.fromisoformat(raw)
        except ValueError:
            errors[name] = ["Not a date: use YYYY-MM-DD."]
    if not errors:
        if days["to"] < days["from"]:
            errors["to"] = ["Must be on or after 'from'."]
        elif (days["to"] - days["from"]).days >= MAX_DAYS:
            errors["to"] = [f"A statement covers at most {MAX_DAYS} days."]
    if errors:
        raise InvalidInput("Give the statement's period as from and to dates.", details=errors)
    return days["from"], days["to"]
