from django.urls import path

from webforms.api import views

urlpatterns = [
    path("webform/<str:pk>", views.WebformViewSet.as_view({"get": "retrieve"}), name="webform-detail"),
    path("webform/<str:pk>/order", views.WebformViewSet.as_view({"post": "create_order"}), name="webform-order"),
]
