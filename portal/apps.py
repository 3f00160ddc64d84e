from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The customer's portal: the order page behind the client token (/t/<token>/) and the
    client API (/api/clients/<token>/...). Depends on orders and dispatch; nothing depends on it."""

    name = "portal"
    default_auto_field = "django.db.models.BigAutoField"
