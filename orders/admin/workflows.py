"""Workflows (with their steps and custom fields inline) and order tags in the back office."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from accounts.admin_base import TenantScopedAdmin, TenantScopedInline
from installer.forms import JSON_FORMFIELD_OVERRIDES
from orders.models import CustomFieldDefinition, OrderTag, Workflow, WorkflowStep


class WorkflowStepInline(TenantScopedInline, admin.TabularInline):
    model = WorkflowStep
    extra = 0
    formfield_overrides = JSON_FORMFIELD_OVERRIDES
    fields = ("position", "key", "title", "status", "actor", "required", "requires_accepted_quote", "descriptions")


class CustomFieldInline(TenantScopedInline, admin.TabularInline):
    model = CustomFieldDefinition
    extra = 0
    formfield_overrides = JSON_FORMFIELD_OVERRIDES
    fields = ("position", "custom_id", "label", "type", "required", "options", "help_text")


@admin.register(Workflow)
class WorkflowAdmin(TenantScopedAdmin):
    list_display = ("name", "custom_id", "organization", "is_default", "active", "routing_strategy")
    list_select_related = ("organization",)
    list_filter = ("active", "organization")
    search_fields = ("name", "custom_id")
    inlines = [WorkflowStepInline, CustomFieldInline]
    formfield_overrides = JSON_FORMFIELD_OVERRIDES
    fieldsets = (
        (None, {"fields": ("organization", "custom_id", "name", "description", "active", "is_default")}),
        ("Dispatch", {"fields": ("required_skills",)}),
        ("Priced work", {"fields": ("partners_may_quote",)}),
        (
            "Routing overrides (empty = the organization's setting)",
            {
                "fields": (
                    "routing_strategy",
                    "offers_at_once",
                    "offer_deadline_hours",
                    "deadline_skips_weekends",
                    "fallback_enabled",
                    "auto_dispatch",
                )
            },
        ),
    )

    def has_delete_permission(self, request, obj=None):
        return False  # orders keep pointing at their workflow; deactivate it instead


@admin.register(OrderTag)
class OrderTagAdmin(TenantScopedAdmin):
    list_display = ("name", "swatch", "organization", "created_at")
    list_select_related = ("organization",)
    list_filter = ("organization",)
    search_fields = ("name",)
    fields = ("organization", "name", "color")

    @admin.display(description="Colour")
    def swatch(self, obj):
        return format_html(
            '<span style="display:inline-block;width:14px;height:14px;border-radius:3px;background:{}"></span>',
            obj.color,
        )
