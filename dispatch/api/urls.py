from django.urls import path

from dispatch.api import views

lifecycle = views.OrderLifecycleViewSet

urlpatterns = [
    path("dispatch/preview", views.DispatchPreviewViewSet.as_view({"get": "preview"}), name="dispatch-preview"),
    path("order/<str:pk>/dispatch/preview", lifecycle.as_view({"get": "preview"}), name="order-dispatch-preview"),
    path("order/<str:pk>/dispatch", lifecycle.as_view({"post": "dispatch_order"}), name="order-dispatch"),
    path("order/<str:pk>/booking", lifecycle.as_view({"put": "book", "delete": "unbook"}), name="order-booking"),
    path("order/<str:pk>/assignee", lifecycle.as_view({"put": "assign"}), name="order-assignee"),
    path("order/<str:pk>/start", lifecycle.as_view({"post": "start"}), name="order-start"),
    path("order/<str:pk>/complete", lifecycle.as_view({"post": "complete"}), name="order-complete"),
    path("offers", views.OfferViewSet.as_view({"get": "list"}), name="offers"),
    path("offers/<str:pk>/accept", views.OfferViewSet.as_view({"post": "accept"}), name="offer-accept"),
    path("offers/<str:pk>/decline", views.OfferViewSet.as_view({"post": "decline"}), name="offer-decline"),
    path("partners/installers", views.InstallerPartnerViewSet.as_view({"get": "list"}), name="partner-installers"),
]
