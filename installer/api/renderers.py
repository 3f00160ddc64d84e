"""JSON rendering with orjson: several times faster than the standard library on list pages."""

from __future__ import annotations

import datetime
import decimal
import json
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
        return json.dumps(data, default=_std_default, ensure_ascii=False, separators=(",", ":")).encode()


class ORJSONRenderer(JSONRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return dumps(data)
