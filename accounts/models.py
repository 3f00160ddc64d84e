"""Organizations (routers and installer companies), their people and roles, API tokens, and the
answers kept for idempotent writes. Every other app builds on these; this app imports none of them.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class RoutingStrategy(models.TextChoices):
    MANUAL = "manual", "Manual"
    PRIORITY = "priority", "Priority"
    ROUND_ROBIN = "round_robin", "Round robin"
    NEAREST = "nearest", "Nearest"
    LEAST_LOADED = "least_loaded", "Least loaded"


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    OPERATOR = "operator", "Operator"
    VIEWER = "viewer", "Viewer"


def role_may_write(role: str) -> bool:
    """The one write rule: admins and operators may write; viewers only read."""
    return role in (Role.ADMIN, Role.OPERATOR)


class Organization(models.Model):  # type: ignore[django-manager-missing]  # taggit's tag model
    """A router (creates orders) or an installer company (does the work); one may be both."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    is_installer = models.BooleanField(default=False, help_text="Installer company (can receive offers).")
    email = models.EmailField(blank=True)
    phone_number = models.CharField(max_length=32, blank=True)
    display_id_prefix = models.CharField(max_length=12, default="P1")
    time_zone = models.CharField(max_length=64, default="UTC")
    # The installer's base, used by radius coverage and the `nearest` strategy.
    base_latitude = models.FloatField(null=True, blank=True)
    base_longitude = models.FloatField(null=True, blank=True)
    # Routing settings; a workflow may override each of them.
    routing_strategy = models.CharField(
        max_length=20, choices=RoutingStrategy.choices, default=RoutingStrategy.PRIORITY
    )
    offers_at_once = models.PositiveSmallIntegerField(default=1, help_text="1 = sequential; more = broadcast.")
    offer_deadline_hours = models.PositiveIntegerField(default=24)
    deadline_skips_weekends = models.BooleanField(default=False)
    fallback_enabled = models.BooleanField(default=True, help_text="Offer the next candidate on decline or expiry.")
    auto_dispatch = models.BooleanField(default=False, help_text="Dispatch new orders as soon as they are created.")
    # Last display number handed out; bumped under the row lock by order_create.
    order_counter = models.PositiveBigIntegerField(default=0, editable=False)
    # True while the organization may have webhook endpoints: set in the transaction that creates
    # one, cleared (under this row's lock) when the last one goes. False means none exists, so
    # the outbox hook skips its endpoint query on every change (maintained by webhooks.services).
    has_webhook_endpoints = models.BooleanField(default=False, editable=False)
    # Set on an installer organization that is a router's test installer (`router.test_installer`):
    # the only installer a test order of that router is ever offered to, and never offered a
    # real order. Made on demand by accounts.services.test_installer_ensure.
    test_installer_for = models.OneToOneField(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="test_installer", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(offers_at_once__gte=1), name="organization_offers_at_once_gte_1"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OPERATOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="membership_user_org_unique"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"

    @property
    def can_write(self) -> bool:
        return role_may_write(self.role)


TOKEN_PREFIX = "ins_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A Bearer token acting through one membership. Only the SHA-256 of the key is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, editable=False, help_text="First characters, to recognise the token.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Test mode: the orders this token creates are test orders (orders.models.Order.test).
    test = models.BooleanField(default=False, help_text="Orders created with this token are test orders.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate_key() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)

    def set_key(self, raw: str) -> None:
        self.prefix = raw[:12]
        self.key_hash = hash_token(raw)

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()


class IdempotencyRecord(models.Model):
    """The first answer to a write sent with an `Idempotency-Key` header, replayed on repeats."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="idempotency_record_unique")]

    def __str__(self) -> str:
        return self.key
