"""Scorecards in the back office: the partnership page's panel, the list of every partner's card,
the CSV download and action (parsed back), tenancy, bad `window` values, bounded queries."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from backoffice.tests.conftest import staff_client
from dispatch.tests.conftest import make_installer, make_partner
from scorecards.admin import CSV_COLUMNS
from scorecards.tests.timeline import DAY, HOUR, job, now, offer

pytestmark = pytest.mark.django_db

LIST = "admin:scorecards_partnerscorecard_changelist"
CSV = "admin:scorecards_partnerscorecard_csv"


def rows_of(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(response.content.decode()))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    return list(reader)


def test_partnership_page_shows_the_panel(field, org_a):
    page = staff_client(org_a).get(reverse("admin:dispatch_partnership_change", args=[field["pia"].pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="scorecard-score">45.8<' in html
    assert '<th scope="row">Offers received</th>' in html
    assert "50% (2 of 4 answered)" in html and "43% (3 of 7 answered)" in html
    assert "too far: 1" in html and "too far: 2; (no reason given): 1" in html
    assert "33% (1 of 3 starts)" in html and "40% (2 completed, 3 cancelled)" in html
    assert "4.5 h" in html and "2.0 h" in html and "3.0 h" in html


def test_partnership_page_of_a_partner_below_the_floor(field, org_a):
    html = staff_client(org_a).get(reverse("admin:dispatch_partnership_change", args=[field["quinn"].pk])).content
    assert b"(neutral: 2 offers in 90 days, below the floor)" in html


def test_list_shows_every_partner_card_of_the_users_router(field, org_a):
    page = staff_client(org_a, Role.VIEWER).get(reverse(LIST))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Pia Elektro" in html and "Quinn Varme" in html
    assert "43%" in html and "45.8" in html and "50 (neutral)" in html
    assert "Download CSV (90 days)" in html
    thirty = staff_client(org_a).get(reverse(LIST), {"window": "30"}).content.decode()
    assert "50%" in thirty and "Download CSV (30 days)" in thirty


def test_bad_window_on_the_list_is_refused(field, org_a):
    response = staff_client(org_a).get(reverse(LIST), {"window": "abc"})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def test_router_b_sees_only_its_own_card_of_the_same_partner(field, org_b, org_a):
    staff_b = staff_client(org_b)
    html = staff_b.get(reverse(LIST)).content.decode()
    assert "Pia Elektro" in html and "Quinn Varme" not in html and "Alpha Energy" not in html
    rows = rows_of(staff_b.get(reverse(CSV)))
    assert {(r["router"], r["installer"], r["window_days"], r["offers_received"]) for r in rows} == {
        ("Beta Retail", "Pia Elektro", "30", "1"),
        ("Beta Retail", "Pia Elektro", "90", "1"),
    }
    assert rows[0]["declines_by_reason"] == "busy: 1"
    assert staff_b.get(reverse("admin:dispatch_partnership_change", args=[field["pia"].pk])).status_code == 404


def test_csv_download_parsed_back(field, org_a):
    rows = rows_of(staff_client(org_a).get(reverse(CSV)))
    pia = {r["window_days"]: r for r in rows if r["installer"] == "Pia Elektro"}
    assert pia["30"] == {
        "router": "Alpha Energy",
        "installer": "Pia Elektro",
        "installer_id": str(field["pia"].installer_id),
        "window_days": "30",
        "offers_received": "5",
        "accepted": "2",
        "declined": "1",
        "expired": "1",
        "withdrawn": "1",
        "accept_rate": "0.5",
        "median_seconds_to_accept": "7200",
        "declines_by_reason": "too far: 1",
        "starts": "2",
        "on_time_starts": "1",
        "on_time_start_rate": "0.5",
        "completed": "1",
        "cancelled": "2",
        "completion_rate": "0.3333",
        "median_seconds_booked_to_completed": "10800",
        "customer_cancellations": "2",
        "score": "45.8",
        "below_floor": "no",
    }
    assert pia["90"]["accept_rate"] == "0.4286" and pia["90"]["median_seconds_booked_to_completed"] == "16200"
    assert pia["90"]["declines_by_reason"] == "too far: 2; (no reason given): 1"
    quinn = [r for r in rows if r["installer"] == "Quinn Varme"]
    assert [r["below_floor"] for r in quinn] == ["yes", "yes"] and quinn[0]["score"] == "50"


def test_csv_of_one_window_and_bad_windows(field, org_a):
    staff = staff_client(org_a)
    assert {r["window_days"] for r in rows_of(staff.get(reverse(CSV), {"window": "30"}))} == {"30"}
    for bad in ("abc", "", "60"):
        response = staff.get(reverse(CSV), {"window": bad})
        assert response.status_code == 400 and b"window must be one of 30, 90" in response.content


def test_export_action_on_the_selected_partners(field, org_a):
    response = staff_client(org_a).post(
        reverse(LIST), {"action": "export_csv", "_selected_action": [field["quinn"].pk], "index": 0}
    )
    rows = rows_of(response)
    assert [(r["installer"], r["window_days"], r["accepted"]) for r in rows] == [
        ("Quinn Varme", "30", "2"),
        ("Quinn Varme", "90", "2"),
    ]


def test_csv_needs_a_back_office_user(field, client):
    assert client.get(reverse(CSV)).status_code == 302  # to the login page


def _queries(staff, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert staff.get(url).status_code == 200
    return len(queries)


def test_list_and_csv_queries_do_not_grow_with_partners(org_a, org_b):
    for router, count in ((org_a, 1), (org_b, 50)):
        for i in range(count):
            company = make_installer(f"Partner {router.slug} {i}")
            make_partner(router, company)
        offer(job(router), company, "accepted", now() - DAY, answer_after=HOUR)
    staff_a, staff_b = staff_client(org_a), staff_client(org_b)
    assert _queries(staff_a, reverse(LIST)) == _queries(staff_b, reverse(LIST))
    assert _queries(staff_a, reverse(CSV)) == _queries(staff_b, reverse(CSV))


def test_router_column_only_for_a_user_of_several_organizations(field, org_a, org_b):
    from accounts.groups import sync_user_groups
    from accounts.models import Membership

    staff = staff_client(org_a)
    assert "column-router" not in staff.get(reverse(LIST)).content.decode()
    Membership.objects.create(user=staff.user, organization=org_b, role=Role.OPERATOR)
    sync_user_groups(staff.user)
    html = staff.get(reverse(LIST)).content.decode()
    assert "column-router" in html and "Alpha Energy" in html and "Beta Retail" in html
    assert html.count("Pia Elektro") >= 2  # one card per router
