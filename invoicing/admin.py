"""Invoicing in the back office: the order page's "Invoicing" section (state, delivered lines,
approving extras, the documents' downloads), the "Mark invoiced" button and bulk action, the
invoice list with its downloads, and partner statements. Every write calls the API's service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.admin_base import TenantScopedAdmin, readable_org_ids, role_in, writable_org_ids
from accounts.models import Organization
from accounts.zones import local_text, zone_of
from dispatch.models import Partnership
from installer.errors import DomainError
from invoicing import selectors, services, statements
from invoicing.basis import InvoiceBasis, basis_of_invoice, decimal_text
from invoicing.exports.csv import render_csv
from invoicing.exports.pdf import money_text, render_invoice_pdf, render_statement_pdf
from invoicing.exports.ubl import render_ubl
from invoicing.models import Invoice, InvoiceKind
from invoicing.periods import parse_period
from orders.actors import Actor
from orders.admin.actions import OrderButton, back_to, render_action_form
from orders.models import Order, OrderStatus
from pricing.models import unit_text

FORMATS = {
    "pdf": ("application/pdf", "inline"),
    "xml": ("application/xml; charset=utf-8", "attachment"),
    "csv": ("text/csv; charset=utf-8", "attachment"),
}


def document_response(doc: InvoiceBasis, fmt: str) -> HttpResponse:
    content_type, disposition = FORMATS[fmt]
    if fmt == "pdf":
        body = render_invoice_pdf(doc)
    elif fmt == "xml":
        body = render_ubl(doc)
    else:
        body = render_csv([doc])
    name = f"{'credit-note' if doc.is_credit_note else 'invoice'}-{doc.number}.{fmt}"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response


def _may_write(request: HttpRequest, organization_id: Any) -> bool:
    org_ids = writable_org_ids(request)
    return org_ids is None or organization_id in org_ids


def invoice_view(model_admin: admin.ModelAdmin, request: HttpRequest, order: Order) -> HttpResponse:
    """One order: a confirmation with the basis' totals, then `services.order_invoice`."""
    form = forms.Form(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            invoice = services.order_invoice(
                order_id=order.pk, organization=order.organization, actor=Actor.for_user(request.user)
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Order {order.display_id} invoiced: invoice {invoice.number}.")
        return back_to(order)
    basis = services.order_basis(order)
    preview = (
        f"Invoice to the {basis.payer}: {money_text(basis.gross, basis.currency)} including VAT "
        f"({len(basis.lines)} lines); the installer's payout {money_text(basis.payout, basis.currency)}. "
        "The lines are frozen afterwards; corrections are credit notes."
    )
    if basis.pending_extras:
        preview += f" {basis.pending_extras} extra line(s) waiting for approval are not billed."
    return render_action_form(
        request,
        model_admin,
        title=f"Mark order {order.display_id} invoiced",
        form=form,
        orders=[order],
        submit="Mark invoiced",
        preview=preview,
    )


@admin.action(description="Mark selected completed orders invoiced")
def mark_invoiced(modeladmin, request, queryset):
    """Each order through `services.order_invoice`; orders that are not completed or are
    invoiced already are reported and left as they are."""
    done, refused = [], []
    for order in queryset.select_related("organization").order_by("created_at", "id"):
        try:
            invoice = services.order_invoice(
                order_id=order.pk, organization=order.organization, actor=Actor.for_user(request.user)
            )
        except DomainError as exc:
            refused.append(f"{order.display_id}: {exc.message}")
        else:
            done.append(f"{order.display_id} ({invoice.number})")
    if done:
        messages.success(request, f"Invoiced {len(done)}: {', '.join(done)}.")
    if refused:
        messages.warning(request, f"Not invoiced {len(refused)}: {'; '.join(refused)}")


# The order admin as the apps before this one left it (their actions included: portal adds its
# action to the registered instance).
_registered = admin.site.get_model_admin(Order)
OrderAdminBase: Any = type(_registered)


class OrderAdmin(OrderAdminBase):
    """The order admin with invoicing: a section, a button and a bulk action."""

    actions = [*(_registered.actions or ()), mark_invoiced]

    def get_order_buttons(self, request: HttpRequest, order: Order) -> list[OrderButton]:
        buttons = list(super().get_order_buttons(request, order))
        if (
            order.status == OrderStatus.COMPLETED
            and _may_write(request, order.organization_id)
            and not Invoice.objects.filter(order=order, kind=InvoiceKind.INVOICE).exists()
        ):
            buttons.append(OrderButton("invoice", "Mark invoiced…", invoice_view))
        return buttons

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/invoicing/lines/<str:line_id>/approve/",
                self.admin_site.admin_view(self.approve_line_view),
                name="invoicing_line_approve",
            ),
        ]
        return urls + super().get_urls()

    def approve_line_view(self, request: HttpRequest, object_id: str, line_id: str) -> HttpResponse:
        order = self.get_object(request, object_id)
        if request.method != "POST" or not _may_write(request, order.organization_id):
            raise Http404("Not available.")
        try:
            services.delivered_line_approve(
                order_id=order.pk, line_id=line_id, organization=order.organization, actor=Actor.for_user(request.user)
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Extra line approved: it is billed with the order.")
        return back_to(order)

    def get_order_sections(self, request: HttpRequest, order: Order) -> list[dict[str, Any]]:
        """Adds "Invoicing": the state, the basis or the frozen documents, the delivered lines
        (pending extras with an approve button), for an order in progress or completed (before,
        there is nothing to invoice). A bounded number of queries."""
        sections = super().get_order_sections(request, order)
        if order.status not in (OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED):
            return sections
        docs = selectors.documents(order)
        invoice = next((d for d in docs if d.kind == InvoiceKind.INVOICE), None)
        lines = list(selectors.delivered_lines(order))
        basis = basis_of_invoice(invoice) if invoice else services.order_basis(order)
        zone = zone_of(order.organization)
        context = {
            "order": order,
            "state": selectors.invoice_state(invoice),
            "invoice": invoice,
            "issued": local_text(invoice.issued_at, zone) if invoice else "",
            "documents": [
                {
                    "doc": d,
                    "label": str(d),
                    "gross": money_text(d.gross, d.currency),
                    "links": [
                        (fmt.upper(), reverse("admin:invoicing_invoice_download", args=[d.pk, fmt])) for fmt in FORMATS
                    ],
                }
                for d in docs
            ],
            "basis": basis,
            "totals": {
                "net": money_text(basis.net, basis.currency),
                "vat": money_text(basis.vat, basis.currency),
                "gross": money_text(basis.gross, basis.currency),
                "payout": money_text(basis.payout, basis.currency),
            },
            "lines": [
                {
                    "line": line,
                    "price": money_text(line.unit_amount),
                    "quantity": decimal_text(line.quantity),
                    "unit": unit_text(line.unit),
                    "vat_rate": decimal_text(line.vat_rate),
                    "approve_url": (
                        reverse("admin:invoicing_line_approve", args=[order.pk, line.pk])
                        if not line.billable and invoice is None and _may_write(request, order.organization_id)
                        else ""
                    ),
                }
                for line in lines
            ],
            "completion": getattr(order, "completion", None) if hasattr(order, "completion") else None,
        }
        html = render_to_string("invoicing/admin/order_section.html", context, request=request)
        return [*sections, {"key": "invoicing", "title": "Invoicing", "html": html}]


admin.site.unregister(Order)
admin.site.register(Order, OrderAdmin)


class StatementForm(forms.Form):
    installer = forms.ModelChoiceField(queryset=Organization.objects.none())
    date_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, installers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["installer"].queryset = installers


@admin.register(Invoice)
class InvoiceAdmin(TenantScopedAdmin):
    """Issued invoices and credit notes: read only (they are frozen), with their downloads, and
    the partner statements page."""

    list_display = ("number", "kind", "order_link", "payer", "gross_text", "issue_date", "downloads")
    list_filter = ("kind", "payer", ("issue_date", admin.DateFieldListFilter))
    list_select_related = ("order", "organization")
    search_fields = ("=number", "=order__display_id")
    ordering = ("-number",)
    list_per_page = 50
    change_list_template = "invoicing/admin/invoice_change_list.html"
    readonly_fields = (
        "number",
        "kind",
        "organization",
        "order",
        "credited_invoice",
        "payer",
        "currency",
        "net",
        "vat",
        "gross",
        "payout",
        "issue_date",
        "due_date",
        "delivered_on",
        "actor_label",
        "downloads",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Order", ordering="order__display_id")
    def order_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[obj.order_id]), obj.order.display_id
        )

    @admin.display(description="Gross", ordering="gross")
    def gross_text(self, obj):
        return money_text(obj.gross, obj.currency)

    @admin.display(description="Download")
    def downloads(self, obj):
        return format_html(
            " · ".join(
                f'<a href="{reverse("admin:invoicing_invoice_download", args=[obj.pk, fmt])}">{fmt.upper()}</a>'
                for fmt in FORMATS
            )
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/download/<str:fmt>/",
                self.admin_site.admin_view(self.download_view),
                name="invoicing_invoice_download",
            ),
            path("statement/", self.admin_site.admin_view(self.statement_view), name="invoicing_statement"),
            *super().get_urls(),
        ]

    def download_view(self, request: HttpRequest, object_id: str, fmt: str) -> HttpResponse:
        if fmt not in FORMATS or not self.has_view_permission(request):
            raise Http404("Not found.")
        invoice = self.get_object(request, object_id)  # another organization's: 404
        invoice = Invoice.objects.select_related("order", "installer", "credited_invoice").get(pk=invoice.pk)
        return document_response(basis_of_invoice(invoice), fmt)

    def statement_view(self, request: HttpRequest) -> HttpResponse:
        """A partner statement of one of the user's organizations, on the page, as CSV or PDF."""
        if not self.has_view_permission(request):
            raise Http404("Not found.")
        org_ids = readable_org_ids(request)
        partnerships = Partnership.objects.select_related("router", "installer")
        if org_ids is not None:
            partnerships = partnerships.filter(router_id__in=org_ids)
        installers = Organization.objects.filter(pk__in=partnerships.values("installer_id")).order_by("name")
        form = StatementForm(request.GET or None, installers=installers)
        statement = None
        if form.is_bound and form.is_valid():
            installer = form.cleaned_data["installer"]
            partnership = partnerships.filter(installer=installer).order_by("router__name").first()
            if partnership is None or role_in(request, partnership.router_id) is None:
                raise Http404("Not found.")
            params = {"from": request.GET.get("date_from", ""), "to": request.GET.get("date_to", "")}
            try:
                date_from, date_to = parse_period(params)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                router = partnership.router
                statement = statements.statement_build(
                    router=router, installer=installer, date_from=date_from, date_to=date_to, zone=zone_of(router)
                )
                fmt = request.GET.get("format", "")
                name = f"statement-{installer.slug}-{date_from}-{date_to}"
                if fmt == "csv":
                    response = HttpResponse(statements.statement_csv(statement), content_type=FORMATS["csv"][0])
                    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
                    return response
                if fmt == "pdf":
                    response = HttpResponse(render_statement_pdf(statement), content_type=FORMATS["pdf"][0])
                    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
                    return response
        query = request.GET.copy()
        query.pop("format", None)
        context = {
            **self.admin_site.each_context(request),
            "title": "Partner statement",
            "form": form,
            "statement": statement,
            "rows": [
                {"row": row, "payout": money_text(row.payout), "vat": money_text(row.payout_vat)}
                for row in (statement.rows if statement else ())
            ],
            "totals": (
                {
                    "payout": money_text(statement.payout, statement.currency),
                    "vat": money_text(statement.payout_vat, statement.currency),
                    "gross": money_text(statement.payout + statement.payout_vat, statement.currency),
                }
                if statement
                else None
            ),
            "query": query.urlencode(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "invoicing/admin/statement.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "statement_url": reverse("admin:invoicing_statement")}
        return super().changelist_view(request, extra_context)
