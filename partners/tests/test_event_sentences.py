"""The job page's timeline as sentences for the partner, in its language: every event type the
project writes reads as a sentence (not as its type name), in English and in Norwegian."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from backoffice.tests.test_timeline import _types_written_by_the_project
from partners.presenters import event_sentence

OSLO = ZoneInfo("Europe/Oslo")


def _row(kind: str, data: dict | None = None) -> dict:
    return {"type": kind, "data": data or {}, "actor": {"type": "user", "label": "Kari"}}


@pytest.mark.parametrize("language", ["en", "nb"])
def test_every_event_type_reads_as_a_sentence(language):
    with translation.override(language):
        for kind in sorted(_types_written_by_the_project()):
            text = str(event_sentence(_row(kind), OSLO))
            assert kind not in text, f"{kind} has no sentence in {language}: {text}"


def test_priced_work_reads_norwegian():
    with translation.override("nb"):
        assert str(event_sentence(_row("quote.accepted"), OSLO)) == "Tilbudet ble godtatt."
        assert str(event_sentence(_row("order.invoiced"), OSLO)) == "Jobben er fakturert."
        line = _row("order.line_added", {"description": "Ekstra kabel"})
        assert str(event_sentence(line, OSLO)).endswith("la til en linje: Ekstra kabel")
