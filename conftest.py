"""Personas shared by every app's tests: an operator of organization A, one of organization B,
a viewer of A, an installer partner, and an anonymous client. Each API persona is a DRF
APIClient carrying its Bearer token; `.org`, `.membership` and `.token` are attached to it."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership, Organization, Role
from orders.tests.factories import MembershipFactory, OrganizationFactory, make_token

# `task_backend`: run a test once on the database task backend and once on RQ (Redis).
pytest_plugins = ["installer.tests.task_backends"]


class PersonaClient(APIClient):
    """An API client acting through one membership's Bearer token."""

    org: Organization
    membership: Membership
    token: str


def _api_client(membership: Membership, name: str) -> PersonaClient:
    client = PersonaClient()
    raw = make_token(membership, name=name)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.org = membership.organization
    client.membership = membership
    client.token = raw
    return client


@pytest.fixture
def org_a(db):
    return OrganizationFactory(name="Alpha Energy", slug="alpha", display_id_prefix="A")


@pytest.fixture
def org_b(db):
    return OrganizationFactory(name="Beta Retail", slug="beta", display_id_prefix="B")


@pytest.fixture
def installer_org(db):
    return OrganizationFactory(name="Fix-It Installers", slug="fixit", is_installer=True)


@pytest.fixture
def operator_a(org_a):
    return _api_client(MembershipFactory(organization=org_a, role=Role.OPERATOR), "erp-a")


@pytest.fixture
def admin_a(org_a):
    return _api_client(MembershipFactory(organization=org_a, role=Role.ADMIN), "admin-a")


@pytest.fixture
def viewer_a(org_a):
    return _api_client(MembershipFactory(organization=org_a, role=Role.VIEWER), "viewer-a")


@pytest.fixture
def operator_b(org_b):
    return _api_client(MembershipFactory(organization=org_b, role=Role.OPERATOR), "erp-b")


@pytest.fixture
def installer_client(installer_org):
    return _api_client(MembershipFactory(organization=installer_org, role=Role.OPERATOR), "installer-app")


@pytest.fixture
def anon():
    return APIClient()


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` are skipped on any other database (SQLite by default)."""
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="PostgreSQL only")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def later(monkeypatch):
    """Moves the cache's clock `seconds` on."""
    from installer import caching

    real = caching._now

    def move(seconds: float) -> None:
        monkeypatch.setattr(caching, "_now", lambda: real() + seconds)

    return move
