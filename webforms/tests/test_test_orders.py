"""Create Webform Order with a test-mode token makes a test order; with a live one, a real one."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from orders.models import Order
from orders.tests.factories import MembershipFactory, make_token
from webforms.tests.conftest import GOOD_BODY

pytestmark = pytest.mark.django_db


def test_webform_order_of_a_test_token_is_a_test_order(org_a, operator_a, webform_a):
    sandbox = APIClient()
    raw = make_token(MembershipFactory(organization=org_a, role=Role.OPERATOR), name="sandbox", test=True)
    sandbox.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    made = sandbox.post(f"/api/v1/webform/{webform_a.pk}/order", GOOD_BODY, format="json")
    real = operator_a.post(f"/api/v1/webform/{webform_a.pk}/order", GOOD_BODY, format="json")

    assert made.status_code == 201, made.content
    assert (made.json()["test"], real.json()["test"]) == (True, False)
    assert Order.objects.get(pk=made.json()["id"]).test is True
