"""Installer partners and their coverage, offers, dispatch explanations and bookings.

Invariants that must hold under concurrency live in the database: at most one accepted offer per
order (a partial unique index) and, on PostgreSQL, no two overlapping bookings of one installer
(an exclusion constraint over `tstzrange(start_at, end_at)`, added by the migration only there).
"""

from __future__ import annotations

import datetime
import uuid
from zoneinfo import ZoneInfo

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.db import DEFAULT_DB_ALIAS, connections, models

from accounts.models import Organization, RoutingStrategy
from orders.models import Order


class Partnership(models.Model):
    """A router's installer partner: who may receive the router's offers, and where."""

    router = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="installer_partnerships")
    installer = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="router_partnerships")
    active = models.BooleanField(default=True)
    priority = models.PositiveIntegerField(default=100, help_text="Lower is offered first.")
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Open orders of this router at once; empty = unlimited."
    )
    skills = models.JSONField(default=list, blank=True, help_text='e.g. ["ev-charger", "heat-pump"]')
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["router", "priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["router", "installer"], name="partnership_router_installer_unique"),
            models.CheckConstraint(
                condition=~models.Q(router=models.F("installer")), name="partnership_not_with_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.router} -> {self.installer}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.installer_id and not self.installer.is_installer:
            raise ValidationError({"installer": "Only an organization marked as installer company can be a partner."})
        if self.installer_id and self.installer_id == self.router_id:
            raise ValidationError({"installer": "An organization cannot partner with itself."})


class CoverageKind(models.TextChoices):
    EXACT = "exact", "Postal code"
    PREFIX = "prefix", "Postal code prefix"
    RANGE = "range", "Postal code range"
    RADIUS = "radius", "Radius around the installer's base"


class CoverageArea(models.Model):
    """One coverage rule. Postal-code rules apply to one country; a radius needs the installer's
    base coordinates and the order's coordinates."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="coverage")
    kind = models.CharField(max_length=8, choices=CoverageKind.choices)
    country_code = models.CharField(max_length=2, blank=True, help_text="ISO alpha-2; empty for a radius.")
    value = models.CharField(max_length=20, blank=True, help_text="Code, prefix (03 or 03*) or range start.")
    value_to = models.CharField(max_length=20, blank=True, help_text="Range end (inclusive).")
    radius_km = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["partnership", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=CoverageKind.values), name="coverage_kind_valid"),
            models.CheckConstraint(
                condition=~models.Q(kind=CoverageKind.RADIUS) | models.Q(radius_km__gt=0),
                name="coverage_radius_positive",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=CoverageKind.RANGE) | (~models.Q(value="") & ~models.Q(value_to="")),
                name="coverage_range_has_bounds",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == CoverageKind.RADIUS:
            return f"{self.radius_km:g} km radius"
        if self.kind == CoverageKind.RANGE:
            return f"{self.country_code} {self.value}-{self.value_to}"
        if self.kind == CoverageKind.PREFIX:
            return f"{self.country_code} {self.value.rstrip('*')}*"
        return f"{self.country_code} {self.value}"

    def save(self, *args, **kwargs):
        self.country_code = (self.country_code or "").upper()
        if self.kind == CoverageKind.PREFIX:
            self.value = self.value.rstrip("*").strip()
        super().save(*args, **kwargs)


class DispatchRun(models.Model):
    """The stored explanation of one dispatch: every candidate considered, its score, and why it
    was kept or dropped. Offers sent by the run (and its fall-backs) point back to it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="dispatch_runs")
    strategy = models.CharField(max_length=20, choices=RoutingStrategy.choices)
    offers_at_once = models.PositiveSmallIntegerField(default=1)
    actor_label = models.CharField(max_length=200, blank=True)
    candidates = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "-created_at"]
        indexes = [models.Index(fields=["order", "created_at"], name="dispatch_run_order_idx")]

    def __str__(self) -> str:
        return f"{self.strategy} dispatch of {self.order_id}"


class OfferStatus(models.TextChoices):
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_OFFER = OfferStatus.SENT


class Offer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="offers")
    installer = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="offers_received")
    dispatch_run = models.ForeignKey(
        DispatchRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="offers"
    )
    status = models.CharField(max_length=10, choices=OfferStatus.choices, default=OfferStatus.SENT)
    rank = models.PositiveIntegerField(default=1)
    score = models.FloatField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True, help_text="Why this installer was chosen.")
    decline_reason = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "rank", "sent_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=OfferStatus.values), name="offer_status_valid"),
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(status=OfferStatus.ACCEPTED), name="offer_one_accepted_per_order"
            ),
            models.UniqueConstraint(
                fields=["order", "installer"],
                condition=models.Q(status=OfferStatus.SENT),
                name="offer_one_open_per_installer",
            ),
        ]
        indexes = [
            models.Index(fields=["installer", "sent_at", "id"], name="offer_installer_sent_idx"),
            models.Index(fields=["status", "expires_at"], name="offer_status_expires_idx"),
            models.Index(fields=["order", "status"], name="offer_order_status_idx"),
        ]

    def __str__(self) -> str:
        return f"offer {self.order_id} -> {self.installer_id} ({self.status})"


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


BOOKING_NO_OVERLAP = "booking_no_overlap_per_installer"


class PostgresExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint that exists only on PostgreSQL. Elsewhere (SQLite in development
    and tests) it produces no SQL and no validation; the service checks overlaps there."""

    def constraint_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        if connections[using].vendor != "postgresql":
            return
        super().validate(model, instance, exclude=exclude, using=using)


class Booking(models.Model):
    """The appointment of an order with its installer. On PostgreSQL two bookings of one installer
    cannot overlap (exclusion constraint, half-open ranges: back-to-back bookings are fine)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="booking")
    installer = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="bookings")
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    all_day = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_at__gt=models.F("start_at")), name="booking_ends_after_start"
            ),
            PostgresExclusionConstraint(
                name=BOOKING_NO_OVERLAP,
                expressions=[
                    (TsTzRange("start_at", "end_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("installer", RangeOperators.EQUAL),
                ],
                violation_error_message="The installer already has a booking at that time.",
            ),
        ]
        indexes = [
            models.Index(fields=["installer", "start_at"], name="booking_installer_start_idx"),
            models.Index(fields=["start_at"], name="booking_start_idx"),  # the list's "booking starts" filter
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.start_at:%Y-%m-%d %H:%M}"

    def starts_on_a_later_day(self, zone: ZoneInfo, now: datetime.datetime) -> bool:
        """Whether the booking starts on a later calendar day than `now`, both read in `zone`
        (the organization's): 00:30 tomorrow is a later day, 23:00 today is not, whatever
        the UTC dates say."""
        return self.start_at.astimezone(zone).date() > now.astimezone(zone).date()
