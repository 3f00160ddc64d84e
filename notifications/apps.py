from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Plans messages in the transaction of every order change (orders.hooks.events_notify)
        and makes sure the sweep runs when a worker starts (installer.tasks.worker_started)."""
        from installer.tasks import worker_started
        from notifications import services
        from orders import hooks

        hooks.events_notify.set(services.messages_plan_for_events)
        worker_started.connect(services.sweep_on_worker_start, dispatch_uid="notifications.sweep_on_worker_start")
