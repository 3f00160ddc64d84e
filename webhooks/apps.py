from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Writes the outbox rows of every order change in its transaction (orders.hooks)."""
        from orders import hooks
        from webhooks import services

        hooks.events_recorded.set(services.deliveries_queue_for_events)
