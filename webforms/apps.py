from django.apps import AppConfig


class WebformsConfig(AppConfig):
    name = "webforms"
    verbose_name = "Webforms"
    default_auto_field = "django.db.models.BigAutoField"
