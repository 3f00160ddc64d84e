"""Factories for the order domain. Organizations come with their default workflow."""

from __future__ import annotations

import factory
from django.apps import apps
from django.contrib.auth import get_user_model

from accounts import services as account_services
from accounts.models import Membership, Organization, Role
from orders import services
from orders.actors import Actor
from orders.models import CustomFieldDefinition, FieldType


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.organization_create(**kwargs)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.OPERATOR


def make_installer_partner(router: Organization, installer: Organization):
    """Makes `installer` an active partner of `router`, which pre-assigning it at create
    (`actorAssignments`) requires. Partnerships belong to the dispatch app, which checks them
    through `orders.hooks.installer_assignable`; looked up by label so that orders
    imports nothing of dispatch, not even in its tests."""
    partnership_model = apps.get_model("dispatch", "Partnership")
    partnership, _ = partnership_model.objects.update_or_create(
        router=router, installer=installer, defaults={"active": True}
    )
    return partnership


def make_token(membership: Membership, name: str = "test-token", *, test: bool = False) -> str:
    _, raw = account_services.api_token_create(membership=membership, name=name, test=test)
    return raw


def add_custom_field(workflow, custom_id: str, kind: str = FieldType.TEXT, *, required=False, options=None, label=None):
    """Adds a field definition after the workflow's existing ones."""
    return CustomFieldDefinition.objects.create(
        position=CustomFieldDefinition.objects.filter(workflow=workflow).count(),
        workflow=workflow,
        custom_id=custom_id,
        label=label or custom_id.replace("_", " ").title(),
        type=kind,
        required=required,
        options=options or [],
    )


def order_payload(**overrides) -> dict:
    """A valid Create Order body (wire format)."""
    body = {
        "name": "Heat pump installation",
        "address": "Karl Johans gate 1",
        "city": "Oslo",
        "postalCode": "0154",
        "countryCode": "NO",
        "email": "ola@example.com",
        "phoneNumber": "+47 22 12 34 56",
        "contactPersonName": "Ola Nordmann",
    }
    body.update(overrides)
    return body


def create_order(organization: Organization, *, test: bool = False, **data):
    base = {
        "address": "Karl Johans gate 1",
        "city": "Oslo",
        "postal_code": "0154",
        "country_code": "NO",
        "email": "ola@example.com",
        "phone_number": "+4722123456",
        "contact_person_name": "Ola Nordmann",
    }
    base.update(data)
    return services.order_create(organization=organization, actor=Actor.system("test"), data=base, test=test)
