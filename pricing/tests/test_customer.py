"""The customer's side: the client API's quotes (payer amounts only, never drafts) and the
order page's quote card with its accept and reject forms."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from orders.models import OrderEvent
from pricing.customer import format_amount
from pricing.models import Quote, QuoteStatus
from pricing.tests.conftest import make_quote


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


def api(order, rest=""):
    return f"/api/clients/{order.client_token}/quotes{rest}"


def lines_with_payout():
    return [
        {"description": "Installation", "quantity": 3, "unit_amount": 90000, "payout_percent": 70},
        {"description": "Extra socket", "quantity": 1, "unit_amount": 40000, "optional": True, "payout_amount": 20000},
    ]


def test_client_api_lists_sent_and_decided_quotes_without_payout(anon, order):
    make_quote(order)  # a draft: never shown
    withdrawn = make_quote(order, send=True)
    from pricing import services
    from pricing.tests.conftest import router_author

    services.quote_act(quote_id=withdrawn.pk, action="withdraw", author=router_author(order.organization))
    sent = make_quote(order, send=True, lines=[{"description": "x", "unit_amount": 100, "payout_percent": 50}])
    response = anon.get(api(order))
    assert response.status_code == 200
    answer = response.json()
    assert [q["id"] for q in answer["values"]] == [str(sent.pk)] and answer["count"] == 1
    text = response.content.decode()
    assert "payout" not in text.lower()
    assert "createdBy" not in text and "version" not in text
    assert answer["values"][0]["totals"] == {
        "net": 100,
        "vat": 25,
        "gross": 125,
        "byRate": [{"vatRate": "25.00", "net": 100, "vat": 25}],
    }


def test_customer_accepts_through_the_client_api_with_an_optional_line(anon, order):
    quote = make_quote(order, send=True, lines=lines_with_payout())
    optional = quote.lines.get(optional=True)
    response = anon.post(api(order, f"/{quote.pk}/accept"), {"lineIds": [str(optional.pk)]}, format="json")
    assert response.status_code == 200, response.json()
    answer = response.json()
    assert answer["status"] == "accepted" and answer["decidedVia"] == "client_api"
    assert answer["totals"]["gross"] == (270000 + 40000) * 125 // 100
    assert "payout" not in response.content.decode().lower()
    event = OrderEvent.objects.get(order=order, type="quote.accepted")
    assert event.actor_type == "customer" and event.data["decidedVia"] == "client_api"
    # Twice is a 409.
    again = anon.post(api(order, f"/{quote.pk}/accept"), {}, format="json")
    assert again.status_code == 409 and again.json()["statusCode"] == 409


def test_customer_rejects(anon, order):
    quote = make_quote(order, send=True)
    response = anon.post(api(order, f"/{quote.pk}/reject"), {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    assert anon.post(api(order, f"/{quote.pk}/accept"), {}, format="json").status_code == 409


def test_client_api_bad_input_and_tenancy(anon, order, org_a):
    from orders.tests.factories import create_order

    quote = make_quote(order, send=True)
    draft = make_quote(order)
    other_order = create_order(org_a)
    other = make_quote(other_order, send=True)
    # Another order's quote, a draft, an unknown id and an unknown token are 404s.
    assert anon.post(api(order, f"/{other.pk}/accept"), {}, format="json").status_code == 404
    assert anon.post(api(order, f"/{draft.pk}/accept"), {}, format="json").status_code == 404
    assert anon.post(api(order, "/00000000-0000-0000-0000-000000000000/accept"), {}, format="json").status_code == 404
    assert anon.post(api(order, "/nope/accept"), {}, format="json").status_code == 404
    assert anon.get("/api/clients/not-a-token/quotes").status_code == 404
    assert anon.post(f"/api/clients/not-a-token/quotes/{quote.pk}/accept", {}, format="json").status_code == 404
    # Bad lineIds are a 400 and change nothing.
    required = quote.lines.get(optional=False)
    for body in ({"lineIds": [str(required.pk)]}, {"lineIds": "all"}, {"lineIds": [1]}):
        response = anon.post(api(order, f"/{quote.pk}/accept"), body, format="json")
        assert response.status_code == 400, (body, response.json())
    assert (
        anon.post(api(order, f"/{quote.pk}/reject"), {"lineIds": [str(required.pk)]}, format="json").status_code == 400
    )
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT
    assert Quote.objects.get(pk=other.pk).status == QuoteStatus.SENT


def test_client_quotes_query_count_is_constant(anon, order, django_assert_num_queries):
    make_quote(order, send=True, lines=[{"description": "a", "unit_amount": 1}])
    with django_assert_num_queries(3):  # order, quotes, lines
        anon.get(api(order))
    for _ in range(4):
        make_quote(order, lines=[{"description": f"l{i}", "unit_amount": i} for i in range(20)], send=True)
    with django_assert_num_queries(3):
        assert anon.get(api(order)).json()["count"] == 5


# -- the page ----------------------------------------------------------------------------------


def test_format_amount():
    assert format_amount(129900, "NOK", "nb") == "1\u00a0299,00\u00a0kr"
    assert format_amount(-5, "NOK", "nb") == "-0,05\u00a0kr"
    assert format_amount(123456789, "NOK", "en") == "NOK\u00a01,234,567.89"
    assert format_amount(100, "SEK", "nb") == "1,00\u00a0SEK"


def test_page_shows_a_sent_quote_with_its_forms_and_no_payout(client, order):
    make_quote(order)  # draft: not shown
    quote = make_quote(order, send=True, lines=lines_with_payout(), note="Travel included.")
    optional = quote.lines.get(optional=True)
    order.language = "nb"
    order.save(update_fields=["language"])
    html = client.get(f"/t/{order.client_token}/").content.decode()
    assert html.count('class="card section quote"') == 1
    assert f'action="/t/{order.client_token}/quotes/{quote.pk}/accept/"' in html
    assert f'value="{optional.pk}"' in html and f'id="line-{optional.pk}"' in html
    assert "Godta tilbudet" in html and "Avslå tilbudet" in html and 'lang="nb"' in html
    # Required lines only until the customer ticks the optional one: 270000 + 25 %.
    assert "3\u00a0375,00\u00a0kr" in html
    assert "Travel included." in html
    # The payout (70 % of 2 700,00 = 1 890,00) never shows, in any format; digits inside the
    # page's random ids and tokens are not an amount.
    assert not re.search(r"(?<![0-9A-Za-z-])1[\u00a0 .,]?890(?![0-9A-Za-z-])", html)


def test_accepting_on_the_page_takes_the_ticked_optional_line(client, order):
    quote = make_quote(order, send=True)
    optional = quote.lines.get(optional=True)
    response = client.post(f"/t/{order.client_token}/quotes/{quote.pk}/accept/", {"lineIds": [str(optional.pk)]})
    assert response.status_code == 302 and response["Location"].endswith("?done=quote_accepted#result")
    quote.refresh_from_db()
    assert quote.status == "accepted" and quote.decided_via == "customer"
    assert quote.total_gross == 387500
    html = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You accepted the quote." in html
    assert "Accept the quote" not in html  # read-only now
    assert "Accepted" in html and "chosen" in html


def test_rejecting_on_the_page_and_errors_are_shown_on_the_page(client, order):
    quote = make_quote(order, send=True)
    response = client.post(f"/t/{order.client_token}/quotes/{quote.pk}/reject/")
    assert response.status_code == 302
    assert Quote.objects.get(pk=quote.pk).status == "rejected"
    response = client.post(f"/t/{order.client_token}/quotes/{quote.pk}/accept/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert "This quote can no longer be accepted or rejected." in response.content.decode()
    other = make_quote(order, send=True)
    response = client.post(f"/t/{order.client_token}/quotes/{other.pk}/accept/", {"lineIds": ["bogus"]})
    assert response.status_code == 400
    assert Quote.objects.get(pk=other.pk).status == "sent"
    assert client.post(f"/t/{order.client_token}/quotes/nope/accept/").status_code == 404


def test_page_query_count_is_constant_in_quotes_and_lines(client, order, django_assert_num_queries):
    make_quote(order, send=True)
    client.get(f"/t/{order.client_token}/")  # warm the workflow cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(f"/t/{order.client_token}/")
    for _ in range(3):
        make_quote(order, send=True, lines=[{"description": f"l{i}", "unit_amount": i} for i in range(15)])
    with django_assert_num_queries(len(one.captured_queries)):
        html = client.get(f"/t/{order.client_token}/").content.decode()
    assert html.count('class="card section quote"') == 4
