from django.urls import path

from webforms import views

app_name = "webforms"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("f/<slug:slug>/", views.webform_page, name="form"),
    path("f/<slug:slug>/done/<str:token>/", views.webform_done, name="done"),
]
