"""The order's language: from the webform's Accept-Language, else the organization's."""

from __future__ import annotations

import pytest

from orders.models import Order
from orders.validation import language_from_accept
from webforms.tests.conftest import make_webform
from webforms.tests.test_public_form import GOOD_POST, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def webform_a(org_a):
    return make_webform(org_a, custom_fields_required=["cable_length_m"], multiline_fields=["notes"])


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("nb-NO,nb;q=0.9,en;q=0.8", "nb"),
        ("no", "nb"),
        ("nn-NO", "nb"),
        ("en-GB,en;q=0.9,nb;q=0.8", "en"),
        ("de-DE,nb;q=0.5,en;q=0.7", "en"),
        ("de-DE,fr", None),
        ("", None),
        ("nb;q=0,en", "en"),
        ("nb;q=abc", None),
    ],
)
def test_language_from_accept(header, language):
    assert language_from_accept(header) == language


def test_a_webform_order_takes_the_browser_s_language(client, webform_a):
    client.post(url(webform_a), GOOD_POST, HTTP_ACCEPT_LANGUAGE="nb-NO,nb;q=0.9,en;q=0.5")
    assert Order.objects.get().language == "nb"


def test_a_webform_order_without_a_known_language_takes_the_organization_s(client, webform_a):
    webform_a.organization.language = "nb"
    webform_a.organization.save(update_fields=["language"])
    client.post(url(webform_a), GOOD_POST, HTTP_ACCEPT_LANGUAGE="de-DE")
    assert Order.objects.get().language == "nb"
