from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "dispatch"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Plugs dispatch into orders' extension points (orders never imports dispatch)."""
        from dispatch import selectors, services
        from orders import selectors as order_selectors
        from orders import services as order_services
        from orders import signals as order_signals

        if services.on_order_cancel not in order_services.CANCEL_HOOKS:
            order_services.CANCEL_HOOKS.append(services.on_order_cancel)
        if selectors.installer_offer_visibility not in order_selectors.VISIBILITY_RULES:
            order_selectors.VISIBILITY_RULES.append(selectors.installer_offer_visibility)
        if selectors.is_active_partner not in order_services.INSTALLER_ASSIGNMENT_CHECKS:
            order_services.INSTALLER_ASSIGNMENT_CHECKS.append(selectors.is_active_partner)
        if selectors.viewer_open_offers_prefetch not in order_selectors.VIEWER_PREFETCHES:
            order_selectors.VIEWER_PREFETCHES.append(selectors.viewer_open_offers_prefetch)
        if selectors.offer_answer_actions not in order_selectors.ALLOWED_ACTION_RULES:
            order_selectors.ALLOWED_ACTION_RULES.append(selectors.offer_answer_actions)
        if "booking" not in order_selectors.EXTRA_SELECT_RELATED:
            order_selectors.EXTRA_SELECT_RELATED.append("booking")
        order_signals.order_created.connect(services.on_order_created, dispatch_uid="dispatch.auto_dispatch")
