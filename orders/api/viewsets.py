"""Base API views. Tenancy fails closed: `get_queryset()` of every subclass starts from
`scoped_queryset()`, which filters by the token's organization; subclasses only narrow it."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import orjson
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import viewsets
from rest_framework.response import Response

from accounts.models import IdempotencyRecord
from installer.api.exceptions import Conflict, Unprocessable
from installer.api.renderers import dumps
from orders.actors import Actor

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class _Replay(Exception):
    def __init__(self, response: Response):
        self.response = response


class ApiViewSet(viewsets.GenericViewSet):
    """Adds the caller's organization and actor, and `Idempotency-Key` replay for writes."""

    # Views that handle idempotency themselves (Create Order keeps the key on the order).
    idempotency_exempt_actions: tuple[str, ...] = ()

    @property
    def organization(self):
        return self.request.organization

    @property
    def membership(self):
        return self.request.membership

    @property
    def actor(self) -> Actor:
        return Actor.for_token(self.request.auth)

    # -- Idempotency-Key on writes -----------------------------------------------------------
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._idempotency_record = None
        key = request.headers.get("Idempotency-Key")
        if not key or request.method not in UNSAFE or self.action in self.idempotency_exempt_actions:
            return
        if len(key) > 255:
            raise Unprocessable("Idempotency-Key is longer than 255 characters.")
        content_type = request.content_type or ""
        # JSON bodies are part of the fingerprint; uploads are not read into memory for it.
        body = request._request.body if content_type.startswith("application/json") else content_type.encode()
        fingerprint = hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + body).hexdigest()
        organization = request.organization
        existing = IdempotencyRecord.objects.filter(organization=organization, key=key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    self._idempotency_record = IdempotencyRecord.objects.create(
                        organization=organization, key=key, fingerprint=fingerprint
                    )
                return
            except IntegrityError:
                existing = IdempotencyRecord.objects.filter(organization=organization, key=key).first()
        if existing is None:  # pragma: no cover - deleted between the two reads
            raise Conflict("A request with this Idempotency-Key is in progress.")
        if existing.fingerprint != fingerprint:
            raise Unprocessable("This Idempotency-Key was used with a different request.")
        if existing.status_code is None:
            if self._reclaim_idempotency_record(existing, fingerprint):
                return
            raise Conflict("A request with this Idempotency-Key is in progress; retry shortly.")
        raise _Replay(
            Response(existing.response_body, status=existing.status_code, headers={"Idempotent-Replayed": "true"})
        )

    def _reclaim_idempotency_record(self, existing: IdempotencyRecord, fingerprint: str) -> bool:
        """Takes over an in-progress record older than REQUEST_TIMEOUT_SECONDS: its request
        was cut off (worker killed or recycled) without an answer, so this request acts in its
        place. Only one of several concurrent retries wins the record; the others see it in
        progress again."""
        stale_before = timezone.now() - timedelta(seconds=settings.REQUEST_TIMEOUT_SECONDS)
        if existing.created_at >= stale_before:
            return False
        with transaction.atomic():
            deleted, _ = IdempotencyRecord.objects.filter(
                pk=existing.pk, status_code__isnull=True, created_at__lt=stale_before
            ).delete()
            if not deleted:
                return False
            self._idempotency_record = IdempotencyRecord.objects.create(
                organization_id=existing.organization_id,
                key=existing.key,
                fingerprint=fingerprint,
            )
        return True

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return exc.response
        try:
            return super().handle_exception(exc)
        except BaseException:
            # An unhandled error (a 500): release the key so that a retry acts, instead of
            # answering "in progress" forever.
            self._release_idempotency_record()
            raise

    def _release_idempotency_record(self) -> None:
        record = getattr(self, "_idempotency_record", None)
        if record is not None:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            self._idempotency_record = None

    def finalize_response(self, request, response, *args, **kwargs):
        record = getattr(self, "_idempotency_record", None)
        if record is not None:
            if response.status_code >= 500:
                self._release_idempotency_record()
            else:
                # Stored as the renderer wrote it, so a replay is byte-for-byte the same JSON
                # (ISO datetimes, string UUIDs).
                # By primary key: a record reclaimed by a retry (a new row) is not overwritten.
                IdempotencyRecord.objects.filter(pk=record.pk).update(
                    status_code=response.status_code, response_body=orjson.loads(dumps(response.data))
                )
                self._idempotency_record = None
        return super().finalize_response(request, response, *args, **kwargs)
