"""Renderers for the export formats: they pass the bytes a view built through unchanged (and an
error answer, a dict, as JSON: the views answer errors as JSON whatever was asked)."""

from __future__ import annotations

from rest_framework.renderers import BaseRenderer

from installer.api.renderers import dumps


class _Passthrough(BaseRenderer):
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes | bytearray):
            return bytes(data)
        return dumps(data)


class CsvRenderer(_Passthrough):
    media_type = "text/csv"
    format = "csv"


class PdfRenderer(_Passthrough):
    media_type = "application/pdf"
    format = "pdf"


class XmlRenderer(_Passthrough):
    media_type = "application/xml"
    format = "xml"
