"""Invitations: an organization admin invites a person by email with a role; the one-time link
creates the account (or adds the membership to the signed-in user) and signs the person in."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from accounts import services
from accounts.exceptions import Conflict, InvalidRole, InvitationInvalid, NotAllowed, NotFound
from accounts.models import Invitation, Membership, Role, hash_token
from orders.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-Horse-42"


@pytest.fixture
def partner_admin(installer_org):
    user = UserFactory(username="boss", is_staff=False)
    MembershipFactory(user=user, organization=installer_org, role=Role.ADMIN)
    return user


def invite(installer_org, partner_admin, email="kari@example.com", role=Role.TECHNICIAN, capture=None):
    return services.invitation_create(organization=installer_org, email=email, role=role, invited_by=partner_admin)


def token_from(message) -> str:
    match = re.search(r"/partner/invitations/([^/\s]+)/", message.body)
    assert match, message.body
    return match.group(1)


@override_settings(PUBLIC_BASE_URL="https://installer.example")
def test_create_emails_the_one_time_link(installer_org, partner_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, raw = invite(installer_org, partner_admin)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["kari@example.com"]
    assert "Fix-It Installers" in message.subject
    assert f"https://installer.example/partner/invitations/{raw}/" in message.body
    assert "Technician" in message.body and "UTC" in message.body
    # Only the hash is stored; the link expires in 7 days.
    assert invitation.token_hash == hash_token(raw) and raw not in str(Invitation.objects.values().get())
    assert abs(invitation.expires_at - (timezone.now() + datetime.timedelta(days=7))) < datetime.timedelta(minutes=1)
    assert invitation.invited_by == partner_admin and invitation.state == "open"


def test_no_email_when_the_change_rolls_back(installer_org, partner_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invite(installer_org, partner_admin)
    assert len(callbacks) == 1 and mail.outbox == []


def test_only_an_admin_of_that_organization_invites(installer_org, partner_admin, org_a):
    dispatcher = UserFactory(username="dispatcher")
    MembershipFactory(user=dispatcher, organization=installer_org, role=Role.OPERATOR)
    tech = UserFactory(username="tech")
    MembershipFactory(user=tech, organization=installer_org, role=Role.TECHNICIAN)
    for user in (dispatcher, tech, UserFactory(username="stranger")):
        with pytest.raises(NotAllowed):
            invite(installer_org, user)
    # Wrong organization: an admin of the installer invites nobody into another organization.
    with pytest.raises(NotAllowed):
        services.invitation_create(
            organization=org_a, email="x@example.com", role=Role.OPERATOR, invited_by=partner_admin
        )
    assert not Invitation.objects.exists()


def test_role_must_fit_the_organization(installer_org, partner_admin, org_a):
    router_admin = UserFactory(username="router-admin")
    MembershipFactory(user=router_admin, organization=org_a, role=Role.ADMIN)
    with pytest.raises(InvalidRole):
        services.invitation_create(
            organization=org_a, email="t@example.com", role=Role.TECHNICIAN, invited_by=router_admin
        )
    with pytest.raises(InvalidRole):
        invite(installer_org, partner_admin, role="owner")


def test_one_open_invitation_per_email(installer_org, partner_admin):
    invitation, _ = invite(installer_org, partner_admin)
    with pytest.raises(Conflict):
        invite(installer_org, partner_admin, email="KARI@example.com")
    # Once expired, a new one may be sent: the old one is revoked with it.
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    again, _ = invite(installer_org, partner_admin)
    invitation.refresh_from_db()
    assert invitation.state == "revoked" and again.state == "open"


def test_members_are_not_invited(installer_org, partner_admin):
    with pytest.raises(Conflict):
        invite(installer_org, partner_admin, email=partner_admin.email)


def test_accept_creates_the_account(installer_org, partner_admin):
    invitation, raw = invite(installer_org, partner_admin)
    accepted, user = services.invitation_accept(token=raw, password=PASSWORD)
    assert user.username == user.email == "kari@example.com" and user.check_password(PASSWORD)
    assert not user.is_staff
    assert Membership.objects.get(user=user, organization=installer_org).role == Role.TECHNICIAN
    assert accepted.accepted_at is not None and accepted.accepted_by == user
    # One time only.
    with pytest.raises(InvitationInvalid):
        services.invitation_accept(token=raw, password=PASSWORD)


def test_accept_adds_the_membership_to_the_signed_in_user(installer_org, partner_admin, org_a):
    existing = UserFactory(username="kari", email="Kari@Example.com")
    MembershipFactory(user=existing, organization=make_other_installer(), role=Role.TECHNICIAN)
    _, raw = invite(installer_org, partner_admin, role=Role.OPERATOR)
    # Without signing in, the account with that email is not taken over.
    with pytest.raises(Conflict):
        services.invitation_accept(token=raw, password=PASSWORD)
    with pytest.raises(NotAllowed):
        services.invitation_accept(token=raw, user=UserFactory(username="someone-else"))
    _, user = services.invitation_accept(token=raw, user=existing)
    assert user == existing
    assert Membership.objects.get(user=existing, organization=installer_org).role == Role.OPERATOR
    assert Membership.objects.filter(user=existing).count() == 2
    assert get_user_model().objects.filter(email__iexact="kari@example.com").count() == 1


def make_other_installer():
    from orders.tests.factories import OrganizationFactory

    return OrganizationFactory(name="Other Installer", slug="other-installer", is_installer=True)


def test_expired_revoked_and_unknown_links_are_refused(installer_org, partner_admin):
    invitation, raw = invite(installer_org, partner_admin)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(InvitationInvalid):
        services.invitation_accept(token=raw, password=PASSWORD)
    second, raw2 = invite(installer_org, partner_admin)
    services.invitation_revoke(invitation_id=second.pk, organization=installer_org, revoked_by=partner_admin)
    with pytest.raises(InvitationInvalid):
        services.invitation_accept(token=raw2, password=PASSWORD)
    with pytest.raises(InvitationInvalid):
        services.invitation_accept(token="nope", password=PASSWORD)
    assert not get_user_model().objects.filter(email="kari@example.com").exists()


def test_revoke_is_for_the_organizations_admin(installer_org, partner_admin, org_a):
    invitation, _ = invite(installer_org, partner_admin)
    router_admin = UserFactory(username="router-admin")
    MembershipFactory(user=router_admin, organization=org_a, role=Role.ADMIN)
    with pytest.raises(NotFound):
        services.invitation_revoke(invitation_id=invitation.pk, organization=org_a, revoked_by=router_admin)
    with pytest.raises(NotAllowed):
        services.invitation_revoke(invitation_id=invitation.pk, organization=installer_org, revoked_by=router_admin)
    invitation.refresh_from_db()
    assert invitation.state == "open"


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------


def test_page_sets_the_password_and_signs_in(client, installer_org, partner_admin):
    _, raw = invite(installer_org, partner_admin)
    url = f"/partner/invitations/{raw}/"
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Fix-It Installers" in text and "Technician" in text and 'type="password"' in text

    refused = client.post(url, {"password1": PASSWORD, "password2": "different"})
    assert refused.status_code == 400 and "The two passwords differ." in refused.content.decode()
    weak = client.post(url, {"password1": "short", "password2": "short"})
    assert weak.status_code == 400 and not get_user_model().objects.filter(email="kari@example.com").exists()

    response = client.post(url, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/partner/"
    user = get_user_model().objects.get(username="kari@example.com")
    assert int(client.session["_auth_user_id"]) == user.pk
    # Used: the link is now a 404 page.
    again = client.get(url)
    assert again.status_code == 404 and "Invitation not found" in again.content.decode()


def test_page_join_for_the_signed_in_invitee(client, installer_org, partner_admin):
    existing = UserFactory(username="kari", email="kari@example.com", is_staff=False)
    _, raw = invite(installer_org, partner_admin)
    url = f"/partner/invitations/{raw}/"
    anonymous = client.get(url).content.decode()
    assert "/partner/login/?next=" in anonymous and 'type="password"' not in anonymous
    client.force_login(existing)
    assert "Join" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 302
    assert Membership.objects.get(user=existing, organization=installer_org).role == Role.TECHNICIAN


def test_page_refuses_another_signed_in_user(client, installer_org, partner_admin):
    _, raw = invite(installer_org, partner_admin)
    client.force_login(UserFactory(username="someone", email="someone@example.com"))
    url = f"/partner/invitations/{raw}/"
    assert "another account" in client.get(url).content.decode()
    client.post(url)
    assert not Membership.objects.filter(organization=installer_org, role=Role.TECHNICIAN).exists()


@pytest.mark.parametrize("token", ["unknown", "x" * 500, "%00", "..%2F"])
def test_page_bad_links_are_404_not_500(client, token):
    response = client.get(f"/partner/invitations/{token}/")
    assert response.status_code == 404


def test_page_expired_and_revoked_links(client, installer_org, partner_admin):
    invitation, raw = invite(installer_org, partner_admin)
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    assert client.get(f"/partner/invitations/{raw}/").status_code == 404
    assert (
        client.post(f"/partner/invitations/{raw}/", {"password1": PASSWORD, "password2": PASSWORD}).status_code == 404
    )
    assert not get_user_model().objects.filter(email="kari@example.com").exists()


def test_admin_invites_and_revokes(client, installer_org, partner_admin, django_capture_on_commit_callbacks):
    staff = UserFactory(username="staff-admin", is_superuser=True)
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/accounts/invitation/add/",
            {"organization": installer_org.pk, "email": "new@example.com", "role": Role.TECHNICIAN},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    invitation = Invitation.objects.get(email="new@example.com")
    assert len(mail.outbox) == 1 and invitation.invited_by == staff
    listing = client.get("/admin/accounts/invitation/")
    assert listing.status_code == 200 and "new@example.com" in listing.content.decode()
    client.post(
        "/admin/accounts/invitation/",
        {"action": "revoke_invitations", "_selected_action": [str(invitation.pk)]},
    )
    invitation.refresh_from_db()
    assert invitation.state == "revoked"
