from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    """Documented completion (delivered lines, the customer's confirmation), the invoice basis,
    invoices and credit notes, their exports and the partner statements (docs/invoicing.md)."""

    name = "invoicing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from invoicing import services
        from orders import hooks

        hooks.order_completing.set(services.on_order_completing)
