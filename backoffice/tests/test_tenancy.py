"""An operator of organization B sees none of A's objects on any admin page, autocomplete or
action; a superuser sees everything; a viewer cannot write; a non-member sees nothing."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.urls import reverse

from accounts.admin_base import TenantScopedAdmin
from accounts.groups import BACKOFFICE_APP_LABELS
from accounts.models import ApiToken
from orders.models import Order, OrderStatus, OrderTag
from orders.tests.factories import create_order

pytestmark = pytest.mark.django_db


def scoped_admins():
    return [
        (model, admin.site.get_model_admin(model))
        for model in apps.get_models()
        if model._meta.app_label in BACKOFFICE_APP_LABELS and admin.site.is_registered(model)
    ]


def test_every_back_office_admin_is_tenant_scoped():
    admins = scoped_admins()
    assert {m.__name__ for m, _ in admins} >= {"Order", "Workflow", "OrderTag", "File", "ApiToken", "Membership"}
    for model, model_admin in admins:
        assert isinstance(model_admin, TenantScopedAdmin), f"{model.__name__} admin is not tenant-scoped"


def test_operator_of_b_gets_404_or_nothing_for_every_admin_url(a_world, org_a, staff_admin_b):
    create_order(staff_admin_b.org)  # B has data of its own, so empty lists are not vacuous
    checked = 0
    for model, model_admin in scoped_admins():
        opts = model._meta
        a_objects = list(
            model._default_manager.filter(**{f"{model_admin.tenant_field}__in": [org_a.pk]}).values_list(
                "pk", flat=True
            )
        )
        changelist = staff_admin_b.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert changelist.status_code in (200, 403), (model, changelist.status_code)
        if changelist.status_code == 200:
            shown = {obj.pk for obj in changelist.context["cl"].result_list}
            assert not shown & set(a_objects), f"{opts.model_name}: B sees A's rows"
        for pk in a_objects:
            for view in ("change", "delete", "history"):
                url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[quote(pk)])
                response = staff_admin_b.get(url)
                assert response.status_code in (403, 404), (opts.model_name, view, response.status_code)
                checked += 1
    assert checked >= 3 * 7  # order, tag, workflow, file, token, membership, organization


def test_b_cannot_post_changes_to_a_objects(a_world, staff_admin_b):
    tag = a_world["tag"]
    url = reverse("admin:orders_ordertag_change", args=[tag.pk])
    response = staff_admin_b.post(url, {"name": "hijacked", "color": "#000000"})
    assert response.status_code == 404
    tag.refresh_from_db()
    assert tag.name == "VIP-A"
    response = staff_admin_b.post(
        reverse("admin:orders_order_action", args=[a_world["order"].pk, "cancel"]), {"reason": "other"}
    )
    assert response.status_code == 404
    assert Order.objects.get(pk=a_world["order"].pk).status == OrderStatus.CREATED


def test_autocomplete_of_b_excludes_a(a_world, staff_admin_b):
    own = create_order(staff_admin_b.org, contact_person_name="Bob Beta")
    response = staff_admin_b.get(
        "/admin/autocomplete/", {"app_label": "orders", "model_name": "file", "field_name": "order", "term": ""}
    )
    assert response.status_code == 200
    ids = {r["id"] for r in response.json()["results"]}
    assert str(own.pk) in ids
    assert str(a_world["order"].pk) not in ids
    # Searching by A's customer name finds nothing either.
    response = staff_admin_b.get(
        "/admin/autocomplete/", {"app_label": "orders", "model_name": "file", "field_name": "order", "term": "Alice"}
    )
    assert response.json()["results"] == []


def test_actions_of_b_on_a_ids_change_nothing(a_world, staff_admin_b):
    order, token, tag = a_world["order"], a_world["token"], a_world["tag"]
    changelist = reverse("admin:orders_order_changelist")
    staff_admin_b.post(
        changelist,
        {"action": "cancel_orders", "apply": "1", "_selected_action": [str(order.pk)], "reason": "other"},
    )
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CREATED
    response = staff_admin_b.post(changelist, {"action": "export_csv", "_selected_action": [str(order.pk)]})
    assert order.display_id.encode() not in response.getvalue()
    staff_admin_b.post(
        reverse("admin:accounts_apitoken_changelist"), {"action": "revoke_tokens", "_selected_action": [str(token.pk)]}
    )
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    staff_admin_b.post(
        reverse("admin:orders_ordertag_changelist"),
        {"action": "delete_selected", "post": "yes", "_selected_action": [str(tag.pk)]},
    )
    assert OrderTag.objects.filter(pk=tag.pk).exists()


def test_filters_and_form_choices_are_scoped(a_world, staff_admin_b, org_a):
    response = staff_admin_b.get(reverse("admin:orders_order_changelist"))
    body = response.content.decode()
    assert "VIP-A" not in body  # tag filter
    assert a_world["workflow"].name == "Default"
    response = staff_admin_b.get(reverse("admin:orders_ordertag_add"))
    choices = [str(pk) for pk, _ in response.context["adminform"].form.fields["organization"].choices if pk]
    assert choices == [str(staff_admin_b.org.pk)]
    assert response.context["adminform"].form.fields["organization"].initial == staff_admin_b.org.pk
    # Creating a tag in A by posting A's id is refused by the form.
    response = staff_admin_b.post(
        reverse("admin:orders_ordertag_add"), {"organization": org_a.pk, "name": "x", "color": "#000000"}
    )
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not OrderTag.objects.filter(organization=org_a, name="x").exists()


def test_superuser_sees_all(a_world, staff_admin_b, superuser_client):
    b_order = create_order(staff_admin_b.org)
    response = superuser_client.get(reverse("admin:orders_order_changelist"))
    shown = {o.pk for o in response.context["cl"].result_list}
    assert {a_world["order"].pk, b_order.pk} <= shown
    assert superuser_client.get(reverse("admin:orders_order_change", args=[a_world["order"].pk])).status_code == 200


def test_viewer_reads_but_cannot_write(a_world, staff_viewer_a):
    order = a_world["order"]
    response = staff_viewer_a.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    assert order.display_id in response.content.decode()
    assert response.context["has_change_permission"] is False
    assert response.context["order_actions"] == []
    response = staff_viewer_a.post(reverse("admin:orders_order_action", args=[order.pk, "cancel"]), {"reason": "other"})
    assert response.status_code == 404
    staff_viewer_a.post(
        reverse("admin:orders_order_changelist"),
        {"action": "cancel_orders", "apply": "1", "_selected_action": [str(order.pk)], "reason": "other"},
    )
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CREATED


def test_staff_without_membership_sees_nothing(a_world, django_user_model, client):
    user = django_user_model.objects.create_user("loner", password="pw", is_staff=True)
    from accounts.groups import ensure_groups

    user.groups.add(ensure_groups()["operator"])
    client.force_login(user)
    index = client.get("/admin/")
    assert index.status_code == 200
    assert index.context["app_list"] == []
    assert client.get(reverse("admin:orders_order_changelist")).status_code == 403
    assert client.get(reverse("admin:orders_order_change", args=[a_world["order"].pk])).status_code in (403, 404)


def test_seed_demo_gives_staff_groups_by_role(django_user_model):
    from django.core.management import call_command

    call_command("seed_demo", quiet=True)
    call_command("seed_demo", quiet=True)  # idempotent
    operator = django_user_model.objects.get(username="operator")
    viewer = django_user_model.objects.get(username="viewer")
    assert [g.name for g in operator.groups.all()] == ["Back office operators"]
    assert operator.has_perm("orders.change_order") and not operator.has_perm("orders.delete_ordertag")
    assert viewer.has_perm("orders.view_order") and not viewer.has_perm("orders.change_order")
    assert django_user_model.objects.get(username="admin").has_perm("orders.delete_ordertag")
