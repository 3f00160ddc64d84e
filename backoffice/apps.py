from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """The back office: the dashboard, the demo data command and the admin's branding. The
    tenant-scoped ModelAdmin base and the staff groups live in `accounts`; each app registers its
    own admins."""

    name = "backoffice"
    verbose_name = "Back office"

    def ready(self) -> None:
        from django.contrib import admin

        admin.site.site_header = "Installer back office"
        admin.site.site_title = "Installer back office"
        admin.site.index_title = "Back office"
