"""Priced work in the back office: the product catalogue (tenant-scoped, tags as names), quotes
(read-only, with actions to send, withdraw, and accept or reject on the customer's word), and a
"Quotes" section on the order page (the order admin is re-registered as a subclass of the one
registered before, as notifications does)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.admin_base import TenantScopedAdmin, TenantScopedInline
from installer.errors import DomainError
from orders.actors import Actor
from orders.models import Order
from pricing import selectors, services
from pricing.api.presenters import ROUTER, quote_totals
from pricing.customer import format_amount
from pricing.models import Product, Quote, QuoteLine


class ProductForm(forms.ModelForm):
    tag_names = forms.CharField(required=False, label="Tags", help_text="Comma-separated names.")

    class Meta:
        model = Product
        fields = (
            "organization",
            "name",
            "description",
            "unit",
            "external_id",
            "currency",
            "vat_rate",
            "prices_include_vat",
            "unit_amount",
            "payout_percent",
            "payout_amount",
            "shared_with_partners",
            "active",
        )
        help_texts = {
            "unit_amount": "The payer's price per unit in minor units (øre): 129900 is 1 299,00 kr.",
            "payout_amount": "The installer's payout per unit in minor units; or give a payout percent.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["tag_names"].initial = ", ".join(sorted(self.instance.tags.names()))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("payout_percent") is not None and cleaned.get("payout_amount") is not None:
            raise forms.ValidationError("Give a payout percent or a payout amount, not both.")
        external_id = cleaned.get("external_id") or None
        organization = cleaned.get("organization") or getattr(self.instance, "organization", None)
        if external_id and organization is not None:
            clash = Product.objects.filter(organization=organization, external_id=external_id)
            if clash.exclude(pk=self.instance.pk).exists():
                self.add_error("external_id", "Another product of this organization has this external id.")
        return cleaned


@admin.register(Product)
class ProductAdmin(TenantScopedAdmin):
    form = ProductForm
    list_display = ("name", "organization", "unit", "price", "vat_rate", "payout", "shared_with_partners", "active")
    list_select_related = ("organization",)
    list_filter = ("active", "shared_with_partners", "unit", "organization")
    search_fields = ("name", "external_id", "description")
    ordering = ("name", "id")

    @admin.display(description="Price")
    def price(self, obj: Product) -> str:
        suffix = " incl. VAT" if obj.prices_include_vat else " excl. VAT"
        return format_amount(obj.unit_amount, obj.currency, "en") + suffix

    @admin.display(description="Payout")
    def payout(self, obj: Product) -> str:
        if obj.payout_percent is not None:
            return f"{obj.payout_percent} %"
        if obj.payout_amount is not None:
            return format_amount(obj.payout_amount, obj.currency, "en") + " / unit"
        return "–"

    def save_model(self, request, obj, form, change):
        names = [n for n in (form.cleaned_data.get("tag_names") or "").split(",") if n.strip()]
        data = {name: getattr(obj, name) for name in services.PRODUCT_FIELDS}
        data["tags"] = names
        if change:
            saved = services.product_update(product_id=obj.pk, organization=obj.organization, data=data)
        else:
            saved = services.product_create(organization=obj.organization, data=data)
        obj.pk = saved.pk
        obj._state = saved._state

    def save_related(self, request, form, formsets, change):
        pass  # tags are set by the service (the form has no many-to-many fields of its own)


class QuoteLineInline(TenantScopedInline, admin.TabularInline):
    model = QuoteLine
    parent_tenant_field = "organization"
    extra = 0
    can_delete = False
    fields = (
        "position",
        "description",
        "quantity",
        "unit",
        "unit_amount",
        "discount_percent",
        "vat_rate",
        "prices_include_vat",
        "payout_percent",
        "payout_amount",
        "optional",
        "chosen",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _act_on_quotes(modeladmin, request, queryset, action: str) -> None:
    actor = Actor.for_user(request.user)
    done = failed = 0
    for quote in queryset:
        try:
            services.quote_act(
                quote_id=quote.pk, action=action, author=services.Author(organization=quote.organization, actor=actor)
            )
            done += 1
        except DomainError as exc:
            failed += 1
            modeladmin.message_user(request, f"Quote {quote}: {exc.message}", messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{done} quote(s): {action} done.", messages.SUCCESS)


@admin.action(description="Send the selected draft quotes to the customer", permissions=["change"])
def send_quotes(modeladmin, request, queryset):
    _act_on_quotes(modeladmin, request, queryset, "send")


@admin.action(description="Withdraw the selected quotes", permissions=["change"])
def withdraw_quotes(modeladmin, request, queryset):
    _act_on_quotes(modeladmin, request, queryset, "withdraw")


@admin.action(description="Accept on the customer's word (all optional lines left out)", permissions=["change"])
def accept_quotes(modeladmin, request, queryset):
    _act_on_quotes(modeladmin, request, queryset, "accept")


@admin.action(description="Reject on the customer's word", permissions=["change"])
def reject_quotes(modeladmin, request, queryset):
    _act_on_quotes(modeladmin, request, queryset, "reject")


@admin.register(Quote)
class QuoteAdmin(TenantScopedAdmin):
    """Quotes are written through the API and the partner workspace; here they are read and
    moved on (send, withdraw, accept or reject on the customer's word, recorded as such)."""

    list_display = ("__str__", "order", "status", "payer", "gross", "created_by_label", "decided_via", "created_at")
    list_select_related = ("order", "organization")
    list_filter = ("status", "payer", "organization")
    search_fields = ("order__display_id",)
    inlines = [QuoteLineInline]
    actions = [send_quotes, withdraw_quotes, accept_quotes, reject_quotes]
    readonly_fields = (
        "organization",
        "order",
        "step",
        "payer",
        "status",
        "currency",
        "valid_until",
        "note",
        "created_by_label",
        "created_by_type",
        "decided_by_label",
        "decided_via",
        "sent_at",
        "decided_at",
        "total_net",
        "total_vat",
        "total_gross",
        "total_payout",
        "version",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines")

    def has_add_permission(self, request):
        return False

    @admin.display(description="Gross")
    def gross(self, obj: Quote) -> str:
        return format_amount(quote_totals(obj).gross, obj.currency, "en")


def _quotes_section(order: Order) -> dict[str, Any] | None:
    quotes = selectors.quotes_of_orders([order.pk]).get(order.pk, [])
    if not quotes:
        return None
    rows = []
    for quote in quotes:
        totals = quote_totals(quote)
        rows.append(
            {
                "quote": quote,
                "url": reverse("admin:pricing_quote_change", args=[quote.pk]),
                "net": format_amount(totals.net, quote.currency, "en"),
                "vat": format_amount(totals.vat, quote.currency, "en"),
                "gross": format_amount(totals.gross, quote.currency, "en"),
                "payout": format_amount(totals.payout, quote.currency, "en"),
                "lines": len(quote.lines.all()),
            }
        )
    return {"rows": rows, "audience": ROUTER}


_previous_order_admin = admin.site.get_model_admin(Order)
_BaseOrderAdmin = type(_previous_order_admin)


class OrderAdmin(_BaseOrderAdmin):  # type: ignore[valid-type,misc]
    """The order admin with a "Quotes" section: each quote's state and totals (payer's net, VAT,
    gross and the installer's payout), linked to the quote's page (two queries)."""

    # Actions other apps added to the registered instance (portal's link rotation) stay.
    actions = list(_previous_order_admin.actions or ())

    def get_order_sections(self, request: HttpRequest, order: Order) -> list[dict[str, Any]]:
        sections = super().get_order_sections(request, order)
        context = _quotes_section(order)
        if context is None:
            return sections
        html = render_to_string("admin/pricing/order_quotes.html", context, request=request)
        return [*sections, {"key": "quotes", "title": "Quotes", "html": html}]


admin.site.unregister(Order)
admin.site.register(Order, OrderAdmin)
