"""The partner pages speak English and Norwegian Bokmål: the browser's Accept-Language by
default, the user's choice (a cookie) over it. The API keeps answering in English."""

from __future__ import annotations

import pytest
from django.conf import settings

from partners.tests.conftest import assigned, offered

pytestmark = pytest.mark.django_db


def test_a_page_in_norwegian_from_accept_language(partner, router, company):
    offered(router, company)
    response = partner.get("/partner/offers/", HTTP_ACCEPT_LANGUAGE="nb-NO,nb;q=0.9,en;q=0.5")
    body = response.content.decode()
    assert response["Content-Language"] == "nb"
    assert '<html lang="nb">' in body
    for norwegian in ("Tilbud", "Jobber", "Aksepter", "Avslå tilbudet", "Svar innen", "Tidene er i Europe/Oslo."):
        assert norwegian in body, norwegian
    assert "Accept</" not in body and "Answer within" not in body


def test_the_job_page_and_its_form_errors_in_norwegian(partner, router, company):
    order = assigned(router, company)
    body = partner.get(f"/partner/jobs/{order.pk}/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Book et tidspunkt" in body and "Historikk" in body and "Venter på booking" in body
    assert "aksepterte tilbudet; jobben er deres." in body
    response = partner.post(
        f"/partner/jobs/{order.pk}/book/",
        {"date": "2030-06-01", "start": "12:00", "end": "11:00"},
        HTTP_ACCEPT_LANGUAGE="nb",
    )
    assert response.status_code == 400 and "Slutten må være etter starten." in response.content.decode()


def test_the_chosen_language_wins_over_the_browsers(partner):
    response = partner.post("/partner/language/", {"language": "nb", "next": "/partner/jobs/"})
    assert response.status_code == 302 and response["Location"] == "/partner/jobs/"
    assert partner.cookies[settings.LANGUAGE_COOKIE_NAME].value == "nb"
    body = partner.get("/partner/jobs/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Ingen jobber passer." in body
    partner.post("/partner/language/", {"language": "en", "next": "/partner/jobs/"})
    assert "No jobs match." in partner.get("/partner/jobs/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()


def test_the_login_page_in_norwegian(client):
    body = client.get("/partner/login/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Logg inn" in body and "Glemt passordet?" in body


def test_the_api_stays_in_english(operator_a):
    """DRF's own messages are translated into Norwegian by DRF: they must not switch."""
    response = operator_a.post("/api/v1/order", {}, format="json", HTTP_ACCEPT_LANGUAGE="nb")
    assert response.status_code == 400
    assert "This field is required." in str(response.json())
    assert "påkrevd" not in str(response.json())
    assert "Content-Language" not in response
