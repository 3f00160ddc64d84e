"""The OpenAPI schema and the interactive docs, which must work with no internet access."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from django.test import Client, override_settings
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

ORDER_PATHS = {
    "/api/v1/order": {"get", "post"},
    "/api/v1/order/{id}": {"get", "patch", "delete"},
    "/api/v1/order/{id}/events": {"get"},
    "/api/v1/order/{id}/cancel": {"post"},
    "/api/v1/order/{id}/steps/{step_key}/complete": {"post"},
    "/api/v1/order/{id}/tags/{tag_id}": {"put", "delete"},
    "/api/v1/order-tags": {"get", "post"},
    "/api/v1/workflows": {"get"},
}


def check_schema(schema: dict) -> None:
    validate_schema(schema)  # OpenAPI 3 JSON schema; raises on an invalid document
    assert schema["openapi"].startswith("3.")
    for path, methods in ORDER_PATHS.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), (path, set(schema["paths"][path]))
    create = schema["paths"]["/api/v1/order"]["post"]
    assert create["security"] == [{"bearerAuth": []}]
    assert "Create Order" in create["description"]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    body = schema["components"]["schemas"]["OrderCreateInputRequest"]
    assert {"address", "city", "postalCode", "countryCode", "email", "phoneNumber", "contactPersonName"} <= set(
        body["required"]
    )
    assert "status" not in body["properties"]


def test_schema_yaml_is_valid_openapi(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    check_schema(yaml.safe_load(response.content))


def test_schema_json_is_valid_openapi(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    check_schema(json.loads(response.content))


def local_assets(html: str) -> list[str]:
    # No absolute URL anywhere in the page (CDNs, fonts): everything comes from this server.
    assert not re.findall(r"https?://", html), re.findall(r"https?://[^\s\"'<>]+", html)
    return re.findall(r"(?:src|href)=\"([^\"]+)\"", html)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
@override_settings(WHITENOISE_USE_FINDERS=True)  # as under `make run`; production runs collectstatic
def test_docs_use_only_local_assets_and_they_are_served(path):
    client = Client()  # a new client builds its middleware with the overridden setting
    response = client.get(path)
    assert response.status_code == 200
    assets = local_assets(response.content.decode())
    scripts = [a for a in assets if a.endswith(".js")]
    assert scripts and all(a.startswith("/static/") for a in assets), assets
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        assert int(served.get("Content-Length", 1)) > 0
    # The page loads the schema from this server.
    assert '"/api/schema/"' in response.content.decode()


def test_schema_documents_only_parameters_that_work(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    # The timeline is not paged: it is the whole history, oldest first.
    timeline = schema["paths"]["/api/v1/order/{id}/events"]["get"]
    assert [p["name"] for p in timeline.get("parameters", []) if p["in"] == "query"] == []
    listed = {p["name"] for p in schema["paths"]["/api/v1/order"]["get"]["parameters"]}
    assert {"status", "tagId", "workflowId", "installerId", "postalCode", "createdAfter", "createdBefore"} <= listed
    assert {"updatedSince", "q", "test", "page", "pageSize", "direction", "cursor"} <= listed
