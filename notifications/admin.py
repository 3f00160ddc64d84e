"""Notifications in the back office: the rules (own admin, tenant-scoped, with a preview
against a real order of the organization), and the order page's messages (a read-only section
of the order admin, which is re-registered here as a subclass of dispatch's)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.admin_base import TenantScopedAdmin
from accounts.zones import local_text, zone_of
from dispatch.admin.orders import OrderAdmin as DispatchOrderAdmin
from installer.forms import JSON_FORMFIELD_OVERRIDES
from notifications import selectors, services, templating
from notifications.exceptions import InvalidNotification
from notifications.models import Notification
from orders.models import Order
from orders.selectors import parse_uuid


class NotificationForm(forms.ModelForm):
    class Meta:
        model = Notification
        fields = (
            "organization",
            "workflow",
            "name",
            "active",
            "trigger_event",
            "step",
            "timing",
            "offset_value",
            "offset_unit",
            "channel",
            "attach_ics",
            "webhook_url",
            "webhook_method",
            "webhook_headers",
            "templates",
        )

    def clean(self):
        cleaned = super().clean()
        workflow = cleaned.get("workflow")
        if workflow is None or self.errors:
            return cleaned
        values = {name: cleaned.get(name, getattr(self.instance, name, None)) for name in services.FIELDS}
        values["offset_value"] = values.get("offset_value") or 0
        values["webhook_headers"] = values.get("webhook_headers") or {}
        try:
            cleaned.update(services.clean_values(workflow.organization, workflow, values))
        except InvalidNotification as exc:
            details = exc.details or {}
            raise ValidationError([f"{k}: {'; '.join(v)}" for k, v in details.items()] or [str(exc)]) from None
        if cleaned.get("organization") is not None and cleaned["organization"] != workflow.organization:
            raise ValidationError({"workflow": ["The workflow belongs to another organization."]})
        return cleaned


@admin.register(Notification)
class NotificationAdmin(TenantScopedAdmin):
    form = NotificationForm
    tenant_field = "organization"
    list_display = ("name", "workflow", "trigger_event", "timing", "channel", "active")
    list_select_related = ("workflow",)
    list_filter = ("active", "channel", "trigger_event")
    search_fields = ("name",)
    formfield_overrides = JSON_FORMFIELD_OVERRIDES
    readonly_fields = ("preview_link",)
    fieldsets = (
        (None, {"fields": ("organization", "workflow", "name", "active")}),
        ("When", {"fields": ("trigger_event", "step", "timing", "offset_value", "offset_unit")}),
        ("How", {"fields": ("channel", "attach_ics", "webhook_url", "webhook_method", "webhook_headers")}),
        (
            "What",
            {
                "fields": ("templates", "preview_link"),
                "description": "Handlebars over the documented context (docs/notifications.md): "
                + ", ".join(sorted(templating.LEAVES)),
            },
        ),
    )

    def save_model(self, request, obj, form, change):
        values = {name: getattr(obj, name) for name in services.FIELDS}
        if change:
            saved = services.notification_update(notification=obj, **values)
        else:
            saved = services.notification_create(organization=obj.organization, workflow=obj.workflow, **values)
        obj.pk = saved.pk
        obj._state = saved._state

    def delete_model(self, request, obj):
        services.notification_delete(notification=obj)

    @admin.display(description="Preview")
    def preview_link(self, obj):
        if obj is None or obj.pk is None:
            return "Save first, then preview against one of your orders."
        url = reverse("admin:notifications_notification_preview", args=[obj.pk])
        return format_html('<a href="{}">Preview against an order…</a>', url)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="notifications_notification_preview",
            ),
            *super().get_urls(),
        ]

    def preview_view(self, request, object_id):
        """Renders the rule's templates (each language) against one of the organization's
        orders, as the message would read now. Sends nothing."""
        notification = self.get_object(request, object_id)  # tenant-scoped: another's is a 404
        if notification is None or not self.has_view_permission(request, notification):
            from django.http import Http404

            raise Http404
        orders = list(selectors.orders_for_preview(notification.organization))
        chosen = parse_uuid(request.GET.get("order"))
        order = next((o for o in orders if o.pk == chosen), orders[0] if orders else None)
        rendered: list[dict[str, Any]] = []
        if order is not None:
            order = (
                Order.objects.select_related("organization", "installer", "workflow", "current_step", "booking")
                .filter(pk=order.pk)
                .first()
            )
            for language in notification.templates or {}:
                try:
                    _, subject, body = services.render_message(notification, order, language=language, condition={})
                    rendered.append({"language": language, "subject": subject, "body": body, "error": ""})
                except templating.TemplateProblem as exc:
                    rendered.append({"language": language, "subject": "", "body": "", "error": str(exc)})
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview: {notification.name}",
            "notification": notification,
            "orders": orders,
            "order": order,
            "rendered": rendered,
            "opts": self.model._meta,
        }
        return render(request, "admin/notifications/preview.html", context)


class OrderAdmin(DispatchOrderAdmin):
    """The order admin with a read-only "Messages" section when the order has messages: what
    was sent, skipped or failed, and why (one query whatever the number of messages)."""

    def get_order_sections(self, request: HttpRequest, order: Order) -> list[dict[str, Any]]:
        zone = zone_of(order.organization)
        messages = [
            {
                "message": m,
                "created": local_text(m.created_at, zone),
                "due": local_text(m.due_at, zone),
                "sent": local_text(m.sent_at, zone) if m.sent_at else "",
            }
            for m in selectors.messages_of(order)
        ]
        sections = super().get_order_sections(request, order)
        if not messages:
            return sections  # no section for an order that has none
        html = render_to_string("admin/notifications/order_messages.html", {"rows": messages}, request=request)
        return [*sections, {"key": "messages", "title": "Messages", "html": html}]


admin.site.unregister(Order)
admin.site.register(Order, OrderAdmin)
