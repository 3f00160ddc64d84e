from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    name = "scorecards"
    verbose_name = "Partner scorecards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from scorecards.aggregates import register_sqlite_median

        connection_created.connect(register_sqlite_median, dispatch_uid="scorecards_sqlite_median")
