"""Sign-in, sign-out, password reset (Django's auth views with the workspace's templates), the
organization switcher and the language chooser."""

from __future__ import annotations

from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_POST

from partners import workspace
from partners.forms import PartnerLoginForm


class LoginView(auth_views.LoginView):
    """django-axes counts each failure of this form per user and address, as for the admin."""

    template_name = "partners/login.html"
    authentication_form = PartnerLoginForm
    redirect_authenticated_user = False

    def get_default_redirect_url(self) -> str:
        return reverse("partners:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        self.request.session.pop(workspace.SESSION_KEY, None)
        return response


class LogoutView(auth_views.LogoutView):
    def get_success_url(self) -> str:
        return reverse("partners:login")


class PartnerPasswordResetForm(auth_forms.PasswordResetForm):
    """Only members of an installer organization get a reset link from the partner workspace."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if workspace.partner_memberships(user))


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PartnerPasswordResetForm
    template_name = "partners/password_reset_form.html"
    email_template_name = "partners/password_reset_email.txt"
    subject_template_name = "partners/password_reset_subject.txt"
    success_url = reverse_lazy("partners:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "partners/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "partners/password_reset_confirm.html"
    success_url = reverse_lazy("partners:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "partners/password_reset_complete.html"


@require_POST
@workspace.partner_view
def switch_organization(request: HttpRequest) -> HttpResponse:
    """Makes another of the user's installer organizations the current one (404 for any other)."""
    workspace.select_organization(request, str(request.POST.get("organization", "")))
    return redirect("partners:home")
