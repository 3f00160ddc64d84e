"""The wire shape of a webform (API.md "Get Webform")."""

from __future__ import annotations

from typing import Any

from webforms import selectors
from webforms.models import Webform


def webform_to_dict(webform: Webform) -> dict[str, Any]:
    """Get Webform (API.md)."""
    return {
        "id": webform.id,
        "slug": webform.slug,
        "name": webform.name,
        "title": webform.title,
        "description": webform.intro,
        "workflowId": webform.workflow_id,
        "fields": [
            {
                "key": spec.key,
                "label": spec.label,
                "type": spec.type,
                "required": spec.required,
                "options": [value for value, _ in spec.options] if spec.definition is not None else [],
            }
            for spec in selectors.webform_fields(webform)
        ],
        "defaultCountryCode": webform.default_country_code or None,
        "allowPhoto": webform.allow_photo,
        "publicUrl": webform.public_url,
        "active": webform.active,
    }
