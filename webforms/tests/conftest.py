"""Webform fixtures: a webform of organization A showing one custom field of every type."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from orders.models import FieldType, Workflow
from orders.services import order_tags_create, workflow_create
from orders.tests.factories import add_custom_field
from webforms.models import Webform


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    """The rate limit lives in the cache; every test starts with a clean count."""
    cache.clear()
    yield
    cache.clear()


def make_workflow(org, custom_id="ev") -> Workflow:
    workflow = workflow_create(organization=org, custom_id=custom_id, name="EV charger")
    add_custom_field(workflow, "charger_type", FieldType.SELECT, required=True, options=["11 kW", "22 kW"])
    add_custom_field(workflow, "cable_length_m", FieldType.NUMBER)
    add_custom_field(workflow, "has_parking", FieldType.BOOLEAN)
    add_custom_field(workflow, "preferred_date", FieldType.DATE)
    add_custom_field(workflow, "extras", FieldType.MULTISELECT, options=["Load balancing", "Wall mount"])
    add_custom_field(workflow, "notes", FieldType.TEXT)
    return workflow


def make_webform(org, workflow=None, **fields) -> Webform:
    workflow = workflow or make_workflow(org)
    values = {
        "organization": org,
        "workflow": workflow,
        "slug": f"{org.slug}-ev",
        "name": "EV form",
        "title": "Order an EV charger",
        "intro": "Tell us about your home.",
        "default_country_code": "NO",
        **fields,
    }
    webform = Webform(**values)
    webform.full_clean()
    webform.save()
    return webform


@pytest.fixture
def webform_a(org_a):
    webform = make_webform(org_a, custom_fields_required=["cable_length_m"], multiline_fields=["notes"])
    webform.default_tags.add(*order_tags_create(organization=org_a, names=["Web lead"]))
    return webform


# What a customer types: the HTML form's input names and values.
GOOD_POST = {
    "contact_person_name": "Kari Nordmann",
    "email": "kari@example.com",
    "phone_number": "912 34 567",
    "address": "Storgata 1",
    "postal_code": "0155",
    "city": "Oslo",
    "country_code": "NO",
    "description": "Next to the garage door.",
    "cf_charger_type": "22 kW",
    "cf_cable_length_m": "7.5",
    "cf_has_parking": "on",
    "cf_preferred_date": "2030-05-17",
    "cf_extras": ["Load balancing", "Wall mount"],
    "cf_notes": "Dog in the garden.",
}

# The same submission as a Create Order body.
GOOD_BODY = {
    "contactPersonName": "Kari Nordmann",
    "email": "kari@example.com",
    "phoneNumber": "912 34 567",
    "address": "Storgata 1",
    "postalCode": "0155",
    "city": "Oslo",
    "countryCode": "NO",
    "description": "Next to the garage door.",
    "customFields": [
        {"customId": "charger_type", "value": "22 kW"},
        {"customId": "cable_length_m", "value": 7.5},
        {"customId": "has_parking", "value": True},
        {"customId": "preferred_date", "value": "2030-05-17"},
        {"customId": "extras", "value": ["Load balancing", "Wall mount"]},
        {"customId": "notes", "value": "Dog in the garden."},
    ],
}


def comparable(order_dict: dict) -> dict:
    """The fields two equivalent orders share (not ids, numbers, tokens or times)."""
    skip = {"id", "displayId", "clientUrl", "createdAt", "updatedAt", "value", "allowedActions"}
    out = {k: v for k, v in order_dict.items() if k not in skip}
    out["customFields"] = [{"customId": f["customId"], "value": f["value"]} for f in order_dict["customFields"]]
    out["tags"] = sorted(t["name"] for t in order_dict["tags"])
    return out
