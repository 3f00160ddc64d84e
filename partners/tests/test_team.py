"""The team page: a partner admin lists members and open invitations, invites with a role (the
email with the one-time link), revokes, changes roles and removes members; never itself, never
the last admin; other roles get a 403 page; another organization's members are 404s."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.exceptions import Conflict, NotAllowed, NotFound
from accounts.models import Invitation, Membership, Role
from accounts.services import invitation_create, membership_remove, membership_set_role
from dispatch import services as dispatch_services
from orders.actors import Actor
from orders.models import OrderEvent
from partners.tests.conftest import assigned, member, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def tech(company):
    user = member(company, "fixit-tech", Role.TECHNICIAN)
    user.email, user.first_name = "tech@fixit.example", "Tom"
    user.save()
    return user


def test_the_admin_sees_members_with_roles_and_open_invitations(partner, partner_user, company, tech):
    invitation_create(organization=company, email="new@fixit.example", role=Role.OPERATOR, invited_by=partner_user)
    body = partner.get("/partner/team/").content.decode()
    assert "Tom" in body and "tech@fixit.example" in body and "Technician" in body
    assert "new@fixit.example" in body and "Dispatcher" in body
    assert 'href="/partner/team/"' in body


def test_inviting_sends_the_one_time_link_by_email(partner, company, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = partner.post("/partner/team/invite/", {"email": "anna@example.com", "role": "technician"})
    assert response.status_code == 302
    invitation = Invitation.objects.get(organization=company, email="anna@example.com")
    assert invitation.role == Role.TECHNICIAN
    assert len(mail.outbox) == 1 and "/partner/invitations/" in mail.outbox[0].body


@pytest.mark.parametrize(
    "data", [{"email": "not-an-email", "role": "technician"}, {"email": "x@example.com", "role": "viewer"}, {}]
)
def test_a_bad_invitation_is_a_form_error(partner, company, data):
    response = partner.post("/partner/team/invite/", data)
    assert response.status_code == 400 and 'id="invite-errors"' in response.content.decode()
    assert not Invitation.objects.filter(organization=company).exists()


def test_inviting_a_member_or_twice_is_a_409_form_error(partner, company, tech):
    assert partner.post("/partner/team/invite/", {"email": "tech@fixit.example", "role": "admin"}).status_code == 409
    partner.post("/partner/team/invite/", {"email": "b@example.com", "role": "admin"})
    response = partner.post("/partner/team/invite/", {"email": "B@example.com", "role": "admin"})
    assert response.status_code == 409 and "open invitation" in response.content.decode()


def test_revoking_an_invitation(partner, partner_user, company, rival):
    invitation, _ = invitation_create(
        organization=company, email="c@example.com", role="technician", invited_by=partner_user
    )
    assert partner.post(f"/partner/team/invitations/{invitation.pk}/revoke/").status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert "<strong>c@example.com</strong>" not in partner.get("/partner/team/").content.decode()
    theirs, _ = invitation_create(
        organization=rival, email="d@example.com", role="technician", invited_by=member(rival, "rival-admin")
    )
    assert partner.post(f"/partner/team/invitations/{theirs.pk}/revoke/").status_code == 404
    assert partner.post("/partner/team/invitations/nope/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_changing_a_role_and_removing_a_member(partner, router, company, tech):
    membership = Membership.objects.get(user=tech, organization=company)
    assert partner.post(f"/partner/team/members/{membership.pk}/role/", {"role": "operator"}).status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.OPERATOR
    assert partner.post(f"/partner/team/members/{membership.pk}/role/", {"role": "boss"}).status_code == 400
    job = assigned(router, company)
    dispatch_services.order_assign(
        order_id=job.pk, organization=company, actor=Actor.system("t"), role=Role.ADMIN, assignee=tech
    )
    assert partner.post(f"/partner/team/members/{membership.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    job.refresh_from_db()
    assert job.assignee_id is None  # its open job is unassigned, on the timeline
    assert OrderEvent.objects.filter(order=job, type="order.assignee_changed").count() == 2


def test_the_admin_cannot_change_or_remove_itself(partner, partner_user, company):
    own = Membership.objects.get(user=partner_user, organization=company)
    assert partner.post(f"/partner/team/members/{own.pk}/role/", {"role": "technician"}).status_code == 403
    assert partner.post(f"/partner/team/members/{own.pk}/remove/").status_code == 403
    own.refresh_from_db()
    assert own.role == Role.ADMIN


def test_the_last_admin_stays(company, partner_user):
    other = member(company, "second-admin", Role.ADMIN)
    own = Membership.objects.get(user=partner_user, organization=company)
    # The second admin demotes the first: fine, one admin is left; the other way round is not.
    membership_set_role(membership_id=own.pk, organization=company, role=Role.TECHNICIAN, changed_by=other)
    with pytest.raises(NotAllowed):
        membership_remove(membership_id=own.pk, organization=company, removed_by=partner_user)
    superuser = member(company, "root", Role.VIEWER)
    superuser.is_superuser = True
    superuser.save()
    last = Membership.objects.get(user=other, organization=company)
    with pytest.raises(Conflict):
        membership_set_role(membership_id=last.pk, organization=company, role=Role.OPERATOR, changed_by=superuser)
    with pytest.raises(Conflict):
        membership_remove(membership_id=last.pk, organization=company, removed_by=superuser)


def test_another_organizations_member_is_a_404(partner, company, rival):
    theirs = Membership.objects.get(user=member(rival, "rival-tech", Role.TECHNICIAN))
    assert partner.post(f"/partner/team/members/{theirs.pk}/role/", {"role": "admin"}).status_code == 404
    assert partner.post(f"/partner/team/members/{theirs.pk}/remove/").status_code == 404
    with pytest.raises(NotFound):
        membership_remove(
            membership_id=theirs.pk,
            organization=company,
            removed_by=Membership.objects.filter(organization=company).first().user,
        )
    assert Membership.objects.filter(pk=theirs.pk, role=Role.TECHNICIAN).exists()


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.TECHNICIAN, Role.VIEWER])
def test_other_roles_get_a_403_page_and_change_nothing(company, tech, role):
    user = member(company, f"someone-{role}", role)
    client = signed_in(user)
    page = client.get("/partner/team/")
    assert page.status_code == 403 and "tech@fixit.example" not in page.content.decode()
    assert 'href="/partner/team/"' not in client.get("/partner/jobs/").content.decode()
    target = Membership.objects.get(user=tech)
    assert client.post("/partner/team/invite/", {"email": "e@example.com", "role": "admin"}).status_code == 403
    assert client.post(f"/partner/team/members/{target.pk}/remove/").status_code == 403
    assert Membership.objects.filter(pk=target.pk).exists()
    assert not Invitation.objects.exists()


def test_the_page_is_in_norwegian(partner, tech):
    body = partner.get("/partner/team/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Inviter" in body and "Tekniker" in body


@pytest.mark.parametrize("count", [1, 50])
def test_the_team_page_costs_the_same_queries_for_1_and_50_members(
    partner, partner_user, company, count, django_assert_max_num_queries
):
    for i in range(count):
        member(company, f"tech-{i}", Role.TECHNICIAN)
        invitation_create(organization=company, email=f"p{i}@example.com", role="technician", invited_by=partner_user)
    with django_assert_max_num_queries(8):
        response = partner.get("/partner/team/")
    assert response.status_code == 200 and "p0@example.com" in response.content.decode()
