"""The customer's pages in Norwegian Bokmål: by Accept-Language, by the language chooser, and
the order's language when orders carry one; the API stays English."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from orders.tests.factories import create_order

pytestmark = pytest.mark.django_db


def test_portal_in_the_orders_norwegian(client, assigned):
    """The order's language (here nb, as a Norwegian webform or the API set it) is the page's,
    whatever the browser asks."""
    type(assigned).objects.filter(pk=assigned.pk).update(language="nb")
    response = client.get(f"/t/{assigned.client_token}/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response["Content-Language"] == "nb" and '<html lang="nb">' in html
    assert "Installasjonen din" in html and "Installatør funnet" in html and "Velg et tidspunkt" in html
    assert "Legg til et notat eller et bilde" in html and "Your installation" not in html


def test_language_chooser_sets_the_cookie_and_wins(client, assigned):
    response = client.post("/language/", {"language": "nb", "next": f"/t/{assigned.client_token}/"})
    assert response.status_code == 302 and response["Location"] == f"/t/{assigned.client_token}/"
    html = client.get(f"/t/{assigned.client_token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Installasjonen din" in html


def test_orders_language_comes_before_accept_language(client, assigned, monkeypatch):
    from portal import selectors

    original = selectors.order_for_portal

    def with_language(token):
        order = original(token)
        if order is not None:
            order.language = "nb"  # what notify's Order.language gives
        return order

    monkeypatch.setattr(selectors, "order_for_portal", with_language)
    html = client.get(f"/t/{assigned.client_token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Installasjonen din" in html


def test_webform_and_unknown_token_pages_in_norwegian(client, org_a):
    from webforms.tests.conftest import make_webform

    webform = make_webform(org_a)
    html = client.get(f"/f/{webform.slug}/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Navnet ditt" in html and "Send forespørsel" in html and "Felt merket * må fylles ut." in html
    html = client.get("/t/nope/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Vi finner ikke denne forespørselen" in html


def test_english_stays_the_default(client, org_a):
    order = create_order(org_a)
    html = client.get(f"/t/{order.client_token}/").content.decode()
    assert "Your installation" in html and "Received" in html


def test_nb_catalogs_are_complete_and_compile():
    result = subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / ".ci" / "check_translations.py")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
