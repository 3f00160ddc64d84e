"""Brute force: invalid API tokens are throttled per client address (429 with Retry-After), and
repeated admin login failures lock out the user at that address (django-axes)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from installer import throttling

pytestmark = pytest.mark.django_db

ATTACKER, NEIGHBOUR = "203.0.113.7", "203.0.113.8"


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


def bearer(address: str, header: str) -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


@override_settings(API_INVALID_TOKEN_RATE_LIMIT="5/min")
def test_invalid_tokens_from_one_address_are_throttled(operator_a, monkeypatch):
    now = [60 * 16_667 + 20.0]  # 20 s into a minute window
    monkeypatch.setattr(throttling.time, "time", lambda: now[0])
    # Every kind of invalid credential counts: unknown tokens, another scheme, a malformed header.
    headers = ["Bearer ins_guess-1", "Bearer ins_guess-2", "Token abc", "Bearer a b", "Bearer ins_guess-3"]
    codes = [bearer(ATTACKER, h).get("/api/v1/order").status_code for h in headers]
    assert codes == [401] * 5

    response = bearer(ATTACKER, "Bearer ins_guess-6").get("/api/v1/order")
    assert response.status_code == 429
    assert response["Retry-After"] == "40"
    assert response.json() == {
        "error": "Too Many Requests",
        "message": "Too many requests. Try again in 40 seconds.",
        "statusCode": 429,
        "retryAfter": 40,
    }
    # A write is refused the same way, before anything else is looked at.
    assert bearer(ATTACKER, "Bearer ins_guess-7").post("/api/v1/order", {}, format="json").status_code == 429

    # Per address: a neighbour's bad token is still a 401, and a valid token is never refused,
    # not even from the guessing address.
    assert bearer(NEIGHBOUR, "Bearer ins_guess-1").get("/api/v1/order").status_code == 401
    assert bearer(ATTACKER, f"Bearer {operator_a.token}").get("/api/v1/order").status_code == 200

    # The next window starts afresh.
    now[0] += 40
    assert bearer(ATTACKER, "Bearer ins_guess-8").get("/api/v1/order").status_code == 401


def test_the_default_limit_stops_a_burst_of_guesses(settings, monkeypatch):
    """300 guesses in a burst: the default limit (from the settings' default) answers 429 long
    before the end."""
    monkeypatch.setattr(throttling.time, "time", lambda: 60 * 16_667 + 20.0)
    assert throttling.parse_rate(settings.API_INVALID_TOKEN_RATE_LIMIT) is None  # the suite's "off"
    from installer import settings as project_settings

    settings.API_INVALID_TOKEN_RATE_LIMIT = project_settings.API_INVALID_TOKEN_RATE_LIMIT
    limit, window = throttling.parse_rate(settings.API_INVALID_TOKEN_RATE_LIMIT)
    assert (limit, window) == (100, 60)
    codes = [bearer(ATTACKER, f"Bearer ins_guess-{i}").get("/api/v1/me").status_code for i in range(300)]
    assert codes == [401] * limit + [429] * (300 - limit)


# --------------------------------------------------------------------------------------------
# Admin logins (django-axes)
# --------------------------------------------------------------------------------------------

PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff():
    from orders.tests.factories import UserFactory

    user = UserFactory(username="back-office", is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def admin_login(address: str, username: str, password: str):
    from django.test import Client

    client = Client(REMOTE_ADDR=address)
    response = client.post("/admin/login/?next=/admin/", {"username": username, "password": password})
    return response, client


def test_repeated_admin_login_failures_lock_out_the_user_at_that_address(staff, settings):
    from axes.models import AccessAttempt

    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5 and settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    codes = [admin_login(ATTACKER, "back-office", f"guess {i}")[0].status_code for i in range(40)]
    # The form answers the first failures; from the limit on, the pair is locked out.
    assert codes[: limit - 1] == [200] * (limit - 1)
    assert set(codes[limit:]) == {429}
    response, client = admin_login(ATTACKER, "back-office", PASSWORD)
    assert response.status_code == 429  # the right password no longer works from there
    assert client.get("/admin/").status_code == 302  # not logged in

    # Per user and address: the same user elsewhere, and another user here, still log in.
    response, client = admin_login(NEIGHBOUR, "back-office", PASSWORD)
    assert response.status_code == 302 and client.get("/admin/").status_code == 200
    attempt = AccessAttempt.objects.get(username="back-office", ip_address=ATTACKER)
    assert attempt.failures_since_start >= limit


def test_a_successful_login_resets_the_failures(staff, settings):
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        assert admin_login(ATTACKER, "back-office", f"guess {i}")[0].status_code == 200
    assert admin_login(ATTACKER, "back-office", PASSWORD)[0].status_code == 302
    # Counting starts again: the limit's worth of typos is allowed before a lockout.
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        assert admin_login(ATTACKER, "back-office", f"typo {i}")[0].status_code == 200
    assert admin_login(ATTACKER, "back-office", PASSWORD)[0].status_code == 302


def test_a_login_without_a_client_address_is_recorded_without_one(staff):
    """A login made in code (no REMOTE_ADDR) is recorded with a null address: axes stores it in
    an `inet` column on PostgreSQL, which refuses anything but an address."""
    from axes.models import AccessLog
    from django.test import Client, RequestFactory

    from accounts.client_address import login_client_ip

    assert login_client_ip(RequestFactory().get("/", REMOTE_ADDR="203.0.113.7")) == "203.0.113.7"
    assert login_client_ip(RequestFactory().get("/", REMOTE_ADDR="")) is None
    Client().force_login(staff)
    assert AccessLog.objects.get(username="back-office").ip_address is None
