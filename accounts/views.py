"""Account pages outside the back office: accepting an invitation (`/partner/invitations/<token>/`).

The page stands alone (its own template, no partner workspace layout), so it works before the
person has an account. A bad, expired, used or revoked link is a 404 page, never a 500."""

from __future__ import annotations

from django.contrib.auth import get_user_model, login
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts import services
from accounts.exceptions import Conflict, InvalidInput, InvitationInvalid, NotAllowed
from accounts.forms import InvitationPasswordForm
from accounts.models import Role

TEMPLATE = "accounts/invitation_accept.html"
WORKSPACE_URL = "/partner/"
LOGIN_URL = "/partner/login/"
BACKEND = "django.contrib.auth.backends.ModelBackend"


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, TEMPLATE, {"invalid": True}, status=404)


@never_cache
@csrf_protect
@sensitive_post_parameters("password1", "password2")
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the organization and role, and either a set-password form (no account has the
    email), a "join" button (signed in as the invited email), or a sign-in link (an account
    with the email exists). POST accepts, signs the person in and goes to the workspace."""
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return _invalid(request)
    user = request.user if request.user.is_authenticated else None
    if user is not None:
        mode = "join" if (user.email or "").lower() == invitation.email.lower() else "other_user"
    else:
        same_email = Q(email__iexact=invitation.email) | Q(username__iexact=invitation.email)
        exists = get_user_model().objects.filter(same_email).exists()
        mode = "sign_in" if exists else "new"
    form = InvitationPasswordForm(request.POST or None, email=invitation.email) if mode == "new" else None
    error = ""
    if request.method == "POST" and mode in ("join", "new") and (form is None or form.is_valid()):
        password = form.cleaned_data["password1"] if form is not None else None
        try:
            _, member = services.invitation_accept(token=token, user=user, password=password)
        except InvitationInvalid:
            return _invalid(request)
        except (NotAllowed, Conflict, InvalidInput) as exc:
            error = exc.message
        else:
            if user is None:
                login(request, member, backend=BACKEND)
            return redirect(WORKSPACE_URL)
    context = {
        "invitation": invitation,
        "role_label": Role(invitation.role).label,
        "mode": mode,
        "form": form,
        "error": error,
        "login_url": f"{LOGIN_URL}?next={request.path}",
    }
    return render(request, TEMPLATE, context, status=400 if (error or (form is not None and form.errors)) else 200)
