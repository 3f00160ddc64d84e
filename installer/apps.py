from django.apps import AppConfig
from django.db.models.signals import post_migrate


def create_cache_tables(sender, using="default", verbosity=1, **kwargs):
    """`migrate` alone is enough: it also creates the table of the database cache (the default
    cache when no Redis is configured). Idempotent, like `createcachetable`."""
    from django.conf import settings
    from django.core.management import call_command

    if any(c["BACKEND"].endswith("DatabaseCache") for c in settings.CACHES.values()):
        call_command("createcachetable", database=using, verbosity=max(0, verbosity - 1))


class InstallerConfig(AppConfig):
    name = "installer"
    verbose_name = "Installer platform"

    def ready(self):
        post_migrate.connect(create_cache_tables, sender=self, dispatch_uid="installer.create_cache_tables")
