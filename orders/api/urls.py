from django.urls import path, register_converter

from orders.api import views


class StepKeyConverter:
    regex = r"[-a-zA-Z0-9_]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(StepKeyConverter, "stepkey")

order_collection = views.OrderViewSet.as_view({"get": "list", "post": "create"})
order_detail = views.OrderViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})

urlpatterns = [
    path("me", views.MeViewSet.as_view({"get": "retrieve"}), name="me"),
    path("order", order_collection, name="order-list"),
    path("order/<str:pk>", order_detail, name="order-detail"),
    path("order/<str:pk>/events", views.OrderViewSet.as_view({"get": "events"}), name="order-events"),
    path("order/<str:pk>/cancel", views.OrderViewSet.as_view({"post": "cancel"}), name="order-cancel"),
    path(
        "order/<str:pk>/steps/<stepkey:step_key>/complete",
        views.OrderViewSet.as_view({"post": "complete_step"}),
        name="order-step-complete",
    ),
    path(
        "order/<str:pk>/tags/<str:tag_id>",
        views.OrderViewSet.as_view({"put": "assign_tag", "delete": "remove_tag"}),
        name="order-tag",
    ),
    path("order-tags", views.OrderTagViewSet.as_view({"get": "list", "post": "create"}), name="order-tags"),
    path("file", views.FileViewSet.as_view({"post": "create"}), name="file-list"),
    path("file/<str:pk>", views.FileViewSet.as_view({"get": "retrieve"}), name="file-detail"),
    path("file/<str:pk>/content", views.FileViewSet.as_view({"get": "content"}), name="file-content"),
    path("workflows", views.WorkflowViewSet.as_view({"get": "list"}), name="workflows"),
]
