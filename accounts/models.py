"""Organizations (routers and installer companies), their people and roles, API tokens, and the
answers kept for idempotent writes. Every other app builds on these; this app imports none of them.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from taggit.models import TagBase


class RoutingStrategy(models.TextChoices):
    MANUAL = "manual", "Manual"
    PRIORITY = "priority", "Priority"
    ROUND_ROBIN = "round_robin", "Round robin"
    NEAREST = "nearest", "Nearest"
    LEAST_LOADED = "least_loaded", "Least loaded"
    BEST_PERFORMING = "best_performing", "Best performing (scorecard)"


class Language(models.TextChoices):
    """The languages messages and pages go out in (settings.LANGUAGES)."""

    EN = "en", "English"
    NB = "nb", "Norsk bokmål"


class Role(models.TextChoices):
    """A membership's role. In an installer organization admin is the partner admin and operator
    the dispatcher; technician exists only there (`Membership.clean`, `membership_ensure`)."""

    ADMIN = "admin", _("Admin")
    OPERATOR = "operator", _("Operator")
    VIEWER = "viewer", _("Viewer")
    TECHNICIAN = "technician", _("Technician")


# Roles valid only in an installer organization.
INSTALLER_ONLY_ROLES = frozenset({Role.TECHNICIAN})

# What each role may do. The one table: the API's permission (accounts.api.permissions), the
# order's `allowedActions` (orders.policy), the services that take a technician and the
# partner pages all read it through the functions below.
#  - write: every write its organization may make (create, update, dispatch, cancel, assign,
#    answer offers, tags, webhooks, tokens);
#  - work_jobs: book / reschedule / unbook, start, complete, complete steps and upload files,
#    on the jobs (orders assigned to its installer organization) it may read;
#  - all_jobs: reads and works every job of its organization, not only those assigned to it.
ROLE_RIGHTS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset({"write", "work_jobs", "all_jobs"}),
    Role.OPERATOR: frozenset({"write", "work_jobs", "all_jobs"}),
    Role.VIEWER: frozenset({"all_jobs"}),
    Role.TECHNICIAN: frozenset({"work_jobs"}),
}


def role_may_write(role: str) -> bool:
    """Admins and operators may write; viewers only read; a technician writes only through
    `role_may_work_jobs`, on the jobs assigned to it."""
    return "write" in ROLE_RIGHTS.get(role, ())


def role_may_work_jobs(role: str) -> bool:
    """Book, reschedule, unbook, start, complete and complete steps of a job it may read."""
    return "work_jobs" in ROLE_RIGHTS.get(role, ())


def role_sees_only_assigned(role: str) -> bool:
    """A technician reads and acts on only the orders assigned to its user (others are 404)."""
    return "all_jobs" not in ROLE_RIGHTS.get(role, ())


def role_may_invite(role: str) -> bool:
    """Only an organization's admin invites people and manages memberships."""
    return role == Role.ADMIN


def role_may_assign(role: str) -> bool:
    """Who may set a job's assignee: the assigned installer's admins and operators (dispatchers)."""
    return role_may_write(role)


def role_valid_for(role: str, organization: Organization) -> bool:
    """A technician membership exists only in an installer organization."""
    return role not in INSTALLER_ONLY_ROLES or organization.is_installer


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
    # The language of an order that names none (API `language`, the webform's Accept-Language).
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN)
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
    # Shown on invoices, credit notes and statements (docs/invoicing.md); blank until filled in.
    org_number = models.CharField(
        "organization number", max_length=32, blank=True, help_text="E.g. the Norwegian 9-digit number."
    )
    vat_registered = models.BooleanField(default=True, help_text="Registered for VAT (MVA).")
    street_address = models.CharField(max_length=300, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=120, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    bank_account = models.CharField(max_length=64, blank=True, help_text="Account number or IBAN for payments.")
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

    def clean(self) -> None:
        super().clean()
        if self.organization_id is not None and not role_valid_for(self.role, self.organization):
            raise ValidationError({"role": _("The technician role exists only in an installer organization.")})

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
        verbose_name = "API token"

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


INVITATION_VALID_DAYS = 7


class Invitation(models.Model):
    """An organization admin's invitation of a person (by email) with a role. Only the SHA-256 of
    the link's token is stored; the token itself is in the emailed link only. Open while not
    accepted, revoked or expired; at most one is open per email and organization."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.TECHNICIAN)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(editable=False)
    accepted_at = models.DateTimeField(null=True, blank=True, editable=False)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "organization",
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="invitation_role_valid"),
        ]
        indexes = [models.Index(fields=["organization", "created_at"], name="invitation_org_created_idx")]

    def __str__(self) -> str:
        return f"{self.email} → {self.organization} ({self.role})"

    @property
    def state(self) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= timezone.now() else "open"

    @property
    def is_open(self) -> bool:
        return self.state == "open"


class OrganizationTag(TagBase):
    """A tag of one organization (orders' and products' tags): names unique per organization,
    case-insensitively, by a constraint each concrete model declares. Each adds its
    `organization` foreign key with its own related name."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Override TagBase's globally unique name and slug: uniqueness is per organization.
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, allow_unicode=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["name"]

    def slugify(self, tag, i=None):
        from django.utils.text import slugify

        return slugify(tag, allow_unicode=True)[:100]

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = self.slugify(self.name)
        # Skip TagBase.save's global slug de-duplication loop: slugs are not unique here.
        models.Model.save(self, *args, **kwargs)
