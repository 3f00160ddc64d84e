"""Webform rules and the demo data."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from orders.tests.factories import OrganizationFactory
from webforms.models import Webform
from webforms.tests.conftest import make_webform, make_workflow

pytestmark = pytest.mark.django_db


def test_webform_rules(org_a, org_b):
    workflow = make_workflow(org_a)
    with pytest.raises(ValidationError) as err:
        make_webform(org_b, workflow=workflow)
    assert "another organization" in str(err.value)
    with pytest.raises(ValidationError) as err:
        make_webform(org_a, workflow=workflow, custom_fields_shown=["notes"], slug="x1")
    assert "charger_type" in err.value.message_dict["custom_fields_shown"][0]
    with pytest.raises(ValidationError) as err:
        make_webform(org_a, workflow=workflow, standard_fields={"email": "hidden"}, slug="x2")
    assert "always shown" in err.value.message_dict["standard_fields"][0]
    with pytest.raises(ValidationError) as err:
        make_webform(
            org_a, workflow=workflow, standard_fields={"countryCode": "hidden"}, default_country_code="", slug="x3"
        )
    assert "default_country_code" in err.value.message_dict
    with pytest.raises(ValidationError):
        make_webform(org_a, workflow=workflow, custom_fields_required=["nope"], slug="x4")


def test_seed_demo_adds_the_demo_webform_idempotently():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "http://127.0.0.1:8000/f/demo-ev-charger/" in out.getvalue()
    call_command("seed_demo", quiet=True, stdout=io.StringIO())
    webform = Webform.objects.get()
    assert (webform.slug, webform.organization.slug, webform.workflow.custom_id) == (
        "demo-ev-charger",
        "demo",
        "installation",
    )
    assert [t.name for t in webform.default_tags.all()] == ["EV charger"]
    assert webform.active and webform.allow_photo


def test_seed_without_the_installation_workflow_does_nothing():
    from webforms import demo

    org = OrganizationFactory()
    assert demo.seed(demo=org, other=org, stdout=io.StringIO(), quiet=True) is None


def test_admin_lists_and_edits_webforms(admin_client, webform_a):
    listing = admin_client.get("/admin/webforms/webform/")
    assert listing.status_code == 200 and "http://127.0.0.1:8000/f/alpha-ev/" in listing.content.decode()
    change = admin_client.get(f"/admin/webforms/webform/{webform_a.pk}/change/")
    assert change.status_code == 200 and 'name="custom_fields_required"' in change.content.decode()
