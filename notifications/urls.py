from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("notifications/opt-out/<str:token>/", views.opt_out, name="opt-out"),
]
