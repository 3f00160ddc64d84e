"""Who may enter the partner workspace, sign-in with django-axes' lockout, the organization
switcher, sign-out and password reset."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from accounts.models import Role
from partners.tests.conftest import PASSWORD, assigned, make_company, member, offered, signed_in

pytestmark = pytest.mark.django_db

ATTACKER, NEIGHBOUR = "203.0.113.7", "203.0.113.8"


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


def login(address: str, username: str, password: str):
    client = Client(REMOTE_ADDR=address)
    return client.post("/partner/login/", {"username": username, "password": password}), client


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get("/partner/jobs/")
    assert response.status_code == 302
    assert response["Location"] == "/partner/login/?next=/partner/jobs/"


def test_login_opens_the_offers_inbox(partner_user):
    response, client = login(NEIGHBOUR, "fixit-admin", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/partner/"
    assert client.get("/partner/")["Location"] == "/partner/offers/"
    page = client.get("/partner/offers/")
    assert page.status_code == 200 and "Fix It" in page.content.decode()


def test_a_router_user_has_no_partner_access(router, company):
    router_user = member(router, "alpha-operator", Role.OPERATOR)
    order, _ = offered(router, company)
    response, _client = login(NEIGHBOUR, "alpha-operator", PASSWORD)
    assert response.status_code == 200
    assert "This account has no partner access." in response.content.decode()
    # Signed in some other way (the admin), every page is a 404 that shows nothing of the router.
    client = signed_in(router_user)
    for url in ("/partner/offers/", "/partner/jobs/", f"/partner/jobs/{order.pk}/", "/partner/coverage/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert order.display_id not in response.content.decode()
        assert "Alpha Energy" not in response.content.decode()


def test_a_partner_user_never_reaches_the_back_office(partner):
    response = partner.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    response = partner.get("/admin/orders/order/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_repeated_partner_login_failures_lock_out_the_user_at_that_address(partner_user, settings):
    from axes.models import AccessAttempt

    limit = settings.AXES_FAILURE_LIMIT
    codes = [login(ATTACKER, "fixit-admin", f"guess {i}")[0].status_code for i in range(limit + 3)]
    assert codes[: limit - 1] == [200] * (limit - 1)
    assert set(codes[limit:]) == {429}
    response, client = login(ATTACKER, "fixit-admin", PASSWORD)
    assert response.status_code == 429  # the right password no longer works from there
    assert client.get("/partner/offers/").status_code == 302  # not signed in
    # Per user and address: the same user elsewhere still signs in.
    response, client = login(NEIGHBOUR, "fixit-admin", PASSWORD)
    assert response.status_code == 302 and client.get("/partner/offers/").status_code == 200
    assert AccessAttempt.objects.get(username="fixit-admin", ip_address=ATTACKER).failures_since_start >= limit


def test_a_failed_login_says_so_and_keeps_the_username(partner_user):
    response, _ = login(NEIGHBOUR, "fixit-admin", "wrong")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="error-summary"' in body and "correct username and password" in body
    assert 'value="fixit-admin"' in body


def test_logout_is_a_post(partner):
    assert partner.get("/partner/logout/").status_code == 405
    response = partner.post("/partner/logout/")
    assert response.status_code == 302 and response["Location"] == "/partner/login/"
    assert partner.get("/partner/offers/").status_code == 302


def test_the_switcher_scopes_every_page_to_the_current_company(router, company, rival, partner_user):
    member_of_both = partner_user
    from orders.tests.factories import MembershipFactory

    MembershipFactory(user=member_of_both, organization=rival, role=Role.ADMIN)
    own = assigned(router, company)
    theirs = assigned(router, rival)
    client = signed_in(member_of_both)

    page = client.get("/partner/jobs/").content.decode()  # Fix It comes first by name
    assert own.display_id in page and theirs.display_id not in page
    assert client.get(f"/partner/jobs/{theirs.pk}/").status_code == 404

    response = client.post("/partner/organization/", {"organization": str(rival.pk)})
    assert response.status_code == 302
    page = client.get("/partner/jobs/").content.decode()
    assert theirs.display_id in page and own.display_id not in page
    assert client.get(f"/partner/jobs/{theirs.pk}/").status_code == 200
    assert client.get(f"/partner/jobs/{own.pk}/").status_code == 404
    assert 'name="organization"' in page  # the switcher shows for a member of several


def test_switching_to_a_company_the_user_is_not_a_member_of_is_a_404(router, company, partner):
    stranger = make_company(router, "Stranger AS")
    assert partner.post("/partner/organization/", {"organization": str(stranger.pk)}).status_code == 404
    assert partner.post("/partner/organization/", {"organization": str(router.pk)}).status_code == 404
    assert partner.post("/partner/organization/", {"organization": "not-an-id"}).status_code == 404
    assert "Fix It" in partner.get("/partner/offers/").content.decode()


def test_password_reset_emails_a_link_that_sets_a_new_password(partner_user, router):
    member(router, "router-person", Role.OPERATOR).__class__.objects.filter(username="router-person").update(
        email="router@example.com"
    )
    client = Client()
    response = client.post("/partner/password-reset/", {"email": "router@example.com"})
    assert response.status_code == 302 and len(mail.outbox) == 0  # no partner access, no email

    response = client.post("/partner/password-reset/", {"email": partner_user.email})
    assert response.status_code == 302 and response["Location"] == "/partner/password-reset/sent/"
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/partner/password-reset/[^\s]+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and "new_password1" in form.content.decode()
    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a brand new secret 42", "new_password2": "a brand new secret 42"}
    )
    assert response.status_code == 302 and response["Location"] == "/partner/password-reset/done/"
    assert login(NEIGHBOUR, "fixit-admin", "a brand new secret 42")[0].status_code == 302
