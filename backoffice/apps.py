from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BackofficeConfig(AppConfig):
    """The back office: staff groups, the dashboard and admin branding. The tenant-scoped
    ModelAdmin base lives in installer.admin_tenancy; each app registers its own admins."""

    name = "backoffice"
    verbose_name = "Back office"

    def ready(self):
        from django.contrib import admin

        from backoffice import groups

        admin.site.site_header = "Installer back office"
        admin.site.site_title = "Installer back office"
        admin.site.index_title = "Back office"
        post_migrate.connect(groups.ensure_groups_after_migrate, dispatch_uid="backoffice-groups")
