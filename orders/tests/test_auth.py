"""Bearer tokens and roles on every route: 401 without a valid token, 403 for a viewer's write."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import ApiToken
from orders import services
from orders.models import Order, OrderEvent, OrderTag
from orders.tests.factories import create_order
from orders.tests.routes import ROUTES

pytestmark = pytest.mark.django_db


def assert_401(response):
    assert response.status_code == 401, response.content
    body = response.json()
    assert body["error"] == "Unauthorized" and body["statusCode"] == 401 and body["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.fixture
def target(operator_a):
    order = create_order(operator_a.org)
    tag = services.order_tags_create(organization=operator_a.org, names=["T"])[0]
    return {"order": order.pk, "tag": tag.pk}


def client_with(header: str | None) -> APIClient:
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client


def _revoked(operator_a):
    account_services.api_token_revoke(token=ApiToken.objects.get(membership=operator_a.membership))
    return f"Bearer {operator_a.token}"


def _expired(operator_a):
    ApiToken.objects.filter(membership=operator_a.membership).update(expires_at=timezone.now() - timedelta(seconds=1))
    return f"Bearer {operator_a.token}"


def _inactive_user(operator_a):
    user = operator_a.membership.user
    user.is_active = False
    user.save()
    return f"Bearer {operator_a.token}"


BAD_CREDENTIALS = {
    "none": lambda a: None,
    "unknown token": lambda a: "Bearer ins_not-a-real-token",
    "wrong scheme": lambda a: f"Token {a.token}",
    "basic": lambda a: "Basic dXNlcjpwYXNz",
    "no key": lambda a: "Bearer",
    "extra part": lambda a: f"Bearer {a.token} x",
    "revoked": _revoked,
    "expired": _expired,
    "inactive user": _inactive_user,
}


@pytest.mark.parametrize("case", list(BAD_CREDENTIALS))
def test_every_route_needs_a_valid_token(operator_a, target, case):
    client = client_with(BAD_CREDENTIALS[case](operator_a))
    counts = (Order.objects.count(), OrderEvent.objects.count(), OrderTag.objects.count())
    for route in ROUTES:
        response = route.call(client, **target)
        assert response.status_code == 401, (str(route), response.content)
        assert_401(response)
    assert (Order.objects.count(), OrderEvent.objects.count(), OrderTag.objects.count()) == counts


def test_token_expiring_in_the_future_works(operator_a):
    ApiToken.objects.filter(membership=operator_a.membership).update(expires_at=timezone.now() + timedelta(hours=1))
    assert operator_a.get("/api/v1/order").status_code == 200


def test_token_is_stored_hashed_and_last_used_is_recorded(operator_a):
    token = ApiToken.objects.get(membership=operator_a.membership)
    assert operator_a.token not in (token.key_hash, token.prefix)
    assert token.prefix == operator_a.token[:12] and operator_a.token.startswith("ins_")
    assert token.last_used_at is None
    operator_a.get("/api/v1/order")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_viewer_cannot_write(viewer_a, target):
    counts = (Order.objects.count(), OrderEvent.objects.count(), OrderTag.objects.count())
    writes = [r for r in ROUTES if r.writes]
    assert len(writes) == 7
    for route in writes:
        response = route.call(viewer_a, **target)
        assert response.status_code == 403, (str(route), response.content)
        body = response.json()
        assert body["error"] == "Forbidden" and body["statusCode"] == 403 and "viewer" in body["message"]
    assert (Order.objects.count(), OrderEvent.objects.count(), OrderTag.objects.count()) == counts


def test_viewer_can_read(viewer_a, target):
    for route in ROUTES:
        if not route.writes:
            assert route.call(viewer_a, **target).status_code == 200, str(route)


def test_viewer_has_no_allowed_actions(viewer_a, target):
    assert viewer_a.get(f"/api/v1/order/{target['order']}").json()["allowedActions"] == []


def test_admin_can_write(admin_a, target):
    for route in ROUTES:
        if route.writes:
            fresh = {**target, "order": create_order(admin_a.org).pk}
            assert route.call(admin_a, **fresh).status_code in (200, 201), str(route)
