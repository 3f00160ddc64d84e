from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Writes the outbox rows of every order change in its transaction (orders.hooks), and
        recovers deliveries and the sweep when a worker starts (installer.tasks.worker_started)."""
        from installer.tasks import worker_started
        from orders import hooks
        from webhooks import services

        hooks.events_recorded.set(services.deliveries_queue_for_events)
        worker_started.connect(services.sweep_on_worker_start, dispatch_uid="webhooks.sweep_on_worker_start")
