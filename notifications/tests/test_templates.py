"""The template sandbox: nothing outside the documented context, errors are a 400 on save and a
failed message (never a worker error) at send time; HTML escaped in the email's HTML part."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications import services, templating
from notifications.exceptions import InvalidNotification
from notifications.models import Message, MessageStatus, Notification
from notifications.templating import TemplateProblem, check, render

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "text",
    [
        "{{order.name.upper}}",
        "{{order.__class__}}",
        "{{order.items}}",
        "{{customer.__init__.__globals__}}",
        "{{this}}",
        "{{@root.order.name}}",
        "{{../order.name}}",
        "{{#each order}}{{this}}{{/each}}",
        "{{#with order}}{{name}}{{/with}}",
        '{{lookup order "name"}}',
        "{{log order}}",
        "{{> partial}}",
        "{{order}}",
        "{{#if order}}unclosed",
        "{{/if}}",
    ],
)
def test_anything_outside_the_context_is_refused(text):
    with pytest.raises(TemplateProblem):
        check(text)


def test_documented_paths_and_blocks_render():
    context = {"order": {"displayId": "A-1"}, "booking": None, "installer": {"name": "Fix"}}
    text = "{{order.displayId}} {{#if booking}}B{{else}}no booking{{/if}} {{#unless installer}}x{{/unless}}{{installer.name}}"
    assert render(text, context) == "A-1 no booking Fix"


def test_attribute_access_is_impossible_even_at_render_time():
    # A dict's missing key reads None: pybars never falls back to getattr (dict.items etc.).
    context = templating._plain({"order": {"displayId": "A-1"}}, "text")
    assert context["order"]["items"] is None


def test_values_are_escaped_for_json_payloads():
    assert (
        render('{"name": "{{order.name}}"}', {"order": {"name": 'a"b\n<c>'}}, mode="json") == '{"name": "a\\"b\\n<c>"}'
    )


def test_a_bad_template_is_a_400_on_save(rule):
    with pytest.raises(InvalidNotification) as exc:
        rule(templates={"en": {"subject": "x", "body": "{{order.name.__class__}}"}})
    assert "templates.en.body" in exc.value.details
    assert not Notification.objects.exists()


def test_a_template_that_fails_at_send_time_fails_its_message(rule, make_order, run_due_tasks):
    notification = rule("order.created")
    # Stored past the service (as an older rule could be): the send must not crash the worker.
    Notification.objects.filter(pk=notification.pk).update(templates={"en": {"subject": "x", "body": "{{#if order}}"}})
    order = make_order()
    run_due_tasks()
    message = Message.objects.get(order=order)
    assert message.status == MessageStatus.FAILED and "not closed" in message.error
    assert mail.outbox == []


def test_customer_values_are_html_escaped_in_the_email_html(rule, make_order, run_due_tasks):
    rule("order.created", templates={"en": {"subject": "Hi", "body": "Name: {{customer.name}}"}})
    make_order(contact_person_name="<script>alert(1)</script>")
    run_due_tasks()
    (email,) = mail.outbox
    html = email.alternatives[0][0]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Name: <script>alert(1)</script>" in email.body  # the plain part is plain


def test_the_order_s_language_picks_the_template_and_translates_dates(rule, make_order, run_due_tasks):
    rule(
        "order.created",
        templates={
            "en": {"subject": "Order {{order.displayId}}", "body": "Hello"},
            "nb": {"subject": "Bestilling {{order.displayId}}", "body": "Hei {{customer.name}}"},
        },
    )
    order = make_order(language="nb")
    run_due_tasks()
    (email,) = mail.outbox
    assert email.subject == f"Bestilling {order.display_id}" and email.body.startswith("Hei Ola Nordmann")
    assert "Stopp e-post og SMS om denne bestillingen" in email.body  # the footer, translated
    assert Message.objects.get(order=order).language == "nb"


def test_a_language_without_a_template_falls_back_to_english(rule, make_order, run_due_tasks):
    rule("order.created", templates={"en": {"subject": "Order", "body": "Hello"}})
    make_order(language="nb")
    run_due_tasks()
    assert mail.outbox[0].body.startswith("Hello")


def test_sample_context_has_every_documented_leaf():
    from notifications.context import sample_context

    sample = sample_context()
    for path in templating.LEAVES:
        value = sample
        for part in path.split("."):
            value = value[part]
        assert isinstance(value, str)


def test_services_check_the_email_subject(rule):
    with pytest.raises(InvalidNotification):
        rule(templates={"en": {"subject": "", "body": "x"}})
    assert services is not None
