from django.urls import path

from webhooks.api import views

V = views.WebhookEndpointViewSet

urlpatterns = [
    path("webhooks", V.as_view({"get": "list", "post": "create"}), name="webhook-list"),
    path(
        "webhooks/<str:pk>",
        V.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="webhook-detail",
    ),
    path("webhooks/<str:pk>/rotate-secret", V.as_view({"post": "rotate_secret"}), name="webhook-rotate-secret"),
    path("webhooks/<str:pk>/test", V.as_view({"post": "send_test"}), name="webhook-test"),
    path("webhooks/<str:pk>/deliveries", V.as_view({"get": "deliveries"}), name="webhook-deliveries"),
]
