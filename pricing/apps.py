from django.apps import AppConfig


class PricingConfig(AppConfig):
    """Priced work, first half: the product catalogue, quotes on orders and the money arithmetic
    (`pricing.money`). Depends on accounts and orders; orders reaches quotes only through the
    reverse relation `Order.quotes`."""

    name = "pricing"
    default_auto_field = "django.db.models.BigAutoField"
