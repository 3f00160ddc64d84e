"""Scorecards in the back office (docs/back-office.md#partner-scorecards):

- a list of every partner's card for the user's organizations (`PartnerScorecard`, a proxy of
  Partnership), 30 or 90 days (`?window=`), the page's cards read in its own query;
- the same cards as CSV: the "Download CSV" link (every partner; `?window=30|90` for one window,
  anything else a 400) and the "Export as CSV" action (the selected partners);
- a panel on each partnership's page with both windows and the score (`scorecard_panel`).
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Sequence

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.admin_base import TenantScopedAdmin, readable_org_ids
from dispatch.models import Partnership
from scorecards import selectors
from scorecards.models import PartnerScorecard
from scorecards.selectors import DEFAULT_WINDOW, WINDOWS, Scorecard, parse_window, scorecards_for
from scorecards.templatetags.scorecards import duration, percent

CSV_COLUMNS = (
    "router",
    "installer",
    "installer_id",
    "window_days",
    "offers_received",
    "accepted",
    "declined",
    "expired",
    "withdrawn",
    "accept_rate",
    "median_seconds_to_accept",
    "declines_by_reason",
    "starts",
    "on_time_starts",
    "on_time_start_rate",
    "completed",
    "cancelled",
    "completion_rate",
    "median_seconds_booked_to_completed",
    "customer_cancellations",
    "score",
    "below_floor",
)


def _number(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{round(value, digits):g}" if digits else str(round(value))


def csv_rows(partnerships: Iterable[Partnership], windows: Sequence[int]) -> Iterable[list[str]]:
    """One row per partner and window, the columns of CSV_COLUMNS (rates 0-1, times in seconds).
    The partnerships' cards are read in one query."""
    partnerships = list(partnerships)
    cards = scorecards_for(partnerships, windows=sorted({*windows, selectors.SCORE_WINDOW_DAYS}))
    for p in partnerships:
        card = cards[p.pk]
        for days in windows:
            w = card.window(days)
            yield [
                p.router.name,
                p.installer.name,
                str(p.installer_id),
                str(days),
                str(w.offers_received),
                str(w.accepted),
                str(w.declined),
                str(w.expired),
                str(w.withdrawn),
                _number(w.accept_rate),
                _number(w.median_seconds_to_accept, 0),
                "; ".join(f"{reason}: {n}" for reason, n in w.declines_by_reason),
                str(w.starts),
                str(w.on_time_starts),
                _number(w.on_time_rate),
                str(w.completed),
                str(w.cancelled),
                _number(w.completion_rate),
                _number(w.median_seconds_booked_to_completed, 0),
                str(w.customer_cancellations),
                f"{card.score.value:g}",
                "yes" if card.score.below_floor else "no",
            ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(partnerships: Iterable[Partnership], windows: Sequence[int]) -> HttpResponse:
    writer = csv.writer(_Echo())
    body = "".join(writer.writerow(row) for row in [list(CSV_COLUMNS), *csv_rows(partnerships, windows)])
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="partner-scorecards-{stamp}.csv"'
    return response


def scorecard_panel(partnership: Partnership, *, now: datetime.datetime | None = None) -> str:
    """The partnership page's panel: both windows side by side and the score. ONE query."""
    if partnership.pk is None:
        return "A partnership has a scorecard once it is saved."
    card = selectors.partner_scorecard(partnership, now=now)
    return render_to_string("scorecards/admin/panel.html", {"card": card, "rows": _panel_rows(card)})


def _panel_rows(card: Scorecard) -> list[tuple[str, list[str]]]:
    windows = [card.window(days) for days in WINDOWS]

    def row(label: str, fn) -> tuple[str, list[str]]:
        return label, [fn(w) for w in windows]

    return [
        row("Offers received", lambda w: str(w.offers_received)),
        row("Accept rate", lambda w: f"{percent(w.accept_rate)} ({w.accepted} of {w.answered} answered)"),
        row("Median time to accept", lambda w: duration(w.median_seconds_to_accept)),
        row(
            "Declines by reason",
            lambda w: "; ".join(f"{reason}: {n}" for reason, n in w.declines_by_reason) or "none",
        ),
        row("Expired offers", lambda w: str(w.expired)),
        row("Withdrawn offers", lambda w: str(w.withdrawn)),
        row("On-time start", lambda w: f"{percent(w.on_time_rate)} ({w.on_time_starts} of {w.starts} starts)"),
        row(
            "Completion rate",
            lambda w: f"{percent(w.completion_rate)} ({w.completed} completed, {w.cancelled} cancelled)",
        ),
        row("Median booked start to completed", lambda w: duration(w.median_seconds_booked_to_completed)),
        row("Customer cancellations", lambda w: str(w.customer_cancellations)),
    ]


def window_of(request: HttpRequest) -> int:
    return parse_window(request.GET.get("window")) or DEFAULT_WINDOW


class WindowFilter(admin.SimpleListFilter):
    title = "window"
    parameter_name = "window"

    def lookups(self, request, model_admin):
        return [(str(days), f"{days} days") for days in WINDOWS]

    def choices(self, changelist):
        current = self.value() or str(DEFAULT_WINDOW)
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        if self.value() is not None and parse_window(self.value()) is None:
            raise IncorrectLookupParameters(f"window must be one of {WINDOWS}")
        return queryset  # the window changes the figures (PartnerScorecardAdmin.get_queryset), not the rows


class ScorecardChangeList(ChangeList):
    """Reads the cards of the page's partnerships in one query once the page's rows are read."""

    def get_results(self, request):
        super().get_results(request)
        days = window_of(request)
        cards = scorecards_for(self.result_list, windows=sorted({days, selectors.SCORE_WINDOW_DAYS}))
        for p in self.result_list:
            p.scorecard = cards[p.pk]
            p.scorecard_window = days


@admin.register(PartnerScorecard)
class PartnerScorecardAdmin(TenantScopedAdmin):
    tenant_field = "router"
    list_display = (
        "partner",
        "router",
        "offers",
        "accept_rate",
        "time_to_accept",
        "declines",
        "expired",
        "on_time_start",
        "completion",
        "booked_to_completed",
        "customer_cancellations",
        "score",
    )
    list_filter = (WindowFilter, "active")
    list_select_related = ("router", "installer")
    search_fields = ("installer__name",)
    ordering = ("router__name", "priority", "installer__name")
    actions = ["export_csv"]
    change_list_template = "scorecards/admin/change_list.html"

    def get_list_display(self, request):
        """The router column only for a user of more than one organization (or a superuser)."""
        org_ids = readable_org_ids(request)
        if org_ids is not None and len(org_ids) == 1:
            return tuple(name for name in self.list_display if name != "router")
        return self.list_display

    def get_changelist(self, request, **kwargs):
        return ScorecardChangeList

    def get_urls(self):
        return [
            path("csv/", self.admin_site.admin_view(self.csv_view), name="scorecards_partnerscorecard_csv"),
            *super().get_urls(),
        ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        extra = {"csv_url": reverse("admin:scorecards_partnerscorecard_csv"), "window": window_of(request)}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    # -- CSV
    def csv_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        raw = request.GET.get("window")
        days = parse_window(raw)
        if raw is not None and days is None:
            return HttpResponseBadRequest(f"window must be one of {', '.join(map(str, WINDOWS))}.")
        windows = WINDOWS if days is None else (days,)
        qs = self.get_queryset(request).select_related("router", "installer").order_by(*self.ordering)
        return csv_response(qs, windows)

    @admin.action(description="Export the selected scorecards as CSV (30 and 90 days)")
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        return csv_response(queryset.select_related("router", "installer").order_by(*self.ordering), WINDOWS)

    # -- columns (the card of the window chosen, read from the row's annotations)
    def _card(self, obj) -> tuple[Scorecard, selectors.WindowFigures]:
        """The card ScorecardChangeList read for the page, and its window's figures."""
        return obj.scorecard, obj.scorecard.window(obj.scorecard_window)

    @admin.display(description="Partner", ordering="installer__name")
    def partner(self, obj):
        url = reverse("admin:dispatch_partnership_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.installer.name)

    @admin.display(description="Offers")
    def offers(self, obj):
        return self._card(obj)[1].offers_received

    @admin.display(description="Accept")
    def accept_rate(self, obj):
        return percent(self._card(obj)[1].accept_rate)

    @admin.display(description="To accept")
    def time_to_accept(self, obj):
        return duration(self._card(obj)[1].median_seconds_to_accept)

    @admin.display(description="Declines")
    def declines(self, obj):
        reasons = self._card(obj)[1].declines_by_reason
        return "; ".join(f"{reason}: {n}" for reason, n in reasons) or "–"

    @admin.display(description="Expired")
    def expired(self, obj):
        return self._card(obj)[1].expired

    @admin.display(description="On time")
    def on_time_start(self, obj):
        w = self._card(obj)[1]
        return f"{percent(w.on_time_rate)} of {w.starts}"

    @admin.display(description="Completed")
    def completion(self, obj):
        w = self._card(obj)[1]
        return f"{percent(w.completion_rate)} of {w.completed + w.cancelled}"

    @admin.display(description="Booked → done")
    def booked_to_completed(self, obj):
        return duration(self._card(obj)[1].median_seconds_booked_to_completed)

    @admin.display(description="Cust. cancels")
    def customer_cancellations(self, obj):
        return self._card(obj)[1].customer_cancellations

    @admin.display(description="Score")
    def score(self, obj):
        score = self._card(obj)[0].score
        return f"{score.value:g} (neutral)" if score.below_floor else f"{score.value:g}"
