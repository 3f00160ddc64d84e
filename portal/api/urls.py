from django.urls import path

from portal.api import views

urlpatterns = [
    path("<str:token>", views.ClientOrderView.as_view(), name="client-order"),
    path("<str:token>/workflows", views.ClientWorkflowsView.as_view(), name="client-workflows"),
    path("<str:token>/workflow-steps/<str:step_id>/bookings", views.ClientBookingView.as_view(), name="client-booking"),
    path("<str:token>/slots", views.ClientSlotsView.as_view(), name="client-slots"),
    path("<str:token>/requests", views.ClientRequestView.as_view(), name="client-requests"),
    path("<str:token>/files", views.ClientFilesView.as_view(), name="client-files"),
    path("<str:token>/notes", views.ClientNoteView.as_view(), name="client-notes"),
    path("<str:token>/quotes", views.ClientQuotesView.as_view(), name="client-quotes"),
    path("<str:token>/quotes/<str:quote_id>/accept", views.ClientQuoteAcceptView.as_view(), name="client-quote-accept"),
    path("<str:token>/quotes/<str:quote_id>/reject", views.ClientQuoteRejectView.as_view(), name="client-quote-reject"),
]
