import pytest

from orders.models import Order
from orders.tests.factories import add_custom_field, order_payload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "bad\x00name"},
        {"metadata": {"k": "v\x00"}},
        {"metadata": {"k\x00": "v"}},
        {"description": {"type": "doc", "content": [{"text": "a\x00b"}]}},
        {"customFields": [{"customId": "notes", "value": "x\x00y"}]},
    ],
)
def test_nul_anywhere_in_the_body_is_400_and_creates_nothing(operator_a, overrides):
    add_custom_field(operator_a.org.workflows.get(is_default=True), "notes")
    response = operator_a.post("/api/v1/order", order_payload(**overrides), format="json")
    assert response.status_code == 400, response.content
    assert response.json()["statusCode"] == 400
    assert "NUL" in response.json()["message"]
    assert Order.objects.count() == 0
