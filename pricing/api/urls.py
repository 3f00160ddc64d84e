from django.urls import path

from pricing.api import views

urlpatterns = [
    path("products", views.ProductViewSet.as_view({"get": "list", "post": "create"}), name="product-list"),
    path(
        "products/<str:pk>",
        views.ProductViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="product-detail",
    ),
    path("order/<str:pk>/quotes", views.QuoteViewSet.as_view({"get": "list", "post": "create"}), name="order-quotes"),
    path(
        "quotes/<str:quote_id>",
        views.QuoteViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="quote-detail",
    ),
    *[
        path(f"quotes/<str:quote_id>/{action}", views.QuoteViewSet.as_view({"post": action}), name=f"quote-{action}")
        for action in ("send", "withdraw", "accept", "reject")
    ],
]
