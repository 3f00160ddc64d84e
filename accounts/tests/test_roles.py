"""Roles: the technician exists only in installer organizations, and what each role may do."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts import services
from accounts.exceptions import InvalidRole
from accounts.groups import ensure_groups
from accounts.models import (
    Membership,
    Role,
    role_may_assign,
    role_may_invite,
    role_may_work_jobs,
    role_may_write,
    role_sees_only_assigned,
)
from orders.models import OrderStatus
from orders.policy import allowed_actions, technician_may_act
from orders.selectors import Viewer
from orders.tests.factories import MembershipFactory, UserFactory, create_order

pytestmark = pytest.mark.django_db


def test_technician_membership_only_in_an_installer_organization(org_a, installer_org):
    user = UserFactory(username="tech")
    with pytest.raises(InvalidRole) as error:
        services.membership_ensure(user=user, organization=org_a, role=Role.TECHNICIAN)
    assert "role" in error.value.details
    assert not Membership.objects.filter(user=user).exists()
    membership = services.membership_ensure(user=user, organization=installer_org, role=Role.TECHNICIAN)
    assert membership.role == Role.TECHNICIAN
    with pytest.raises(InvalidRole):
        services.membership_ensure(user=user, organization=installer_org, role="owner")


def test_membership_clean_refuses_a_router_technician(org_a, installer_org):
    user = UserFactory(username="tech")
    with pytest.raises(ValidationError) as error:
        Membership(user=user, organization=org_a, role=Role.TECHNICIAN).full_clean()
    assert "role" in error.value.message_dict
    Membership(user=user, organization=installer_org, role=Role.TECHNICIAN).full_clean()


def test_database_refuses_an_unknown_role(installer_org):
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=UserFactory(username="x"), organization=installer_org, role="owner")


def test_admin_form_refuses_a_router_technician(client, org_a, installer_org):
    admin = UserFactory(username="boss", is_superuser=True)
    client.force_login(admin)
    user = UserFactory(username="tech")
    response = client.post(
        "/admin/accounts/membership/add/", {"user": user.pk, "organization": org_a.pk, "role": Role.TECHNICIAN}
    )
    assert response.status_code == 200
    assert "only in an installer organization" in response.content.decode()
    assert not Membership.objects.filter(user=user).exists()
    response = client.post(
        "/admin/accounts/membership/add/", {"user": user.pk, "organization": installer_org.pk, "role": "technician"}
    )
    assert response.status_code == 302
    assert Membership.objects.get(user=user).role == Role.TECHNICIAN


def test_the_rights_of_each_role():
    assert [r for r in Role.values if role_may_write(r)] == ["admin", "operator"]
    assert [r for r in Role.values if role_may_work_jobs(r)] == ["admin", "operator", "technician"]
    assert [r for r in Role.values if role_sees_only_assigned(r)] == ["technician"]
    assert [r for r in Role.values if role_may_invite(r)] == ["admin"]
    assert [r for r in Role.values if role_may_assign(r)] == ["admin", "operator"]
    # An unknown role may do nothing and sees only what is assigned to it (fails closed).
    assert not role_may_write("owner") and not role_may_work_jobs("owner") and role_sees_only_assigned("owner")


def test_technician_actions_only_on_its_own_job(org_a, installer_org):
    tech = UserFactory(username="tech")
    order = create_order(org_a)
    order.installer = installer_org
    order.status = OrderStatus.SCHEDULED
    technician = Viewer(organization=installer_org, role=Role.TECHNICIAN, user_id=tech.pk)
    dispatcher = Viewer(organization=installer_org, role=Role.OPERATOR, user_id=UserFactory(username="d").pk)
    assert allowed_actions(order, technician) == []
    assert not technician_may_act(order, tech.pk)
    order.assignee = tech
    assert technician_may_act(order, tech.pk) and technician_may_act(order, None)
    actions = allowed_actions(order, technician)
    assert {"book", "unbook", "start"} <= set(actions)
    assert "assign" not in actions and "cancel" not in actions and "update" not in actions
    assert "assign" in allowed_actions(order, dispatcher)
    # A viewer of the installer reads but does nothing.
    assert allowed_actions(order, Viewer(organization=installer_org, role=Role.VIEWER)) == []


def test_technician_membership_opens_nothing_in_the_back_office(client, installer_org, org_a):
    """Even a staff user with the back office's view permissions: a technician membership is no
    membership there (while a viewer membership is)."""
    create_order(org_a)
    user = UserFactory(username="tech", is_staff=True)
    user.groups.add(ensure_groups()[Role.VIEWER])
    membership = MembershipFactory(user=user, organization=installer_org, role=Role.TECHNICIAN)
    client.force_login(user)
    assert client.get("/admin/orders/order/").status_code == 403
    membership.role = Role.VIEWER
    membership.save()
    assert client.get("/admin/orders/order/").status_code == 200


def test_role_names_and_invitation_texts_are_translated_to_norwegian():
    from django.utils import translation

    with translation.override("nb"):
        assert [str(label) for label in Role.labels] == ["Administrator", "Operatør", "Leser", "Tekniker"]
        assert translation.gettext("Join %(organization)s") == "Bli med i %(organization)s"


def test_create_api_token_refuses_a_router_technician(org_a, installer_org):
    import io

    from django.core.management import CommandError, call_command

    UserFactory(username="tech")
    with pytest.raises(CommandError, match="installer organization"):
        call_command("create_api_token", "alpha", "--user", "tech", "--role", "technician", stdout=io.StringIO())
    out = io.StringIO()
    call_command("create_api_token", "fixit", "--user", "tech", "--role", "technician", stdout=out)
    assert out.getvalue().startswith("ins_")
