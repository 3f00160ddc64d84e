"""Back-office personas: staff users logged into the admin through a membership."""

from __future__ import annotations

from typing import Any, cast

import pytest
from django.test import Client

from accounts import services as account_services
from accounts.groups import sync_user_groups
from accounts.models import Membership, Organization, Role
from orders.models import File
from orders.tests.factories import MembershipFactory, create_order


class StaffClient(Client):
    """A test client logged in as a staff member of `org`, through `membership`."""

    user: Any
    membership: Membership
    org: Organization


def staff_client(organization, role=Role.OPERATOR, **user_fields) -> StaffClient:
    membership = cast(Membership, MembershipFactory(organization=organization, role=role, **user_fields))
    sync_user_groups(membership.user)
    client = StaffClient()
    client.force_login(membership.user)
    client.user = membership.user
    client.membership = membership
    client.org = organization
    return client


@pytest.fixture
def staff_a(org_a):
    return staff_client(org_a, Role.OPERATOR)


@pytest.fixture
def staff_admin_a(org_a):
    return staff_client(org_a, Role.ADMIN)


@pytest.fixture
def staff_viewer_a(org_a):
    return staff_client(org_a, Role.VIEWER)


@pytest.fixture
def staff_admin_b(org_b):
    """An admin of organization B: every model permission, no membership in A."""
    return staff_client(org_b, Role.ADMIN)


@pytest.fixture
def superuser_client(db, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def make_file(organization, order=None, name="photo.png", content_type="image/png") -> File:
    import uuid

    return File.objects.create(
        organization=organization,
        order=order,
        storage_key=f"{organization.pk}/{uuid.uuid4()}",
        name=name,
        content_type=content_type,
        size=3,
        sha256="0" * 64,
    )


@pytest.fixture
def a_world(org_a, staff_admin_a):
    """One object of every kind in organization A."""
    from orders import services
    from orders.tests.factories import add_custom_field

    tag = services.order_tags_create(organization=org_a, names=["VIP-A"])[0]
    workflow = org_a.workflows.get(is_default=True)
    add_custom_field(workflow, "charger_type", label="Charger type")
    order = create_order(org_a, order_tag_ids=[str(tag.pk)], contact_person_name="Alice Alpha")
    file = make_file(org_a, order=order)
    token, _ = account_services.api_token_create(membership=staff_admin_a.membership, name="erp-a")
    return {"order": order, "tag": tag, "workflow": workflow, "file": file, "token": token}
