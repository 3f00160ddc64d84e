from django.apps import AppConfig
from django.db.models.signals import post_migrate


def create_cache_tables(sender, using="default", verbosity=1, **kwargs):
    """`migrate` alone is enough: it also creates the table of the database cache (the default
    cache when no Redis is configured). Idempotent, like `createcachetable`."""
    from django.conf import settings
    from django.core.management import call_command

    if any(c["BACKEND"].endswith("DatabaseCache") for c in settings.CACHES.values()):
        call_command("createcachetable", database=using, verbosity=max(0, verbosity - 1))


def tune_psycopg() -> None:
    """psycopg parses a query into PostgreSQL's $n form once and caches it, but only for queries
    up to 4 KB and 50 parameters. A page of orders by id (installer.compiled) is longer: without
    this, every list request re-parses it (about 1 ms). The cache stays bounded (128 entries)."""
    try:
        from psycopg import _queries
    except ImportError:  # pragma: no cover - psycopg is a requirement
        return
    _queries.MAX_CACHED_STATEMENT_LENGTH = max(_queries.MAX_CACHED_STATEMENT_LENGTH, 64 * 1024)
    _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, 1024)
    _fast_timestamptz_loader()


def _fast_timestamptz_loader() -> None:
    """Django reads every `timestamptz` through its own loader, a subclass of psycopg's pure-Python
    one (a regular expression per value): a page of 50 orders has ~150 of them, ~4 ms. This
    loader gives the same values (the session's time zone is Django's, which Django's loader
    relies on too) through `datetime.fromisoformat` (C), and falls back to Django's loader for
    anything else (BC dates, infinity, another DateStyle). Installed before any connection."""
    import datetime

    from django.db.backends.postgresql import psycopg_any

    base = psycopg_any.BaseTzLoader
    if getattr(base, "fast_iso", False):
        return

    class FastTzLoader(base):
        fast_iso = True

        def load(self, data):
            try:
                value = datetime.datetime.fromisoformat(bytes(data).decode())
            except ValueError:
                return super().load(data)
            return value.replace(tzinfo=self.timezone)

    psycopg_any.BaseTzLoader = FastTzLoader


class InstallerConfig(AppConfig):
    name = "installer"
    verbose_name = "Installer platform"

    def ready(self):
        from django.conf import settings

        if any(db["ENGINE"].endswith("postgresql") for db in settings.DATABASES.values()):
            tune_psycopg()
        post_migrate.connect(create_cache_tables, sender=self, dispatch_uid="installer.create_cache_tables")
