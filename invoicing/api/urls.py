from django.urls import path

from invoicing.api import views

invoice = views.OrderInvoiceViewSet
lines = views.OrderLinesViewSet

urlpatterns = [
    path("order/<str:pk>/lines", lines.as_view({"get": "list", "post": "create"}), name="order-lines"),
    path("order/<str:pk>/lines/<str:line_id>", lines.as_view({"patch": "partial_update"}), name="order-line"),
    path("order/<str:pk>/lines/<str:line_id>/approve", lines.as_view({"post": "approve"}), name="order-line-approve"),
    path("order/<str:pk>/invoice", invoice.as_view({"get": "retrieve", "post": "create"}), name="order-invoice"),
    path("order/<str:pk>/credit-note", invoice.as_view({"post": "credit"}), name="order-credit-note"),
    path(
        "order/<str:pk>/credit-notes/<str:note_id>",
        invoice.as_view({"get": "credit_note"}),
        name="order-credit-note-detail",
    ),
    path(
        "partners/installers/<str:pk>/statement",
        views.StatementViewSet.as_view({"get": "retrieve"}),
        name="partner-installer-statement",
    ),
]
