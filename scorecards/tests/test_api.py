"""`scorecard` in GET /api/v1/partners/installers: figures of the chosen window, the score,
tenancy, bad `window` values, and one query for the whole page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dispatch.tests.conftest import make_installer, make_partner
from scorecards.tests.timeline import DAY, HOUR, job, now, offer

pytestmark = pytest.mark.django_db

URL = "/api/v1/partners/installers"


def by_name(response):
    assert response.status_code == 200, response.content
    return {v["name"]: v["scorecard"] for v in response.json()["values"]}


def test_scorecard_of_each_installer(field, operator_a):
    cards = by_name(operator_a.get(URL))
    pia = cards["Pia Elektro"]
    assert pia == {
        "windowDays": 90,
        "offersReceived": 8,
        "accepted": 3,
        "declined": 3,
        "expired": 1,
        "withdrawn": 1,
        "acceptRate": round(3 / 7, 4),
        "medianSecondsToAccept": 10800.0,
        "declinesByReason": [{"reason": "too far", "count": 2}, {"reason": "(no reason given)", "count": 1}],
        "starts": 3,
        "onTimeStarts": 1,
        "onTimeStartRate": round(1 / 3, 4),
        "completed": 2,
        "cancelled": 3,
        "completionRate": 0.4,
        "medianSecondsBookedToCompleted": 16200.0,
        "customerCancellations": 2,
        "score": {
            "score": 45.8,
            "belowFloor": False,
            "offers": 8,
            "parts": {
                "acceptRate": round(3 / 7, 4),
                "onTimeStartRate": round(1 / 3, 4),
                "completionRate": 0.4,
                "speed": 0.875,
            },
            "expiryRate": round(1 / 7, 4),
        },
    }
    assert cards["Quinn Varme"]["score"]["belowFloor"] is True and cards["Quinn Varme"]["score"]["score"] == 50.0


def test_window_30_gives_the_30_day_figures_and_the_same_score(field, operator_a):
    pia = by_name(operator_a.get(URL, {"window": "30"}))["Pia Elektro"]
    assert (pia["windowDays"], pia["offersReceived"], pia["accepted"], pia["completed"], pia["cancelled"]) == (
        30,
        5,
        2,
        1,
        2,
    )
    assert pia["score"]["score"] == 45.8  # the score always reads 90 days


@pytest.mark.parametrize("window", ["abc", "", "60", "0", "-30", "30.0", "90days"])
def test_bad_window_is_400(field, operator_a, window):
    response = operator_a.get(URL, {"window": window})
    assert response.status_code == 400
    body = response.json()
    assert body["statusCode"] == 400 and body["error"] == "Bad Request" and "window" in body["details"]


def test_router_b_reads_its_own_card_of_the_same_partner(field, operator_b, operator_a):
    cards = by_name(operator_b.get(URL))
    assert list(cards) == ["Pia Elektro"]
    pia = cards["Pia Elektro"]
    assert (pia["offersReceived"], pia["declined"], pia["completed"], pia["cancelled"]) == (1, 1, 1, 0)
    assert pia["declinesByReason"] == [{"reason": "busy", "count": 1}]
    assert "busy" not in str(by_name(operator_a.get(URL))["Pia Elektro"])


def test_an_installer_token_reads_no_router_cards(field, installer_client):
    assert installer_client.get(URL).json() == {"values": [], "count": 0}


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_query_count_is_the_same_for_1_and_50_partners(org_a, org_b, operator_a, operator_b):
    for router, count in ((org_a, 1), (org_b, 50)):
        for i in range(count):
            company = make_installer(f"Partner {router.slug} {i}")
            make_partner(router, company)
        offer(job(router), company, "accepted", now() - DAY, answer_after=HOUR)
    one = _queries(operator_a, URL)
    many = _queries(operator_b, f"{URL}?pageSize=100&window=30")
    assert one == many
