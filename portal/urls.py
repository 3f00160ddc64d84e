from django.urls import path
from django.views.i18n import set_language

from portal import views

app_name = "portal"

urlpatterns = [
    # The customer pages' language chooser (a cookie; webforms and the portal read it).
    path("language/", set_language, name="language"),
    path("t/<str:token>/", views.order_page, name="order"),
    path("t/<str:token>/book/", views.book, name="book"),
    path("t/<str:token>/request/", views.ask, name="request"),
    path("t/<str:token>/note/", views.note, name="note"),
    path("t/<str:token>/photo/", views.photo, name="photo"),
    path("t/<str:token>/appointment.ics", views.appointment_ics, name="ics"),
    path("t/<str:token>/quotes/<str:quote_id>/accept/", views.quote_accept, name="quote-accept"),
    path("t/<str:token>/quotes/<str:quote_id>/reject/", views.quote_reject, name="quote-reject"),
]
