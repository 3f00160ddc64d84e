"""Workflows, orders, tags, files and the timeline.

Invariants that must hold for every row live in the database too (CheckConstraint and
UniqueConstraint), so no code path, however it writes, can break them.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models, transaction
from django.db.models import F
from django.db.models.functions import Lower, Upper
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase

from accounts.models import Language, Organization, OrganizationTag, RoutingStrategy


class OrderStatus(models.IntegerChoices):
    """The numbers are the wire format (API.md)."""

    CREATED = 0, "created"
    DISPATCHING = 1, "dispatching"
    SCHEDULED = 2, "scheduled"
    IN_PROGRESS = 3, "in_progress"
    COMPLETED = 4, "completed"
    DECLINED = 5, "declined"
    CANCELLED = 6, "cancelled"


STATUS_NAMES = {s.value: s.label for s in OrderStatus}
STATUS_BY_NAME = {s.label: s.value for s in OrderStatus}


class Workflow(models.Model):
    """An order template: custom fields, steps and routing overrides."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="workflows")
    custom_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False)
    required_skills = models.JSONField(default=list, blank=True, help_text="Skills a partnership must list.")
    # Routing overrides; null = use the organization's setting.
    routing_strategy = models.CharField(max_length=20, choices=RoutingStrategy.choices, null=True, blank=True)
    offers_at_once = models.PositiveSmallIntegerField(null=True, blank=True)
    offer_deadline_hours = models.PositiveIntegerField(null=True, blank=True)
    deadline_skips_weekends = models.BooleanField(null=True, blank=True)
    fallback_enabled = models.BooleanField(null=True, blank=True)
    auto_dispatch = models.BooleanField(null=True, blank=True)
    # Priced work (pricing, docs/money.md): the assigned installer partner may write and send
    # quotes on this workflow's orders.
    partners_may_quote = models.BooleanField(
        default=False, help_text="The assigned installer partner may write and send quotes on these orders."
    )
    # Bumped in the transaction of every change to the workflow's steps or custom field
    # definitions (any save, delete, queryset update or bulk create of them), so that readers
    # may cache those per (workflow id, version): see orders.workflow_cache.
    version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "custom_id"], name="workflow_custom_id_unique"),
            models.UniqueConstraint(
                fields=["organization"], condition=models.Q(is_default=True), name="workflow_one_default_per_org"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def routing(self, name: str):
        """The effective routing setting: the workflow's override, else the organization's."""
        value = getattr(self, name)
        return getattr(self.organization, name) if value is None else value


def bump_workflow_versions(workflow_ids, using: str | None = None) -> None:
    """Invalidates the cached steps and field definitions of these workflows (any iterable of ids
    or a queryset of them). Call inside the transaction of the change."""
    Workflow.objects.using(using).filter(pk__in=workflow_ids).update(version=F("version") + 1)


class WorkflowPartQuerySet(models.QuerySet):
    """Steps and custom field definitions: every bulk write bumps their workflows' version."""

    def update(self, **kwargs):
        with transaction.atomic(using=self.db, savepoint=False):
            bump_workflow_versions(list(self.values_list("workflow_id", flat=True).distinct()), self.db)
            return super().update(**kwargs)

    def delete(self):
        with transaction.atomic(using=self.db, savepoint=False):
            bump_workflow_versions(list(self.values_list("workflow_id", flat=True).distinct()), self.db)
            return super().delete()

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        with transaction.atomic(using=self.db, savepoint=False):
            created = super().bulk_create(objs, *args, **kwargs)
            bump_workflow_versions({o.workflow_id for o in objs}, self.db)
        return created


class WorkflowPart(models.Model):
    """A step or field definition: saving or deleting one bumps its workflow's version."""

    objects = WorkflowPartQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        using = kwargs.get("using") or self._state.db
        with transaction.atomic(using=using, savepoint=False):
            super().save(*args, **kwargs)
            bump_workflow_versions([self.workflow_id], using)

    def delete(self, *args, **kwargs):
        using = kwargs.get("using") or self._state.db
        with transaction.atomic(using=using, savepoint=False):
            bump_workflow_versions([self.workflow_id], using)
            return super().delete(*args, **kwargs)


class StepActor(models.TextChoices):
    OPERATOR = "operator", "Operator"
    INSTALLER = "installer", "Installer"
    CUSTOMER = "customer", "Customer"


class WorkflowStep(WorkflowPart):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="steps")
    key = models.SlugField(max_length=64)
    title = models.CharField(max_length=200)
    status = models.PositiveSmallIntegerField(choices=OrderStatus.choices)
    position = models.PositiveIntegerField(default=0)
    actor = models.CharField(max_length=16, choices=StepActor.choices, default=StepActor.OPERATOR)
    required = models.BooleanField(default=False)
    descriptions = models.JSONField(default=dict, blank=True, help_text='Per audience: {"operator": "...", ...}')
    # The order cannot complete this step, nor leave its status, without an accepted quote
    # (pricing.Quote, read through `Order.quotes`).
    requires_accepted_quote = models.BooleanField(
        default=False, help_text="The order needs an accepted quote to complete this step or move on."
    )

    class Meta:
        ordering = ["workflow", "status", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "key"], name="workflow_step_key_unique"),
            models.CheckConstraint(condition=models.Q(status__gte=0, status__lte=6), name="workflow_step_status_range"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({STATUS_NAMES.get(self.status)})"


class FieldType(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    BOOLEAN = "boolean", "Yes/no"
    DATE = "date", "Date"
    SELECT = "select", "Select one"
    MULTISELECT = "multiselect", "Select several"


class CustomFieldDefinition(WorkflowPart):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="custom_fields")
    custom_id = models.SlugField(max_length=100)
    label = models.CharField(max_length=200)
    type = models.CharField(max_length=16, choices=FieldType.choices, default=FieldType.TEXT)
    required = models.BooleanField(default=False)
    options = models.JSONField(default=list, blank=True, help_text="Choices for select and multiselect.")
    help_text = models.CharField(max_length=500, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["workflow", "position", "custom_id"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "custom_id"], name="custom_field_custom_id_unique"),
            models.CheckConstraint(condition=models.Q(type__in=FieldType.values), name="custom_field_type_valid"),
        ]

    def __str__(self) -> str:
        return self.label


class OrderTag(OrganizationTag):
    """A tag of one organization's orders. Names are unique per organization, case-insensitively."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="tags")
    color = models.CharField(max_length=7, default="#64748b")

    class Meta(OrganizationTag.Meta):
        constraints = [
            models.UniqueConstraint(Lower("name"), "organization", name="order_tag_name_ci_unique_per_org"),
        ]


class TaggedOrder(TaggedItemBase):
    content_object = models.ForeignKey("Order", on_delete=models.CASCADE, related_name="tagged_items")
    tag = models.ForeignKey(OrderTag, on_delete=models.CASCADE, related_name="tagged_orders")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["content_object", "tag"], name="tagged_order_unique")]
        indexes = [models.Index(fields=["tag", "content_object"], name="tagged_order_tag_idx")]


class OrderSource(models.TextChoices):
    API = "api", "API"
    WEBFORM = "webform", "Webform"
    ADMIN = "admin", "Admin"


class CancelReason(models.TextChoices):
    CUSTOMER_NOT_RESPONDING = "customer_not_responding", "Customer not responding"
    CUSTOMER_REJECTED_OFFER = "customer_rejected_offer", "Customer rejected offer"
    NO_CAPACITY = "no_capacity", "No capacity"
    OTHER = "other", "Other"


def new_client_token() -> str:
    return secrets.token_urlsafe(24)


class OrderQuerySet(models.QuerySet):
    def for_organization(self, organization: Organization) -> OrderQuerySet:
        return self.filter(organization=organization)

    def without_test(self) -> OrderQuerySet:
        """Real orders only: what the default lists and the dashboard count."""
        return self.filter(test=False)


class LiveOrderManager(models.Manager.from_queryset(OrderQuerySet)):  # type: ignore[misc]
    """`Order.objects`, the default manager: every read and write of orders goes through it, so
    a deleted order (`deleted_at` set) is absent from all of them (a 404, gone from every list).
    `Order.all_objects` sees deleted orders too: for an idempotency key's owner and the
    webhook deliveries of a deleted order's events."""

    def get_queryset(self) -> OrderQuerySet:
        return super().get_queryset().filter(deleted_at__isnull=True)


# The order's standard customer and address fields: what create and update take
# (orders.services) and what the order object shows of them (orders.selectors).
STANDARD_FIELDS = (
    "name",
    "description",
    "workplace",
    "address",
    "city",
    "postal_code",
    "country_code",
    "latitude",
    "longitude",
    "email",
    "phone_number",
    "contact_person_name",
)


# The text fields `q` searches (orders.filters.OrderFilter.filter_q).
SEARCH_FIELDS = ("name", "contact_person_name", "email", "address")


class Order(models.Model):  # type: ignore[django-manager-missing]  # taggit's through model
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: every index below that starts with it serves it (as the installer's
    # does for `installer`). Each index of orders costs every write an entry (an order's update
    # is never HOT: status and updated_at are indexed).
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="orders", db_index=False)
    # Null only inside the create's transaction, which takes the number as its last statement
    # (orders.services.orders.number_order): a committed order always has both.
    number = models.PositiveBigIntegerField(null=True, editable=False)
    display_id = models.CharField(max_length=32, null=True, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, related_name="orders")
    status = models.PositiveSmallIntegerField(choices=OrderStatus.choices, default=OrderStatus.CREATED, editable=False)
    current_step = models.ForeignKey(
        WorkflowStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    completed_steps = models.JSONField(default=list, blank=True, editable=False)

    name = models.CharField(max_length=200, blank=True)
    # Plain text, or a rich-text document {"type": "doc", "content": [...]}; returned as given.
    description = models.JSONField(null=True, blank=True)
    workplace = models.CharField(max_length=200, blank=True)
    address = models.CharField(max_length=300)
    city = models.CharField(max_length=120)
    postal_code = models.CharField(max_length=20)
    country_code = models.CharField(max_length=2)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    email = models.EmailField(max_length=254)
    phone_number = models.CharField(max_length=32, help_text="E.164")
    contact_person_name = models.CharField(max_length=200)
    # {custom field definition id: value}, validated against the workflow by order services.
    custom_fields = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    actor_assignments = models.JSONField(default=list, blank=True)
    # What the customer reads: the API's `language`, else the webform's Accept-Language, else the
    # organization's `language`. Messages to the customer go out in it (docs/notifications.md).
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN)
    # Where the money stands, kept by the services that change it under the order's lock:
    # the order's quote state (pricing.selectors.quote_state; "" without quotes) and whether it
    # is invoiced (invoicing). Read by the order object (`quoteStatus`, `invoiceStatus`).
    quote_status = models.CharField(max_length=16, blank=True, default="", editable=False)
    invoice_status = models.CharField(max_length=16, default="not_invoiced", editable=False)

    installer = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_orders",
        editable=False,
        db_index=False,  # order_installer_status_idx starts with it
    )
    # The installer's person doing the job (Installer.com's "assignee"): a member of the
    # installer organization, set by dispatch.services.order_assign and cleared when the order
    # is dispatched again. No index of its own: order_installer_assignee_idx serves the
    # technician's list, and deleting a user (SET_NULL) is rare enough to scan for.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_jobs",
        editable=False,
        db_index=False,
    )
    source = models.CharField(max_length=16, choices=OrderSource.choices, default=OrderSource.API)
    webform_id = models.UUIDField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    # Unique by a constraint, not `unique=True`, which on PostgreSQL adds a second index for
    # LIKE prefix searches (varchar_pattern_ops) that nothing runs.
    client_token = models.CharField(max_length=64, default=new_client_token, editable=False)
    cancel_reason = models.CharField(max_length=32, choices=CancelReason.choices, null=True, blank=True)
    cancel_comment = models.TextField(blank=True)
    # Sequence number of the last timeline event; events carry it so receivers can order them.
    event_seq = models.PositiveIntegerField(default=0, editable=False)
    # Made with a test-mode API token: offered to the organization's test installer only, left
    # out of the default lists and the dashboard, and deletable in any status.
    test = models.BooleanField(default=False, editable=False)
    # Set by orders.services.order_delete; a deleted order is absent from `Order.objects`.
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    tags = TaggableManager(through=TaggedOrder, blank=True)

    objects = LiveOrderManager()
    all_objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__gte=0, status__lte=6), name="order_status_range"),
            models.UniqueConstraint(fields=["organization", "display_id"], name="order_display_id_unique"),
            models.UniqueConstraint(fields=["organization", "number"], name="order_number_unique"),
            models.UniqueConstraint(fields=["client_token"], name="order_client_token_unique"),
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="order_idempotency_key_unique",
            ),
        ]
        indexes = [
            # The two lists every router reads: all its orders and by status, newest first. Both
            # carry what every list also asks (not deleted, real or test orders), so that the
            # page's ids and its count are read from the index alone.
            models.Index(
                fields=["organization", "created_at", "id"],
                include=["test", "deleted_at"],
                name="order_org_created_idx",
            ),
            models.Index(
                fields=["organization", "status", "created_at", "id"],
                include=["test", "deleted_at"],
                name="order_org_status_idx",
            ),
            models.Index(fields=["organization", "workflow", "created_at"], name="order_org_workflow_idx"),
            models.Index(fields=["organization", "installer", "created_at"], name="order_org_installer_idx"),
            # The partner's jobs, newest first: all of them, and by status (the status alone
            # also serves the capacity counts).
            models.Index(fields=["installer", "created_at", "id"], name="order_installer_created_idx"),
            models.Index(fields=["installer", "status", "created_at", "id"], name="order_installer_status_idx"),
            # A technician's jobs (installer and assignee, newest first), and the partner's jobs
            # filtered by technician.
            models.Index(fields=["installer", "assignee", "created_at", "id"], name="order_installer_assignee_idx"),
            models.Index(fields=["organization", "postal_code"], name="order_org_postal_idx"),
            models.Index(fields=["organization", "updated_at"], name="order_org_updated_idx"),
            # `q` of List Orders: the display id matches exactly but in any case. The text fields
            # (SEARCH_FIELDS) match a substring in any case through trigram GIN indexes, which
            # exist on PostgreSQL only: orders/migrations/0002_search_indexes.py declares them
            # there, outside the model's state, so that SQLite's table rebuilds never meet them.
            models.Index(Upper("display_id"), name="order_q_display_id_upper"),
        ]

    def __str__(self) -> str:
        return self.display_id or str(self.id)

    @property
    def status_name(self) -> str:
        return STATUS_NAMES[self.status]

    @property
    def client_url(self) -> str:
        return f"{settings.PUBLIC_BASE_URL}/t/{self.client_token}/"


class ActorType(models.TextChoices):
    USER = "user", "User"
    API_TOKEN = "api_token", "API token"
    WEBFORM = "webform", "Webform"
    CUSTOMER = "customer", "Customer"
    INSTALLER = "installer", "Installer"
    SYSTEM = "system", "System"


class OrderEvent(models.Model):
    """The append-only timeline, and the webhook outbox: written in the transaction of the change."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    sequence = models.PositiveIntegerField()
    type = models.CharField(max_length=64)
    from_status = models.PositiveSmallIntegerField(null=True, blank=True)
    to_status = models.PositiveSmallIntegerField(null=True, blank=True)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sequence"], name="order_event_sequence_unique"),
        ]
        indexes = [models.Index(fields=["organization", "created_at"], name="order_event_org_created_idx")]

    def __str__(self) -> str:
        return f"{self.type} #{self.sequence}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("OrderEvent is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("OrderEvent is append-only.")


class File(models.Model):
    """An uploaded file. The storage key is generated (organization/uuid); `name` is display text only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="files")
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="files")
    storage_key = models.CharField(max_length=255, unique=True, editable=False)
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "created_at"], name="file_org_created_idx")]

    def __str__(self) -> str:
        return self.name
