"""The back office: the rule admin is tenant-scoped and previews against a real order; the order
page lists the order's messages (read-only) in a constant number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from backoffice.tests.conftest import staff_client
from notifications.models import Message, Notification

pytestmark = pytest.mark.django_db


def test_preview_renders_against_an_order_of_the_organization(rule, make_order, oslo, org_b):
    notification = rule(
        "order.created", templates={"nb": {"subject": "Hei", "body": "Hei {{customer.name}}, {{order.displayId}}"}}
    )
    order = make_order(contact_person_name="Kari <b>")
    staff = staff_client(oslo, Role.OPERATOR)
    page = staff.get(f"/admin/notifications/notification/{notification.pk}/preview/?order={order.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert f"Hei Kari &lt;b&gt;, {order.display_id}" in html
    other = staff_client(org_b, Role.ADMIN)
    assert other.get(f"/admin/notifications/notification/{notification.pk}/preview/").status_code == 404
    assert other.get(f"/admin/notifications/notification/{notification.pk}/change/").status_code in (302, 404)


def test_the_admin_refuses_a_template_outside_the_sandbox(oslo, workflow):
    staff = staff_client(oslo, Role.ADMIN)
    response = staff.post(
        "/admin/notifications/notification/add/",
        {
            "organization": oslo.pk,
            "workflow": workflow.pk,
            "name": "x",
            "active": "on",
            "trigger_event": "order.created",
            "timing": "on_change",
            "offset_value": 0,
            "offset_unit": "hours",
            "channel": "customer_email",
            "webhook_method": "POST",
            "webhook_headers": "{}",
            "templates": '{"en": {"subject": "s", "body": "{{order.__class__}}"}}',
        },
    )
    assert response.status_code == 200 and "not in the template context" in response.content.decode()
    assert not Notification.objects.exists()


def test_the_order_page_shows_its_messages_in_constant_queries(rule, make_order, oslo, run_due_tasks):
    notification = rule("order.created")
    staff = staff_client(oslo, Role.OPERATOR)
    counts = {}
    for count in (1, 20):
        order = make_order()
        for i in range(count - 1):
            Message.objects.create(
                organization=oslo,
                order=order,
                notification=notification,
                occurrence_key=f"k{i}",
                channel="customer_email",
                recipient="ola@example.com",
                due_at=order.created_at,
            )
        run_due_tasks()
        staff.get(f"/admin/orders/order/{order.pk}/change/")  # warm the per-process caches
        with CaptureQueriesContext(connection) as queries:
            page = staff.get(f"/admin/orders/order/{order.pk}/change/")
        assert page.status_code == 200
        html = page.content.decode()
        assert "Messages" in html and html.count("ola@example.com") >= count and notification.name in html
        counts[count] = len(queries)
    assert counts[20] == counts[1], counts


def test_seed_demo_sets_the_default_notifications_in_nb_once():
    import io

    from django.core.management import call_command

    from accounts.models import Organization

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    demo = Organization.objects.get(slug="demo")
    assert demo.language == "nb"
    names = set(Notification.objects.filter(organization=demo).values_list("name", flat=True))
    assert {"Forespørsel mottatt", "Time bestilt", "Påminnelse dagen før", "Ny jobbforespørsel (partner)"} <= names
    count = Notification.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert Notification.objects.count() == count
    assert "Mail (EMAIL_URL)" in out.getvalue()


def test_the_messages_section_keeps_the_admin_s_flash_messages(rule, make_order, oslo, run_due_tasks):
    rule("order.created")
    order = make_order()
    run_due_tasks()
    staff = staff_client(oslo, Role.OPERATOR)
    page = staff.get(f"/admin/orders/order/{order.pk}/change/")
    assert [s["key"] for s in page.context["order_sections"]][-1] == "messages"
    assert not isinstance(page.context["messages"], list)  # django.contrib.messages' storage, not our rows
