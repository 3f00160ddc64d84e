"""The team: a partner admin's members and open invitations; invite by email with a role, revoke
an invitation, change a member's role, remove a member (accounts.services, one transaction
each). Other roles get a 403 page that says why: the page exists for every partner company, so
its existence is no secret, and the person learns whom to ask."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts import services as account_services
from accounts.models import Role
from dispatch import services as dispatch_services
from installer.errors import DomainError, NotFound
from orders import transitions
from orders.models import Order
from orders.selectors import parse_uuid
from partners import presenters, selectors
from partners.forms import InviteForm, RoleForm, partner_role_choices
from partners.views.common import error_status
from partners.workspace import Workspace, forbidden, partner_view


def role_label(role: str) -> str:
    return str(dict(partner_role_choices()).get(role) or Role(role).label)


def _admin_only(request: HttpRequest) -> HttpResponse | None:
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    if ws.can_invite:
        return None
    return forbidden(request, _("Only your company's partner admin manages the team."))


def _error_sentence(error: DomainError) -> str:
    """The account services' refusals as sentences in the reader's language."""
    message = error.message
    if "last" in message or "at least one admin" in message:
        return _("The company must keep at least one partner admin.")
    if "yourself" in message:
        return _("You cannot change or remove yourself; another partner admin can.")
    if "already a member" in message:
        return _("This person is already a member.")
    if "open invitation" in message:
        return _("This person already has an open invitation. Revoke it to send a new one.")
    if "valid email" in message:
        return _("Enter a valid email address.")
    return message


def _page(
    request: HttpRequest, *, status: int = 200, invite_form: InviteForm | None = None, error: str = ""
) -> HttpResponse:
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    now = timezone.now()
    members = [
        {
            "membership": m,
            "name": presenters.person_name(m.user),
            "email": m.user.email,
            "role": role_label(m.role),
            "is_self": m.user_id == request.user.pk,
            "form": RoleForm(initial={"role": m.role}, auto_id=f"member-{m.pk}-%s"),
        }
        for m in selectors.team_members(ws.organization)
    ]
    invitations = [
        {
            "invitation": i,
            "role": role_label(i.role),
            "expires": presenters.local_html(i.expires_at, ws.zone),
        }
        for i in selectors.open_invitations(ws.organization, now)
    ]
    context = {
        "ws": ws,
        "members": members,
        "invitations": invitations,
        "invite_form": invite_form or InviteForm(),
        "error": error,
        "zone": ws.zone.key,
        "nav": "team",
    }
    return render(request, "partners/team.html", context, status=status)


@require_GET
@partner_view
def team(request: HttpRequest) -> HttpResponse:
    return _admin_only(request) or _page(request)


@require_POST
@partner_view
def invite(request: HttpRequest) -> HttpResponse:
    refused = _admin_only(request)
    if refused is not None:
        return refused
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _page(request, status=400, invite_form=form)
    try:
        account_services.invitation_create(
            organization=ws.organization,
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            invited_by=request.user,
        )
    except DomainError as exc:
        form.add_error("email", _error_sentence(exc))
        return _page(request, status=error_status(exc), invite_form=form)
    messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
    return redirect("partners:team")


@require_POST
@partner_view
def revoke(request: HttpRequest, invitation_id: str) -> HttpResponse:
    refused = _admin_only(request)
    if refused is not None:
        return refused
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    try:
        invitation = account_services.invitation_revoke(
            invitation_id=_uuid_or_404(invitation_id), organization=ws.organization, revoked_by=request.user
        )
    except DomainError as exc:
        return _refused(request, exc)
    messages.success(request, _("Invitation to %(email)s revoked.") % {"email": invitation.email})
    return redirect("partners:team")


@require_POST
@partner_view
def change_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    refused = _admin_only(request)
    if refused is not None:
        return refused
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _page(request, status=400, error=_("Choose a role."))
    try:
        membership = account_services.membership_set_role(
            membership_id=membership_id,
            organization=ws.organization,
            role=form.cleaned_data["role"],
            changed_by=request.user,
        )
    except DomainError as exc:
        return _refused(request, exc)
    messages.success(
        request,
        _("%(name)s is now %(role)s.")
        % {"name": presenters.person_name(membership.user), "role": role_label(membership.role)},
    )
    return redirect("partners:team")


@require_POST
@partner_view
def remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    refused = _admin_only(request)
    if refused is not None:
        return refused
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    try:
        membership = account_services.membership_remove(
            membership_id=membership_id, organization=ws.organization, removed_by=request.user
        )
    except DomainError as exc:
        return _refused(request, exc)
    _unassign_open_jobs(ws, membership.user)
    messages.success(request, _("%(name)s was removed.") % {"name": presenters.person_name(membership.user)})
    return redirect("partners:team")


def _unassign_open_jobs(ws: Workspace, user: Any) -> None:
    """A removed member's open jobs go back to "unassigned" through the API's service (timeline
    and webhook for each), so that no job waits for someone who left."""
    open_jobs = Order.objects.filter(installer=ws.organization, assignee=user).exclude(status__in=transitions.TERMINAL)
    for order_id in open_jobs.values_list("pk", flat=True):
        try:
            dispatch_services.order_assign(
                order_id=order_id, organization=ws.organization, actor=ws.actor, role=ws.membership.role, assignee=None
            )
        except DomainError:  # completed or cancelled meanwhile: it keeps its assignee
            continue


def _uuid_or_404(value: str) -> Any:
    pk = parse_uuid(value)
    if pk is None:
        raise NotFound("Invitation not found.")
    return pk


def _refused(request: HttpRequest, error: DomainError) -> HttpResponse:
    if isinstance(error, NotFound):
        raise Http404(error.message)
    return _page(request, status=error_status(error), error=_error_sentence(error))
