"""Back office: endpoints (create shows the secret once; test event; enable) and the delivery log
with every attempt inline ("send again"). Tenant-scoped like the rest of the back office. The
dashboard's webhooks panel is rendered by backoffice.dashboard from webhooks.selectors."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from accounts.admin_base import TenantScopedAdmin, TenantScopedInline
from webhooks import services
from webhooks.exceptions import InvalidEndpoint
from webhooks.models import WEBHOOK_EVENTS, DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    url = forms.CharField(max_length=2000, help_text="http:// or https://")
    events = forms.MultipleChoiceField(
        choices=[(e, e) for e in WEBHOOK_EVENTS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None checked = every event.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("organization", "url", "description", "events", "active")

    def clean_url(self):
        try:
            return services.clean_url(self.cleaned_data.get("url"))
        except InvalidEndpoint as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantScopedAdmin):
    tenant_field = "organization"
    form = WebhookEndpointForm
    list_display = ("url", "organization", "state", "events_label", "failing_since", "created_at")
    list_filter = ("active",)
    list_select_related = ("organization",)
    search_fields = ("url", "organization__name")
    readonly_fields = ("disabled_reason", "failing_since", "rotated_at", "created_at")
    actions = ["send_test_event", "enable"]

    @admin.display(description="state")
    def state(self, obj):
        if obj.active:
            return format_html('<span style="color:#15803d">{}</span>', "active")
        return format_html('<strong style="color:#b91c1c">disabled</strong> {}', obj.disabled_reason)

    @admin.display(description="events")
    def events_label(self, obj):
        return ", ".join(obj.events) if obj.events else "all"

    def save_model(self, request, obj, form, change):
        if change:
            fields = {
                f: form.cleaned_data[f] for f in form.changed_data if f in ("url", "events", "description", "active")
            }
            services.endpoint_update(endpoint=obj, **fields)
            return
        endpoint, secret = services.endpoint_create(
            organization=obj.organization,
            url=obj.url,
            events=obj.events,
            active=obj.active,
            description=obj.description,
        )
        obj.pk, obj.secret, obj.created_at = endpoint.pk, endpoint.secret, endpoint.created_at
        messages.warning(request, f"Signing secret, shown only now: {secret}")

    @admin.action(description="Send a test event")
    def send_test_event(self, request, queryset):
        for endpoint in queryset:
            services.delivery_send_test(endpoint=endpoint)
        self.message_user(request, f"Queued a webhook.test delivery to {queryset.count()} endpoint(s).")

    @admin.action(description="Enable (clears the failure state and sends what waited)")
    def enable(self, request, queryset):
        for endpoint in queryset:
            services.endpoint_update(endpoint=endpoint, active=True)
        self.message_user(request, f"Enabled {queryset.count()} endpoint(s).")


class DeliveryAttemptInline(TenantScopedInline, admin.TabularInline):
    parent_tenant_field = "endpoint__organization"
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("number", "created_at", "status_code", "duration_ms", "error", "response")
    readonly_fields = fields

    @admin.display(description="response (first 2 KB)")
    def response(self, obj):
        return format_html("<pre style='white-space:pre-wrap;max-width:60em'>{}</pre>", obj.response_excerpt)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(TenantScopedAdmin):
    tenant_field = "endpoint__organization"
    list_display = (
        "event_type",
        "endpoint",
        "organization",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
        "created_at",
    )
    list_filter = ("status", "event_type")
    list_select_related = ("endpoint__organization",)
    search_fields = ("=event__id", "endpoint__url")
    readonly_fields = (
        "endpoint",
        "event",
        "event_type",
        "status",
        "attempts",
        "next_attempt_at",
        "locked_until",
        "window_started_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
    )
    raw_id_fields = ("event",)
    inlines = [DeliveryAttemptInline]
    actions = ["send_again"]
    show_full_result_count = False

    @admin.display(description="organization")
    def organization(self, obj):
        return obj.endpoint.organization

    def has_add_permission(self, request):
        return False

    @admin.action(description="Send again")
    def send_again(self, request, queryset):
        sent = 0
        for delivery in queryset:
            if delivery.status not in (DeliveryStatus.PENDING, DeliveryStatus.DELIVERING):
                services.delivery_send_again(delivery=delivery)
                sent += 1
        self.message_user(request, f"Queued {sent} delivery(ies) again; pending ones were left as they are.")
