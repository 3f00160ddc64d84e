"""The partner workspace's statement page (/partner/statement/): the signed-in installer's own
completed orders for one router in a period, with its payouts and the VAT on them, on the page,
as CSV or as PDF. Only the partner's own statement exists here: the router is one it works for,
the installer is always the signed-in organization. Technicians have no statements (403)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from installer.errors import DomainError
from invoicing import selectors, statements
from invoicing.basis import decimal_text
from invoicing.exports.pdf import money_text, render_statement_pdf
from invoicing.periods import parse_period
from partners.workspace import Workspace, partner_view
from pricing.models import unit_text


class PartnerStatementForm(forms.Form):
    router = forms.ChoiceField(label=gettext_lazy("Customer organization"))
    date_from = forms.DateField(label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, routers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["router"].choices = [(str(r.pk), r.name) for r in routers]


@require_GET
@partner_view
def statement(request: HttpRequest) -> HttpResponse:
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    if ws.only_assigned:
        return render(
            request,
            "partners/forbidden.html",
            {"ws": ws, "message": _("Statements are for the company's admins and dispatchers.")},
            status=403,
        )
    routers = selectors.routers_of_installer(ws.organization)
    today = timezone.now().astimezone(ws.zone).date()
    initial = {"date_from": today.replace(day=1), "date_to": today, "router": str(routers[0].pk) if routers else ""}
    form = PartnerStatementForm(request.GET or None, routers=routers, initial=initial)
    result = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            router = next(r for r in routers if str(r.pk) == form.cleaned_data["router"])
            try:
                date_from, date_to = parse_period(
                    {"from": request.GET.get("date_from", ""), "to": request.GET.get("date_to", "")}
                )
            except DomainError:
                form.add_error("date_to", _("Choose a period of at most a year, the end on or after the start."))
                status = 400
            else:
                result = statements.statement_build(
                    router=router, installer=ws.organization, date_from=date_from, date_to=date_to, zone=ws.zone
                )
                fmt = request.GET.get("format", "")
                name = f"statement-{router.slug}-{date_from}-{date_to}"
                if fmt == "csv":
                    response = HttpResponse(statements.statement_csv(result), content_type="text/csv; charset=utf-8")
                    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
                    return response
                if fmt == "pdf":
                    response = HttpResponse(render_statement_pdf(result), content_type="application/pdf")
                    response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
                    return response
        else:
            status = 400
    query = request.GET.copy()
    query.pop("format", None)
    context = {
        "ws": ws,
        "form": form,
        "statement": result,
        "rows": [
            {"row": row, "payout": money_text(row.payout), "vat": money_text(row.payout_vat)}
            for row in (result.rows if result else ())
        ],
        "totals": (
            {
                "payout": money_text(result.payout, result.currency),
                "vat": money_text(result.payout_vat, result.currency),
                "gross": money_text(result.payout + result.payout_vat, result.currency),
            }
            if result
            else None
        ),
        "query": query.urlencode(),
        "zone": ws.zone.key,
        "nav": "statement",
    }
    return render(request, "invoicing/partner_statement.html", context, status=status)


def job_work(order) -> dict:
    """The job page's "Work" section: the delivered lines once recorded, else the accepted
    quote's chosen lines (what completing will record). Descriptions and quantities only:
    the payer's prices are not the installer's to see. Two queries at most."""
    from invoicing.models import DeliveredLine
    from pricing import selectors as pricing_selectors

    delivered = list(DeliveredLine.objects.filter(order=order).order_by("position", "created_at"))
    if delivered:
        return {
            "recorded": True,
            "lines": [
                {
                    "description": line.description,
                    "quantity": decimal_text(line.quantity),
                    "unit": unit_text(line.unit),
                    "pending": not line.billable,
                }
                for line in delivered
            ],
        }
    return {
        "recorded": False,
        "lines": [
            {
                "description": line.description,
                "quantity": decimal_text(line.quantity),
                "unit": unit_text(line.unit),
                "pending": False,
            }
            for line in pricing_selectors.accepted_quote_lines(order)
        ],
    }
