from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "dispatch"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Plugs dispatch into orders' hooks (orders.hooks; orders never imports dispatch)."""
        from dispatch import selectors, services
        from orders import hooks, signals

        hooks.order_cancelling.set(services.on_order_cancel)
        hooks.order_deleting.set(services.on_order_delete)
        hooks.installer_assignable.set(selectors.is_active_partner)
        hooks.installer_visibility.set(selectors.installer_offer_visibility)
        hooks.order_reads.set(selectors.order_reads)
        hooks.extra_actions.set(selectors.offer_answer_actions)
        hooks.installer_timeline.set(selectors.installer_timeline)
        signals.order_created.connect(services.on_order_created, dispatch_uid="dispatch.auto_dispatch")
        # A worker starting expires what is overdue and queues the periodic expiry sweep.
        from installer.tasks import worker_started

        worker_started.connect(services.sweep_on_worker_start, dispatch_uid="dispatch.sweep_on_worker_start")
