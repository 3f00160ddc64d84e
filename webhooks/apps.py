from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from orders import services as order_services
        from webhooks import services

        if services.deliveries_queue_for_events not in order_services.EVENT_HOOKS:
            order_services.EVENT_HOOKS.append(services.deliveries_queue_for_events)
