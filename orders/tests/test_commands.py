"""Management commands: create_api_token and seed_demo."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts import models as account_models
from accounts.models import ApiToken, Membership, Role, hash_token
from orders import models
from orders.tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def works(raw: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client.get("/api/v1/order").status_code


def test_prints_only_the_token_of_the_first_admin(org_a):
    first = MembershipFactory(organization=org_a, role=Role.ADMIN)
    MembershipFactory(organization=org_a, role=Role.ADMIN)
    MembershipFactory(organization=org_a, role=Role.OPERATOR)
    out, err = run("alpha")
    raw = out.strip()
    assert out == raw + "\n" and err == ""
    assert raw.startswith("ins_") and " " not in raw
    token = ApiToken.objects.get(key_hash=hash_token(raw))
    assert token.membership == first and token.name == "cli"
    assert works(raw) == 200


def test_user_role_and_name(org_a):
    user = UserFactory(username="erp")
    out, _ = run("alpha", "--user", "erp", "--role", "viewer", "--name", "ERP sync")
    token = ApiToken.objects.get(key_hash=hash_token(out.strip()))
    assert token.name == "ERP sync"
    assert token.membership.user == user and token.membership.role == Role.VIEWER
    # The same role again mints another token of that membership.
    out, _ = run("alpha", "--user", "erp", "--role", "viewer")
    assert ApiToken.objects.get(key_hash=hash_token(out.strip())).membership.role == Role.VIEWER
    assert works(out.strip()) == 200


def test_a_role_never_changes_an_existing_membership(org_a):
    """Without --user the token is the first admin's: `--role viewer` is an error that says
    what to do, and neither the admin's membership nor the tokens change."""
    admin = MembershipFactory(organization=org_a, role=Role.ADMIN, user__username="boss")
    with pytest.raises(CommandError) as error:
        run("alpha", "--role", "viewer")
    message = str(error.value)
    assert "'boss' (the first admin of 'alpha', used without --user) is admin in 'alpha', not viewer" in message
    assert "pass --user with a user who is not yet a member of 'alpha' (it joins as viewer)" in message
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN and not ApiToken.objects.exists()

    # With a viewer in the organization, the error names it; with --user that viewer, it works.
    MembershipFactory(organization=org_a, role=Role.VIEWER, user__username="watcher")
    with pytest.raises(CommandError, match=r"pass --user with a viewer of 'alpha' \(watcher\)"):
        run("alpha", "--role", "viewer")
    out, _ = run("alpha", "--user", "watcher", "--role", "viewer")
    assert ApiToken.objects.get(key_hash=hash_token(out.strip())).membership.user.username == "watcher"

    # --user with another role than its membership's: the same error, nothing changes.
    with pytest.raises(CommandError, match="'watcher' is viewer in 'alpha', not operator"):
        run("alpha", "--user", "watcher", "--role", "operator")
    assert Membership.objects.get(user__username="watcher").role == Role.VIEWER
    assert Membership.objects.get(pk=admin.pk).role == Role.ADMIN
    assert ApiToken.objects.count() == 1


def test_user_without_membership_becomes_operator(org_a):
    UserFactory(username="newbie")
    run("alpha", "--user", "newbie")
    assert Membership.objects.get(user__username="newbie", organization=org_a).role == Role.OPERATOR


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "No organization with slug 'nope'"),
        (["alpha", "--user", "ghost"], "No user 'ghost'"),
        (["alpha"], "has no admin"),
    ],
)
def test_errors(org_a, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not ApiToken.objects.exists()


def test_bad_role_is_refused(org_a):
    with pytest.raises(CommandError):
        run("alpha", "--role", "owner")


COUNTED = [
    account_models.Organization,
    account_models.Membership,
    models.Workflow,
    models.WorkflowStep,
    models.CustomFieldDefinition,
    models.OrderTag,
    models.TaggedOrder,
    models.Order,
    models.OrderEvent,
    get_user_model(),
]


def counts():
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_seed_demo_is_idempotent():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = counts()
    assert "admin / installer-demo" in out.getvalue()
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    assert counts() == first


def test_seed_demo_content():
    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    demo = account_models.Organization.objects.get(slug="demo")
    assert account_models.Organization.objects.filter(slug="other").exists()
    assert Membership.objects.get(organization=demo, user__username="admin").role == Role.ADMIN
    assert get_user_model().objects.get(username="admin").check_password("installer-demo")
    workflow = models.Workflow.objects.get(organization=demo, custom_id="installation")
    assert {f.type for f in workflow.custom_fields.all()} == {t.value for t in models.FieldType}
    assert workflow.steps.filter(required=True).exists()
    statuses = set(models.Order.objects.filter(organization=demo).values_list("status", flat=True))
    assert len(statuses) >= 2
    assert models.OrderTag.objects.filter(organization=demo).count() >= 3
    # The demo token of `make run` is for the demo admin.
    out, _ = run("demo")
    assert works(out.strip()) == 200


def test_the_demo_customer_books_through_the_client_api():
    """The demo workflow lets the customer book: a booked demo order offers its installer's free
    slots on the order page's API, and the customer moves the appointment to one of them."""
    from urllib.parse import urlsplit

    from rest_framework.test import APIClient

    call_command("seed_demo", "--quiet", stdout=io.StringIO())
    order = models.Order.objects.filter(organization__slug="demo", status=models.OrderStatus.SCHEDULED).first()
    assert order is not None
    token = urlsplit(order.client_url).path.rstrip("/").rsplit("/", 1)[-1]
    client = APIClient()
    slots = client.get(f"/api/clients/{token}/slots")
    assert slots.status_code == 200, slots.content
    values = slots.json()["values"] if isinstance(slots.json(), dict) else slots.json()
    assert values, slots.json()
    first = values[0]
    step = models.WorkflowStep.objects.get(workflow=order.workflow, key="appointment")
    booked = client.put(
        f"/api/clients/{token}/workflow-steps/{step.pk}/bookings",
        {"startAt": first["startAt"], "endAt": first["endAt"]},
        format="json",
    )
    assert booked.status_code == 200, booked.content
    order.refresh_from_db()
    assert order.status == models.OrderStatus.SCHEDULED
