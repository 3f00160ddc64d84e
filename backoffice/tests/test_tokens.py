"""API tokens in the admin: the text is shown once, then only the prefix; it works until revoked."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def test_token_created_in_admin_is_shown_once_and_works_until_revoked(staff_admin_a):
    response = staff_admin_a.post(
        reverse("admin:accounts_apitoken_add"),
        {"membership": staff_admin_a.membership.pk, "name": "erp-sync", "expires_at_0": "", "expires_at_1": ""},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(name="erp-sync")
    messages = [str(m) for m in response.context["messages"]]
    shown = [m for m in messages if "new-api-token" in m]
    assert len(shown) == 1
    raw = shown[0].split("<code class='new-api-token'>")[1].split("</code>")[0]
    assert raw.startswith("ins_") and raw[:12] == token.prefix and len(raw) > 30
    assert response.content.decode().count(raw) == 1

    # Afterwards: the change page and the list show the prefix, never the text.
    again = staff_admin_a.get(reverse("admin:accounts_apitoken_change", args=[token.pk])).content.decode()
    assert raw not in again and token.prefix in again
    listing = staff_admin_a.get(reverse("admin:accounts_apitoken_changelist")).content.decode()
    assert raw not in listing and f"{token.prefix}…" in listing

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/v1/order").json()["values"] == []

    staff_admin_a.post(
        reverse("admin:accounts_apitoken_changelist"), {"action": "revoke_tokens", "_selected_action": [str(token.pk)]}
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    response = api.get("/api/v1/order")
    assert response.status_code == 401
    assert response.json()["statusCode"] == 401


def test_operator_cannot_create_tokens(staff_a):
    """Tokens, memberships and organization settings are for organization admins."""
    assert staff_a.get(reverse("admin:accounts_apitoken_add")).status_code == 403
    assert staff_a.get(reverse("admin:accounts_apitoken_changelist")).status_code == 200
