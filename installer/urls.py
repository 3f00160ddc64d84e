from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from backoffice.calendar import calendar_view
from backoffice.coverage import coverage_check_view
from backoffice.dashboard import dashboard_view
from installer import views
from installer.api import exceptions as api_exceptions
from monitoring.views import metrics_view

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path(
        "api/redoc/", SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html"), name="api-redoc"
    ),
    path("api/v1/", include("orders.api.urls")),
    path("api/v1/", include("dispatch.api.urls")),
    path("api/v1/", include("webforms.api.urls")),
    path("api/v1/", include("webhooks.api.urls")),
    path("api/v1/", include("notifications.api.urls")),
    path("api/v1/", include("invoicing.api.urls")),
    path("api/v1/", include("pricing.api.urls")),
    path("api/clients/", include("portal.api.urls")),
    path("api/", api_exceptions.api_not_found),
    path("api/<path:rest>", api_exceptions.api_not_found),
    path("admin/dashboard/", admin.site.admin_view(dashboard_view), name="backoffice-dashboard"),
    path("admin/calendar/", admin.site.admin_view(calendar_view), name="backoffice-calendar"),
    path("admin/coverage-check/", admin.site.admin_view(coverage_check_view), name="backoffice-coverage-check"),
    path("admin/", admin.site.urls),
    # Invitation links (/partner/invitations/<token>/): before the partner workspace's URLs.
    path("", include("accounts.urls")),
    path("", include("notifications.urls")),
    path("partner/", include("partners.urls")),
    path("", include("portal.urls")),
    path("", include("webforms.urls")),
]

handler400 = "installer.api.exceptions.handler400"
handler404 = "installer.api.exceptions.handler404"
handler500 = "installer.api.exceptions.handler500"
