"""Account pages mounted at the site root (installer/urls.py), before the partner workspace."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("partner/invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
]
