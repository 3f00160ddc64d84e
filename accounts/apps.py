from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    """Organizations, memberships and roles, API tokens, idempotency records, the tenant-scoped
    admin base (`accounts.admin_base`) and the back-office staff groups (`accounts.groups`)."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import groups

        post_migrate.connect(groups.ensure_groups_after_migrate, dispatch_uid="accounts.groups")
