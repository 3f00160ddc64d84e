"""Writes for webforms: a submission, from the public page or the API, becomes an order through
the same rules the Create Order API applies (orders.api.serializers.OrderCreateInput,
orders.services.clean_custom_fields and order_create), plus the webform's own: which fields it
shows and which it requires. Errors carry wire names as keys (`phoneNumber`,
`customFields.charger_type`, `photo`), so the API answers them as they are and the public page
puts each beside its field.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from typing import Any

import filetype
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from installer.api.exceptions import _flatten
from orders import services as order_services
from orders.actors import Actor
from orders.api.serializers import OrderCreateInput
from orders.exceptions import Conflict, OrderValidationError
from orders.models import File, Order, OrderSource
from orders.validation import is_empty
from webforms.models import STANDARD_FIELDS, FieldMode, Webform
from webforms.selectors import webform_fields

logger = logging.getLogger("installer.webforms")

PHOTO_MAX_BYTES = 10 * 1024 * 1024


class SubmissionInvalid(OrderValidationError):
    """400 with every problem of a submission at once, keyed by wire name."""


def _merge(errors: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    for key, messages in more.items():
        bucket = errors.setdefault(key, [])
        bucket.extend(m for m in messages if m not in bucket)


def _nul_keys(value: Any, path: str) -> list[str]:
    """Wire paths of strings holding a NUL character, which PostgreSQL cannot store in text or
    JSON. Checked here so that no webform submission can cause a 500 (the order rules do not
    check JSON values such as custom text fields and metadata for it)."""
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        return [k for key, sub in value.items() for k in _nul_keys(sub, f"{path}.{key}" if path else str(key))]
    if isinstance(value, list):
        if path == "customFields":
            return [
                k
                for item in value
                if isinstance(item, dict)
                for k in _nul_keys(item.get("value"), f"customFields.{item.get('customId') or item.get('id')}")
            ]
        return [k for index, sub in enumerate(value) for k in _nul_keys(sub, f"{path}[{index}]")]
    return []


def webform_prepare(*, webform: Webform, body: dict[str, Any]) -> dict[str, Any]:
    """Validates a Create Order body (wire names) against the webform and the order rules and
    returns the snake_case data for `order_create`. Raises SubmissionInvalid listing every error.

    The webform decides: hidden standard fields are dropped (a hidden country becomes the
    webform's default country), the workflow is the webform's, custom fields must be fields the
    form shows, and fields the form requires must have a value. Default tags are added.
    """
    body = dict(body) if isinstance(body, dict) else {}
    errors: dict[str, list[str]] = {}
    bad = _nul_keys(body, "")
    if bad:
        message = _("Must not contain NUL characters.")
        details = {key: [message] for key in bad}
        raise SubmissionInvalid(f"{bad[0]}: {message}", details=details)
    for key in STANDARD_FIELDS:
        mode = webform.standard_mode(key)
        if mode == FieldMode.HIDDEN:
            body.pop(key, None)
        if key == "countryCode" and is_empty(body.get(key)) and webform.default_country_code:
            body[key] = webform.default_country_code
        if mode == FieldMode.REQUIRED and is_empty(body.get(key)):
            errors[key] = [_("This field is required.")]
    body.pop("workflowCustomId", None)
    body["workflowId"] = str(webform.workflow_id)

    serializer = OrderCreateInput(data=body)
    valid = serializer.is_valid()
    if not valid:
        _merge(errors, _flatten(serializer.errors))
    data: dict[str, Any] = dict(serializer.validated_data) if valid else {}

    # Custom fields: only the ones the form shows; the form's own required ones; then the
    # workflow's rules (types, options, required) exactly as Create Order applies them.
    specs = [(s, s.definition) for s in webform_fields(webform) if s.definition is not None]
    shown = {d.custom_id: (s, d) for s, d in specs} | {str(d.id): (s, d) for s, d in specs}
    items = data.get("custom_fields") if valid else body.get("customFields")
    items = items if isinstance(items, list) else []
    given: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        ref = item.get("customId") or item.get("id")
        found = shown.get(ref) if isinstance(ref, str) else None
        if found is None:
            errors.setdefault(f"customFields.{ref}", []).append(_("Not a field of this form."))
            continue
        given[found[1].custom_id] = item.get("value")
    for spec, definition in specs:
        if spec.required and is_empty(given.get(definition.custom_id)):
            errors.setdefault(spec.key, [_("'%(label)s' is required.") % {"label": spec.label}])
    try:
        order_services.clean_custom_fields(webform.workflow, [i for i in items if isinstance(i, dict)])
    except OrderValidationError as exc:
        for key, messages in (exc.details or {}).items():
            if key not in errors:
                errors[key] = list(messages)
    if errors:
        first_key, first_messages = next(iter(errors.items()))
        raise SubmissionInvalid(f"{first_key}: {first_messages[0]}", details=errors)

    default_tags = [str(pk) for pk in webform.default_tags.values_list("pk", flat=True)]
    data["order_tag_ids"] = list(dict.fromkeys([*(str(t) for t in data.get("order_tag_ids") or []), *default_tags]))
    if not data.get("name"):
        data["name"] = webform.title
    data["workflow_id"] = webform.workflow_id
    data.pop("workflow_custom_id", None)
    return data


def photo_check(upload: UploadedFile) -> str:
    """Returns the sniffed image content type, or raises SubmissionInvalid (`photo`).
    The client's content type and file name are never trusted."""
    limit = getattr(settings, "WEBFORM_PHOTO_MAX_BYTES", PHOTO_MAX_BYTES)
    if upload.size is not None and upload.size > limit:
        message = _("The photo is too large: at most %(megabytes)d MB.") % {"megabytes": limit // (1024 * 1024)}
        raise SubmissionInvalid(message, details={"photo": [message]})
    upload.seek(0)
    head = upload.read(2048)
    upload.seek(0)
    kind = filetype.guess(head) if head else None
    if kind is None or not kind.mime.startswith("image/"):
        message = _("Upload a photo (JPEG, PNG, GIF, WebP or HEIC).")
        raise SubmissionInvalid(message, details={"photo": [message]})
    return kind.mime


def _photo_store(*, webform: Webform, upload: UploadedFile, content_type: str) -> File:
    """Stores the photo under a generated key (organization id / uuid) and records it, not yet
    attached to an order. Small and self-contained so the files service can replace it."""
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    key = default_storage.save(f"{webform.organization_id}/{uuid.uuid4().hex}", upload)
    name = os.path.basename(upload.name or "") or "photo"
    return File.objects.create(
        organization_id=webform.organization_id,
        storage_key=key,
        name=name[:255],
        content_type=content_type,
        size=upload.size or 0,
        sha256=digest.hexdigest(),
        uploaded_by=f"webform:{webform.slug}"[:200],
    )


def _photo_discard(file: File) -> None:
    try:
        default_storage.delete(file.storage_key)
    finally:
        File.objects.filter(pk=file.pk, order__isnull=True).delete()


def webform_order_create(
    *,
    webform: Webform,
    body: dict[str, Any],
    photo: UploadedFile | None = None,
    idempotency_key: str | None = None,
    test: bool = False,
    language: str | None = None,
) -> Order:
    """Creates an order from a webform submission: source `webform`, the webform recorded on
    the order and as the actor of its timeline; a `test` order through a test-mode token. 409 when the webform is inactive; 400
    (SubmissionInvalid) with every field error otherwise; nothing is created on any error."""
    if not webform.active:
        raise Conflict(_("This webform is not accepting requests."))
    errors: dict[str, list[str]] = {}
    try:
        data = webform_prepare(webform=webform, body=body)
    except SubmissionInvalid as exc:
        data = {}
        errors.update(exc.details or {})
    content_type = ""
    if photo is not None:
        try:
            content_type = photo_check(photo)
        except SubmissionInvalid as exc:
            errors.update(exc.details or {})
    if errors:
        first_key, first_messages = next(iter(errors.items()))
        raise SubmissionInvalid(f"{first_key}: {first_messages[0]}", details=errors)
    if language:
        data["language"] = language  # from the page's Accept-Language (views); else the organization's
    if idempotency_key and not data.get("idempotency_key"):
        data["idempotency_key"] = idempotency_key
    stored = _photo_store(webform=webform, upload=photo, content_type=content_type) if photo is not None else None
    if stored is not None:
        data["file_ids"] = [*(str(f) for f in data.get("file_ids") or []), str(stored.pk)]
    try:
        order = order_services.order_create(
            organization=webform.organization,
            actor=Actor.for_webform(webform),
            data=data,
            source=OrderSource.WEBFORM,
            webform_id=webform.pk,
            test=test,
        )
    except Exception:
        if stored is not None:
            _photo_discard(stored)
        raise
    logger.info("webform %s created order %s", webform.slug, order.display_id)
    return order
