from django.apps import AppConfig


class WebformsConfig(AppConfig):
    name = "webforms"
    default_auto_field = "django.db.models.BigAutoField"
