"""Products API: create, read, update, list filters, bad input, tenancy and the partner's view."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from pricing.models import Product
from pricing.services import product_tags_set

URL = "/api/v1/products"


def body(**overrides):
    data = {
        "name": "Charger 22 kW",
        "description": "Wall box",
        "unit": "piece",
        "externalId": "CH-22",
        "vatRate": "25.00",
        "unitAmount": 1899000,
        "payoutPercent": "55.5",
        "sharedWithPartners": True,
        "tags": ["chargers", "Wallbox"],
    }
    data.update(overrides)
    return data


def test_create_and_read_a_product(operator_a):
    response = operator_a.post(URL, body(), format="json")
    assert response.status_code == 201, response.json()
    product = response.json()
    assert product["name"] == "Charger 22 kW"
    assert product["unitAmount"] == 1899000
    assert product["vatRate"] == "25.00"
    assert product["payoutPercent"] == "55.50"
    assert product["payoutAmount"] is None
    assert product["currency"] == "NOK"
    assert product["pricesIncludeVat"] is False
    assert product["sharedWithPartners"] is True
    assert product["externalId"] == "CH-22"
    assert sorted(product["tags"]) == ["Wallbox", "chargers"]
    stored = Product.objects.get(pk=product["id"])
    assert stored.organization == operator_a.org and stored.unit_amount == 1899000
    again = operator_a.get(f"{URL}/{product['id']}").json()
    assert again == product


def test_defaults(operator_a):
    product = operator_a.post(URL, {"name": "Hour", "unitAmount": 95000}, format="json").json()
    assert (product["vatRate"], product["currency"], product["unit"], product["active"]) == (
        "25.00",
        "NOK",
        "piece",
        True,
    )
    assert product["externalId"] is None and product["tags"] == []


def test_update_changes_only_the_given_fields(operator_a):
    product = operator_a.post(URL, body(), format="json").json()
    response = operator_a.patch(
        f"{URL}/{product['id']}", {"unitAmount": 1999000, "payoutAmount": 300000}, format="json"
    )
    assert response.status_code == 200, response.json()
    updated = response.json()
    assert updated["unitAmount"] == 1999000
    # Giving one payout kind replaces the other.
    assert (updated["payoutAmount"], updated["payoutPercent"]) == (300000, None)
    assert updated["name"] == product["name"]
    response = operator_a.patch(f"{URL}/{product['id']}", {"tags": ["other"], "active": False}, format="json")
    assert response.json()["tags"] == ["other"] and response.json()["active"] is False


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"unitAmount": "1899000"}, "unitAmount"),
        ({"unitAmount": 1899000.0}, "unitAmount"),
        ({"unitAmount": 18990.5}, "unitAmount"),
        ({"unitAmount": True}, "unitAmount"),
        ({"unitAmount": -5}, "unitAmount"),
        ({"unitAmount": 10**15}, "unitAmount"),
        ({"vatRate": "abc"}, "vatRate"),
        ({"vatRate": 125}, "vatRate"),
        ({"vatRate": "-1"}, "vatRate"),
        ({"vatRate": "25.123"}, "vatRate"),
        ({"payoutPercent": 101}, "payoutPercent"),
        ({"payoutAmount": 12.5}, "payoutAmount"),
        ({"payoutAmount": 500}, "payoutPercent"),  # both kinds at once
        ({"unit": "litre"}, "unit"),
        ({"currency": "kroner"}, "currency"),
        ({"name": ""}, "name"),
        ({"name": 42}, "name"),
        ({"tags": "chargers"}, "tags"),
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(operator_a, overrides, field):
    response = operator_a.post(URL, body(**overrides), format="json")
    assert response.status_code == 400, response.json()
    answer = response.json()
    assert answer["statusCode"] == 400 and answer["error"] == "Bad Request"
    assert field in answer["details"], answer
    assert not Product.objects.exists()


def test_missing_fields_are_a_400(operator_a):
    response = operator_a.post(URL, {}, format="json")
    assert response.status_code == 400
    assert {"name", "unitAmount"} <= set(response.json()["details"])


def test_external_id_is_unique_per_organization(operator_a, operator_b):
    assert operator_a.post(URL, body(), format="json").status_code == 201
    response = operator_a.post(URL, body(name="Other"), format="json")
    assert response.status_code == 400
    assert "externalId" in response.json()["details"]
    assert operator_b.post(URL, body(), format="json").status_code == 201  # another organization's may match
    other = operator_a.post(URL, body(name="Third", externalId="X"), format="json").json()
    response = operator_a.patch(f"{URL}/{other['id']}", {"externalId": "CH-22"}, format="json")
    assert response.status_code == 400
    assert Product.objects.get(pk=other["id"]).external_id == "X"


def test_patch_rejects_unknown_fields(operator_a):
    product = operator_a.post(URL, body(), format="json").json()
    response = operator_a.patch(f"{URL}/{product['id']}", {"unit_amount": 5}, format="json")
    assert response.status_code == 400 and "unit_amount" in response.json()["details"]


def test_another_organizations_product_is_a_404(operator_a, operator_b):
    product = operator_a.post(URL, body(), format="json").json()
    for response in (
        operator_b.get(f"{URL}/{product['id']}"),
        operator_b.patch(f"{URL}/{product['id']}", {"name": "Mine"}, format="json"),
    ):
        assert response.status_code == 404
        assert response.json()["statusCode"] == 404
    assert operator_b.get(URL).json() == {"values": [], "count": 0}
    assert operator_a.get(f"{URL}/not-a-uuid").status_code == 404
    assert Product.objects.get(pk=product["id"]).name == "Charger 22 kW"


def test_viewer_reads_but_does_not_write(operator_a, viewer_a):
    product = operator_a.post(URL, body(), format="json").json()
    assert viewer_a.get(f"{URL}/{product['id']}").status_code == 200
    assert viewer_a.post(URL, body(externalId="V"), format="json").status_code == 403
    assert viewer_a.patch(f"{URL}/{product['id']}", {"name": "x"}, format="json").status_code == 403


def test_list_filters(operator_a):
    operator_a.post(URL, body(name="Charger A", externalId="A", tags=["chargers"]), format="json")
    operator_a.post(URL, body(name="Cable", externalId="B", tags=["cables"], active=False), format="json")
    operator_a.post(URL, body(name="Socket", externalId="SOCK-1", tags=[]), format="json")

    def names(query=""):
        response = operator_a.get(f"{URL}{query}")
        assert response.status_code == 200, response.json()
        return sorted(p["name"] for p in response.json()["values"])

    assert names() == ["Cable", "Charger A", "Socket"]
    assert names("?active=true") == ["Charger A", "Socket"]
    assert names("?active=false") == ["Cable"]
    assert names("?tag=CHARGERS") == ["Charger A"]
    assert names("?search=sock") == ["Socket"]
    assert names("?search=wall") == ["Cable", "Charger A", "Socket"]  # the description
    assert operator_a.get(f"{URL}?active=maybe").status_code == 400
    page = operator_a.get(f"{URL}?pageSize=2&page=0&direction=asc").json()
    assert page["count"] == 3 and [p["name"] for p in page["values"]] == ["Charger A", "Cable"]
    assert operator_a.get(f"{URL}?pageSize=0").status_code == 400


def test_partner_sees_only_shared_products_of_its_routers(operator_a, operator_b, installer_client, assigned):
    shared = operator_a.post(URL, body(name="Shared"), format="json").json()
    operator_a.post(URL, body(name="Private", externalId="P", sharedWithPartners=False), format="json")
    operator_a.post(URL, body(name="Shared but inactive", externalId="I", active=False), format="json")
    operator_b.post(URL, body(name="Other router's"), format="json")  # not its router

    listed = installer_client.get(URL).json()
    assert [p["name"] for p in listed["values"]] == ["Shared"]
    assert installer_client.get(f"{URL}/{shared['id']}").status_code == 200
    # Read-only: the partner cannot change the router's product.
    response = installer_client.patch(f"{URL}/{shared['id']}", {"name": "Mine"}, format="json")
    assert response.status_code == 404
    private = Product.objects.get(name="Private")
    assert installer_client.get(f"{URL}/{private.pk}").status_code == 404


def test_list_query_count_is_constant(operator_a, django_assert_num_queries):
    def make(n):
        for i in range(n):
            product = Product.objects.create(organization=operator_a.org, name=f"P{i}", unit_amount=100, vat_rate=D(25))
            product_tags_set(product, [f"tag{i}", "common"])

    make(1)
    operator_a.get(URL)  # warm the token cache
    # The token, the page, the tags of the page's products.
    with django_assert_num_queries(3):
        assert len(operator_a.get(URL).json()["values"]) == 1
    make(30)
    with django_assert_num_queries(3):
        assert len(operator_a.get(f"{URL}?pageSize=100").json()["values"]) == 31
