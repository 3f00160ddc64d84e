"""The public form in Norwegian Bokmål: every word the customer reads, the order rules' error
messages included, is Norwegian on an nb page, while the API keeps its English messages."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from orders.models import Order
from webforms import services
from webforms.tests.conftest import GOOD_BODY, GOOD_POST
from webforms.tests.test_public_form import field_html, url

pytestmark = pytest.mark.django_db

NB = {"HTTP_ACCEPT_LANGUAGE": "nb-NO,nb;q=0.9,en;q=0.5"}


def test_the_order_rules_errors_read_norwegian_beside_their_fields(client, webform_a):
    response = client.post(url(webform_a), {**GOOD_POST, "phone_number": "12"}, **NB)
    assert response.status_code == 400
    phone = field_html(response.content.decode(), "phone_number")
    assert "Skriv inn et gyldig telefonnummer, for eksempel +47 22 12 34 56." in phone
    assert "Enter a valid" not in phone
    assert Order.objects.count() == 0


def test_a_field_the_form_requires_reads_norwegian(webform_a):
    """cable_length_m is required by this form only, so the order rules of the service (not the
    HTML form) report it missing."""
    body = {**GOOD_BODY, "customFields": [f for f in GOOD_BODY["customFields"] if f["customId"] != "cable_length_m"]}
    with translation.override("nb"), pytest.raises(services.SubmissionInvalid) as raised:
        services.webform_prepare(webform=webform_a, body=body)
    assert raised.value.details["customFields.cable_length_m"] == ["«Cable Length M» må fylles ut."]


def test_prompts_and_country_names_are_norwegian_and_sorted_the_norwegian_way(client, webform_a):
    html = client.get(url(webform_a), **NB).content.decode()
    country = field_html(html, "country_code")
    assert '<option value="">Velg land</option>' in country
    assert '<option value="NO" selected>Norge</option>' in country or '<option value="NO">Norge</option>' in country
    names = re.findall(r'<option value="[A-Z]{2}"[^>]*>([^<]+)</option>', country)
    assert "Sveits" in names and "Switzerland" not in names
    # Æ, Ø and Å come after Z in Norwegian: Åland is near the end, not among the A's.
    assert names.index("Åland") > names.index("Zimbabwe")
    assert "Velg …" in field_html(html, "cf_charger_type")
    assert "Choose" not in html


def test_english_pages_keep_english_names_in_english_order(client, webform_a):
    html = client.get(url(webform_a), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    names = re.findall(r'<option value="[A-Z]{2}"[^>]*>([^<]+)</option>', field_html(html, "country_code"))
    assert "Norway" in names and "Åland Islands" in names
    assert names.index("Åland Islands") < names.index("Albania")  # sorted by its base letter A


def test_the_api_keeps_english_messages_whatever_the_browser_language(client, webform_a, operator_a):
    response = operator_a.post(
        "/api/v1/order",
        {**GOOD_BODY, "phoneNumber": "12", "workflowId": str(webform_a.workflow_id)},
        format="json",
        **NB,
    )
    assert response.status_code == 400
    assert response.json()["details"]["phoneNumber"] == ["Enter a valid phone number, for example +47 22 12 34 56."]
