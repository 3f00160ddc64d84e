"""JSON rendering with orjson: several times faster than the standard library on list pages."""

from __future__ import annotations

import datetime
import decimal
import json
import math
import uuid

import orjson
from rest_framework.renderers import JSONRenderer


def _default(value):
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    # DRF's lazy strings (gettext_lazy) and ReturnDict/ReturnList subclasses are handled by orjson
    # natively except for lazy strings.
    return str(value)


def _std_default(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()  # orjson's RFC 3339 form
    return _default(value)


def dumps(data) -> bytes:
    try:
        return orjson.dumps(
            data,
            default=_default,
            option=orjson.OPT_NON_STR_KEYS,
        )
    except orjson.JSONEncodeError:
        # orjson writes integers of at most 64 bits; JSON (and a jsonb column) has no such
        # limit, and a client may store a bigger one in `metadata`: the json module writes it,
        # in the same compact form.
        # Like orjson, it writes NaN and the infinities as null (JSON has neither).
        return json.dumps(_finite(data), default=_std_default, ensure_ascii=False, separators=(",", ":")).encode()


def _finite(value):
    """`value` with every float that is NaN or infinite, in its dicts and lists, as None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


class ORJSONRenderer(JSONRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return dumps(data)
