from django.urls import path

from notifications.api import views

V = views.NotificationViewSet

urlpatterns = [
    path(
        "workflows/<str:workflow_id>/notifications",
        V.as_view({"get": "list", "post": "create"}),
        name="workflow-notification-list",
    ),
    path(
        "workflows/<str:workflow_id>/notifications/<str:pk>",
        V.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="workflow-notification-detail",
    ),
]
