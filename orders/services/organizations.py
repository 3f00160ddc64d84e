"""A new organization, created with its default workflow (orders need one to exist)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Organization
from orders.services.workflows import workflow_create


def organization_create(*, name: str, slug: str, is_installer: bool = False, **fields: Any) -> Organization:
    """Creates an organization and its default workflow (one step per status, none required)."""
    with transaction.atomic():
        organization = Organization.objects.create(name=name, slug=slug, is_installer=is_installer, **fields)
        workflow_create(organization=organization, custom_id="default", name="Default", is_default=True)
    return organization
