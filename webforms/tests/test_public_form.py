"""The public form /f/<slug>/: rendering, validation beside each field, success, abuse guards."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import Client
from PIL import Image

from orders.models import ActorType, FieldType, File, Order, OrderSource
from orders.tests.factories import add_custom_field
from webforms import presenters, selectors
from webforms.forms import WebformOrderForm
from webforms.tests.conftest import GOOD_POST, make_webform, make_workflow

pytestmark = pytest.mark.django_db


def url(webform) -> str:
    return f"/f/{webform.slug}/"


def field_html(html: str, name: str) -> str:
    """The markup of one field group (label, help, errors, input)."""
    match = re.search(
        rf'<div class="field[^"]*" id="id_{name}_group">(.*?)</div>\s*(?=<div class="(?:field|hp)|<button)', html, re.S
    )
    assert match, f"no field group for {name}"
    return match.group(1)


def test_every_field_type_renders_with_a_fitting_input(client, webform_a):
    response = client.get(url(webform_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Order an EV charger</h1>" in html and "Tell us about your home." in html
    assert re.search(r'<input type="tel" name="phone_number"[^>]*required', html)
    assert re.search(r'<input type="email" name="email"[^>]*required', html)
    assert (
        re.search(r'<select name="country_code"[^>]*>', html) and '<option value="NO" selected>Norway</option>' in html
    )
    assert re.search(r'<textarea name="description"', html)
    assert re.search(r'<select name="cf_charger_type"[^>]*required', html)
    assert '<option value="22 kW">22 kW</option>' in html
    assert re.search(r'<input type="number" name="cf_cable_length_m"[^>]*required', html)  # required by the form
    assert re.search(r'<input type="checkbox" name="cf_has_parking"', html)
    assert re.search(r'<input type="date" name="cf_preferred_date"', html)
    assert len(re.findall(r'<input type="checkbox" name="cf_extras"', html)) == 2
    assert re.search(r'<textarea name="cf_notes"', html)  # multiline text
    assert 'name="csrfmiddlewaretoken"' in html
    assert re.search(r'<div class="hp" aria-hidden="true">.*name="website"', html, re.S)
    assert 'name="workplace"' not in html  # hidden by default
    assert 'name="viewport"' in html and "https://" not in html.split("<body>")[0]  # no CDN
    assert response["Cache-Control"] == "private, no-store"


def test_wrong_phone_is_an_error_beside_it_and_typed_values_are_kept(client, webform_a):
    response = client.post(url(webform_a), {**GOOD_POST, "phone_number": "12"})
    assert response.status_code == 400
    html = response.content.decode()
    phone = field_html(html, "phone_number")
    assert '<ul class="errorlist" id="id_phone_number_error"><li>Enter a valid phone number' in phone
    assert 'aria-invalid="true"' in phone and 'aria-describedby="id_phone_number_error"' in phone
    assert 'value="12"' in phone
    # Everything else typed is still there, and carries no error.
    assert 'value="Kari Nordmann"' in field_html(html, "contact_person_name")
    assert 'value="7.5"' in field_html(html, "cf_cable_length_m")
    assert "Dog in the garden.</textarea>" in field_html(html, "cf_notes")
    assert '<option value="22 kW" selected>' in field_html(html, "cf_charger_type")
    assert 'value="Wall mount"' in html and re.search(r'value="Wall mount"[^>]*checked', html)
    assert "errorlist" not in field_html(html, "email")
    assert Order.objects.count() == 0


def test_required_custom_field_left_empty_is_an_error_beside_it_and_nothing_is_created(client, webform_a):
    response = client.post(url(webform_a), {**GOOD_POST, "cf_charger_type": "", "cf_cable_length_m": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_cf_charger_type_error"' in field_html(html, "cf_charger_type")
    assert "This field is required." in field_html(html, "cf_charger_type")
    # cable length is required by this form only (not by the workflow)
    assert 'id="id_cf_cable_length_m_error"' in field_html(html, "cf_cable_length_m")
    assert Order.objects.count() == 0


def test_every_error_shows_at_once(client, webform_a):
    """A missing field (caught by the HTML form) and a wrong phone (caught by the order rules)."""
    response = client.post(url(webform_a), {**GOOD_POST, "phone_number": "12", "cf_charger_type": ""})
    html = response.content.decode()
    assert "errorlist" in field_html(html, "cf_charger_type")
    assert "Enter a valid phone number" in field_html(html, "phone_number")
    assert 'role="alert"' in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cf_cable_length_m", "lots", "Enter a number."),
        ("cf_preferred_date", "17.05.2030", "Enter a valid date."),
        ("cf_charger_type", "50 kW", "Select a valid choice."),
        ("cf_extras", ["Solar roof"], "Select a valid choice."),
        ("country_code", "XX", "Select a valid choice."),
        ("email", "not-an-email", "Enter a valid email address."),
    ],
)
def test_each_type_validates(client, webform_a, field, value, message):
    response = client.post(url(webform_a), {**GOOD_POST, field: value})
    assert response.status_code == 400
    assert message in field_html(response.content.decode(), field)
    assert Order.objects.count() == 0


def test_success_creates_the_order_with_typed_values_and_shows_the_tracking_link(client, webform_a):
    response = client.post(url(webform_a), GOOD_POST)
    assert response.status_code == 302
    order = Order.objects.get()
    assert response["Location"] == f"/f/{webform_a.slug}/done/{order.client_token}/"
    assert order.source == OrderSource.WEBFORM and order.webform_id == webform_a.pk
    assert order.phone_number == "+4791234567" and order.country_code == "NO"
    assert order.workflow_id == webform_a.workflow_id and order.name == "Order an EV charger"
    values = {d.custom_id: order.custom_fields.get(str(d.id)) for d in webform_a.workflow.custom_fields.all()}
    assert values == {
        "charger_type": "22 kW",
        "cable_length_m": 7.5,
        "has_parking": True,
        "preferred_date": "2030-05-17",
        "extras": ["Load balancing", "Wall mount"],
        "notes": "Dog in the garden.",
    }
    assert [t.name for t in order.tags.all()] == ["Web lead"]
    created = order.events.get(type="order.created")
    assert (created.actor_type, created.actor_id, created.actor_label) == (
        ActorType.WEBFORM,
        str(webform_a.pk),
        "Order an EV charger",
    )
    done = client.get(response["Location"])
    html = done.content.decode()
    assert f'<p class="big" id="display-id">{order.display_id}</p>' in html
    assert "What happens next" in html
    assert f'href="{order.client_url}"' in html
    assert done["Cache-Control"] == "private, no-store"


def test_unchecked_checkbox_and_empty_optional_fields(client, webform_a):
    post = {k: v for k, v in GOOD_POST.items() if k not in ("cf_has_parking", "cf_extras", "cf_notes", "description")}
    post["cf_cable_length_m"] = "8"
    assert client.post(url(webform_a), post).status_code == 302
    order = Order.objects.get()
    by_id = {d.custom_id: str(d.id) for d in webform_a.workflow.custom_fields.all()}
    assert order.custom_fields[by_id["has_parking"]] is False
    assert order.custom_fields[by_id["cable_length_m"]] == 8 and isinstance(
        order.custom_fields[by_id["cable_length_m"]], int
    )
    assert by_id["extras"] not in order.custom_fields and order.description is None


def test_same_page_sent_twice_makes_one_order(client, webform_a):
    post = {**GOOD_POST, "submission": "4a4ab2a4-1b0c-4a59-9b59-7a0b4c6e1f10"}
    first = client.post(url(webform_a), post)
    second = client.post(url(webform_a), post)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1


def test_hidden_country_uses_the_default(client, org_a):
    webform = make_webform(org_a, standard_fields={"countryCode": "hidden"}, default_country_code="SE")
    html = client.get(url(webform)).content.decode()
    assert 'name="country_code"' not in html
    post = {**GOOD_POST, "country_code": "NO", "phone_number": "070-123 45 67", "cf_cable_length_m": ""}
    assert client.post(url(webform), post).status_code == 302
    order = Order.objects.get()
    assert (order.country_code, order.phone_number) == ("SE", "+46701234567")


def test_honeypot_filled_creates_nothing(client, webform_a):
    response = client.post(url(webform_a), {**GOOD_POST, "website": "http://spam.example"})
    assert response.status_code == 200
    assert "Thank you" in response.content.decode() and "display-id" not in response.content.decode()
    assert Order.objects.count() == 0


def test_more_submissions_per_minute_than_allowed_are_refused(client, webform_a, settings):
    settings.WEBFORM_RATE_LIMIT = 3
    for _ in range(3):
        assert client.post(url(webform_a), {**GOOD_POST, "phone_number": "12"}).status_code == 400
    refused = client.post(url(webform_a), GOOD_POST)
    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode()
    assert "Please wait" in refused.content.decode()
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert Order.objects.count() == 0
    # Another client is not affected; reading the form is never limited.
    assert Client(REMOTE_ADDR="10.9.8.7").post(url(webform_a), GOOD_POST).status_code == 302
    assert client.get(url(webform_a)).status_code == 200


def test_csrf_is_enforced(webform_a):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(url(webform_a), GOOD_POST).status_code == 403
    page = strict.get(url(webform_a))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert strict.post(url(webform_a), {**GOOD_POST, "csrfmiddlewaretoken": token}).status_code == 302
    assert Order.objects.count() == 1


def test_inactive_webform_is_a_friendly_410_and_unknown_slug_404(client, webform_a):
    webform_a.active = False
    webform_a.save()
    for response in (client.get(url(webform_a)), client.post(url(webform_a), GOOD_POST)):
        assert response.status_code == 410
        assert "not accepting requests" in response.content.decode()
    missing = client.get("/f/no-such-form/")
    assert missing.status_code == 404 and "Form not found" in missing.content.decode()
    assert Order.objects.count() == 0


def test_form_page_query_count_is_constant(client, org_a, django_assert_num_queries):
    """One query for the page (the webform with its organization and workflow), however many
    fields it shows; the field definitions come from the per-process workflow cache, read once
    per workflow version. Reading a column the page's selector does not load would add one."""
    small = make_webform(org_a, workflow=make_workflow(org_a, "one"), slug="small")
    big_flow = make_workflow(org_a, "many")
    for index in range(20):
        add_custom_field(big_flow, f"extra_{index}")
    big = make_webform(org_a, workflow=big_flow, slug="big", allow_photo=True, intro="Hello")
    with django_assert_num_queries(2):  # first sight of the workflow version: its definitions
        client.get(url(small))
    client.get(url(big))
    with django_assert_num_queries(1):
        client.get(url(small))
    with django_assert_num_queries(1):
        html = client.get(url(big)).content.decode()
    assert 'name="cf_extra_19"' in html and 'name="photo"' in html and "Hello" in html
    # A new definition bumps the workflow's version: the page shows it at once.
    add_custom_field(big_flow, "extra_new")
    with django_assert_num_queries(2):
        assert 'name="cf_extra_new"' in client.get(url(big)).content.decode()
    big.active = False
    big.save()
    with django_assert_num_queries(1):
        gone = client.get(url(big))
    assert gone.status_code == 410 and org_a.name in gone.content.decode()
    with django_assert_num_queries(1):
        assert client.get("/f/no-such-form/").status_code == 404


def _png(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_photo_upload_is_stored_and_attached(client, org_a):
    webform = make_webform(org_a, allow_photo=True)
    photo = SimpleUploadedFile("../../garage.png", _png(), content_type="application/octet-stream")
    response = client.post(url(webform), {**GOOD_POST, "cf_cable_length_m": "", "photo": photo})
    assert response.status_code == 302, response.content.decode()
    order = Order.objects.get()
    stored = File.objects.get()
    assert stored.order_id == order.pk and stored.organization_id == org_a.pk
    assert (stored.name, stored.content_type) == ("garage.png", "image/png")
    assert stored.storage_key.startswith(f"{org_a.pk}/") and ".." not in stored.storage_key
    with default_storage.open(stored.storage_key) as fh:
        assert fh.read() == _png()


def test_photo_must_be_an_image_and_small_enough(client, org_a, settings):
    webform = make_webform(org_a, allow_photo=True)
    fake = SimpleUploadedFile("cat.png", b"#!/bin/sh\necho not an image\n", content_type="image/png")
    response = client.post(url(webform), {**GOOD_POST, "photo": fake})
    assert response.status_code == 400
    assert "Upload a photo" in field_html(response.content.decode(), "photo")
    settings.WEBFORM_PHOTO_MAX_BYTES = 100
    big = SimpleUploadedFile("big.png", _png((400, 400)), content_type="image/png")
    response = client.post(url(webform), {**GOOD_POST, "photo": big})
    assert "too large" in field_html(response.content.decode(), "photo")
    assert Order.objects.count() == 0 and File.objects.count() == 0


def test_landing_page_links_to_docs_admin_and_demo_form(client, org_a):
    make_webform(org_a, slug="demo-ev-charger")
    html = client.get("/").content.decode()
    assert 'href="/api/docs/"' in html and 'href="/admin/"' in html and 'href="/f/demo-ev-charger/"' in html


def test_form_page_keeps_a_referrer_policy_that_lets_csrf_check_the_origin(client, webform_a):
    """`Referrer-Policy: no-referrer` makes browsers send `Origin: null` on the POST (403)."""
    response = client.get(url(webform_a))
    assert response.get("Referrer-Policy", "same-origin") != "no-referrer"


def test_labels_choices_and_required_markers_render_escaped_and_accessible(client, org_a):
    workflow = make_workflow(org_a)
    add_custom_field(workflow, "level", FieldType.SELECT, options=[{"value": "1", "label": "One & <only>"}, "2"])
    webform = make_webform(
        org_a,
        workflow=workflow,
        multiline_fields=["notes"],
        allow_photo=True,
        standard_fields={"workplace": "optional", "countryCode": "required", "description": "optional"},
    )
    html = client.get(url(webform)).content.decode()
    level = field_html(html, "cf_level")
    assert '<label for="id_cf_level">' in level
    assert '<select name="cf_level" id="id_cf_level">' in level
    assert '<option value="" selected>Choose…</option>' in level
    assert '<option value="1">One &amp; &lt;only&gt;</option>' in level and "<only>" not in level
    country = field_html(html, "country_code")
    assert '<option value="NO" selected>Norway</option>' in country and country.count(" selected") == 1
    assert 'name="workplace"' in field_html(html, "workplace")
    # Required fields carry the marker class (the CSS adds " *") and the required attribute.
    assert re.search(r'<div class="field required" id="id_email_group">', html)
    assert re.search(r'<div class="field" id="id_workplace_group">', html)
    assert re.search(r'<input type="file" name="photo" accept="image/\*" aria-describedby="id_photo_helptext"', html)
    # The checkbox list is a fieldset with a legend.
    extras = field_html(html, "cf_extras")
    assert "<fieldset" in extras and "<legend>" in extras
    assert '<label for="id_cf_extras_0"><input type="checkbox" name="cf_extras" value="Load balancing"' in extras

    post = {**GOOD_POST, "email": "<script>", "cf_level": "zzz", "country_code": "SE", "cf_preferred_date": "x"}
    response = client.post(url(webform), post)
    assert response.status_code == 400
    html = response.content.decode()
    assert "<script>" not in html and 'value="&lt;script&gt;"' in field_html(html, "email")
    level = field_html(html, "cf_level")
    assert '<ul class="errorlist" id="id_cf_level_error"><li>Select a valid choice.' in level
    assert 'aria-invalid="true"' in level and 'aria-describedby="id_cf_level_error"' in level
    assert '<option value="SE" selected>Sweden</option>' in field_html(html, "country_code")
    summary = html.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert '<a href="#id_cf_level">Level</a>: Select a valid choice.' in summary


def test_a_blank_form_is_the_html_the_fields_template_writes_and_follows_its_definitions(org_a):
    """The blank form's HTML is kept per process (webforms.presenters.form_fields_html): it is
    what webforms/fields.html writes for the same form, and a changed field is a new page."""
    webform = make_webform(org_a, allow_photo=True, standard_fields={"workplace": "optional"})
    specs = selectors.webform_fields(selectors.webform_by_slug(webform.slug))

    def blank(fields: list) -> WebformOrderForm:
        return WebformOrderForm(initial={"country_code": "NO"}, specs=fields, allow_photo=True)

    kept = presenters.form_fields_html(blank(specs))
    assert kept == render_to_string("webforms/fields.html", {"form": blank(specs)})
    assert presenters.form_fields_html(blank(specs)) is kept
    assert 'name="submission"' not in kept  # the per-page nonce is written outside the kept HTML
    relabelled = [replace(s, label="Wallbox type") if s.name == "cf_charger_type" else s for s in specs]
    changed = presenters.form_fields_html(blank(relabelled))
    assert "Wallbox type" in changed and "Wallbox type" not in kept
    other_country = WebformOrderForm(initial={"country_code": "SE"}, specs=specs, allow_photo=True)
    assert '<option value="SE" selected>Sweden</option>' in presenters.form_fields_html(other_country)


def test_each_blank_page_has_its_own_nonce(client, webform_a):
    pages = [client.get(url(webform_a)).content.decode() for _ in range(2)]
    nonces = [re.search(r'name="submission" value="([^"]+)"', page).group(1) for page in pages]
    assert nonces[0] != nonces[1]
