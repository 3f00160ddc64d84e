"""JSON rendering with orjson: several times faster than the standard library on list pages."""

from __future__ import annotations

import decimal
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


def dumps(data) -> bytes:
    return orjson.dumps(
        data,
        default=_default,
        option=orjson.OPT_NON_STR_KEYS,
    )


class ORJSONRenderer(JSONRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return dumps(data)
