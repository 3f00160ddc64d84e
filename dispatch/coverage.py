"""Coverage rules: does a partnership cover an order's country and postal code, or its location?

Pure functions over rows already loaded; no database access.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from dispatch.models import CoverageArea, CoverageKind

EARTH_RADIUS_KM = 6371.0088


def normalize_postal(code: str | None) -> str:
    """Upper-case without spaces or dashes: 'sw1a 1aa' -> 'SW1A1AA', '0150' stays '0150'."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = math.radians(lat2 - lat1)
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def in_range(code: str, start: str, end: str) -> bool:
    """Inclusive range of codes of the same length ('0300'-'0399'); numeric codes compare as
    numbers, others character by character."""
    start, end = normalize_postal(start), normalize_postal(end)
    if not (len(code) == len(start) == len(end)):
        return False
    if code.isdigit() and start.isdigit() and end.isdigit():
        return int(start) <= int(code) <= int(end)
    return start <= code <= end


def distance_to_base(installer, latitude: float | None, longitude: float | None) -> float | None:
    if latitude is None or longitude is None or None in (installer.base_latitude, installer.base_longitude):
        return None
    return haversine_km(installer.base_latitude, installer.base_longitude, latitude, longitude)


def area_covers(area: CoverageArea, *, country: str, postal: str, distance_km: float | None) -> bool:
    if area.kind == CoverageKind.RADIUS:
        if area.country_code and area.country_code != country:
            return False
        return distance_km is not None and area.radius_km is not None and distance_km <= area.radius_km
    if area.country_code != country or not postal:
        return False
    if area.kind == CoverageKind.EXACT:
        return normalize_postal(area.value) == postal
    if area.kind == CoverageKind.PREFIX:
        prefix = normalize_postal(area.value.rstrip("*"))
        return bool(prefix) and postal.startswith(prefix)
    if area.kind == CoverageKind.RANGE:
        return in_range(postal, area.value, area.value_to)
    return False


def covering_area(
    areas: Iterable[CoverageArea], *, country: str, postal_code: str, distance_km: float | None
) -> CoverageArea | None:
    """The first rule that covers the order, or None."""
    country = (country or "").upper()
    postal = normalize_postal(postal_code)
    for area in areas:
        if area_covers(area, country=country, postal=postal, distance_km=distance_km):
            return area
    return None


def describe(area: CoverageArea, distance_km: float | None = None) -> str:
    if area.kind == CoverageKind.RADIUS:
        text = f"radius {area.radius_km:g} km"
        return text + (f" ({distance_km:.1f} km from base)" if distance_km is not None else "")
    kinds = {CoverageKind.EXACT: "postal code", CoverageKind.PREFIX: "prefix", CoverageKind.RANGE: "range"}
    kind = kinds[CoverageKind(area.kind)]
    return f"{kind} {area}"


POSTAL_CODE_MAX = 20


def postal_code_error(code: str) -> str | None:
    """Why a typed postal code cannot be checked (empty, too long, characters other than
    letters, digits, spaces and dashes), or None when it can."""
    text = (code or "").strip()
    if not text:
        return "Enter a postal code."
    if len(text) > POSTAL_CODE_MAX:
        return f"A postal code has at most {POSTAL_CODE_MAX} characters."
    if not all(ch.isalnum() or ch in " -" for ch in text) or not normalize_postal(text):
        return "A postal code has letters, digits, spaces and dashes only."
    return None
