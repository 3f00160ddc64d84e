from django.urls import path
from django.views.i18n import set_language

from invoicing import partner_views as invoicing_views
from partners.views import auth, calendar, coverage, jobs, offers, team
from pricing import partner as partner_quotes

app_name = "partners"

urlpatterns = [
    path("", offers.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("password-reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path("password-reset/sent/", auth.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password-reset/done/", auth.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("organization/", auth.switch_organization, name="switch"),
    path("language/", set_language, name="language"),
    path("offers/", offers.inbox, name="offers"),
    path("offers/<str:offer_id>/accept/", offers.accept, name="offer_accept"),
    path("offers/<str:offer_id>/decline/", offers.decline, name="offer_decline"),
    path("jobs/", jobs.job_list, name="jobs"),
    path("jobs/<str:order_id>/", jobs.job_detail, name="job"),
    path("jobs/<str:order_id>/book/", jobs.book, name="job_book"),
    path("jobs/<str:order_id>/unbook/", jobs.unbook, name="job_unbook"),
    path("jobs/<str:order_id>/start/", jobs.start, name="job_start"),
    path("jobs/<str:order_id>/complete/", jobs.complete, name="job_complete"),
    path("jobs/<str:order_id>/steps/", jobs.complete_step, name="job_step"),
    path("jobs/<str:order_id>/assign/", jobs.assign, name="job_assign"),
    path("jobs/<str:order_id>/files/<str:file_id>/", jobs.file_download, name="job_file"),
    path("jobs/<str:order_id>/quotes/", partner_quotes.quote_create, name="job_quote_create"),
    path("jobs/<str:order_id>/quotes/<str:quote_id>/send/", partner_quotes.quote_send, name="job_quote_send"),
    path(
        "jobs/<str:order_id>/quotes/<str:quote_id>/withdraw/", partner_quotes.quote_withdraw, name="job_quote_withdraw"
    ),
    path("coverage/", coverage.coverage, name="coverage"),
    path("coverage/hours/", coverage.working_hours, name="working_hours"),
    path("team/", team.team, name="team"),
    path("team/invite/", team.invite, name="team_invite"),
    path("team/invitations/<str:invitation_id>/revoke/", team.revoke, name="team_revoke"),
    path("team/members/<int:membership_id>/role/", team.change_role, name="team_role"),
    path("team/members/<int:membership_id>/remove/", team.remove, name="team_remove"),
    path("calendar/", calendar.calendar, name="calendar"),
    path("calendar/rotate/", calendar.rotate, name="calendar_rotate"),
    path("calendar/<str:secret>.ics", calendar.feed, name="calendar_feed"),
    path("statement/", invoicing_views.statement, name="statement"),
]
