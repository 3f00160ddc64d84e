"""Who is at work in the partner workspace: the signed-in user, the installer organizations they
are a member of, and the current one (kept in the session). Every page reads through it, so
every page is scoped to the current organization."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse

from accounts.models import Membership, Organization, role_may_assign, role_may_invite, role_may_work_jobs
from accounts.zones import zone_of
from orders.actors import Actor
from orders.selectors import Viewer

SESSION_KEY = "partner_organization"


@dataclass(frozen=True)
class Workspace:
    membership: Membership
    memberships: list[Membership]

    @property
    def organization(self) -> Organization:
        return self.membership.organization

    @property
    def viewer(self) -> Viewer:
        return Viewer.for_membership(self.membership)

    @property
    def actor(self) -> Actor:
        """The timeline actor of what the user does here: the user (as in the admin)."""
        return Actor.for_user(self.membership.user)

    @property
    def zone(self):
        return zone_of(self.organization)

    @property
    def can_write(self) -> bool:
        """Answers offers (admin, dispatcher)."""
        return self.membership.can_write

    @property
    def can_work_jobs(self) -> bool:
        """Books, starts, completes the jobs it reads (a technician: those assigned to it)."""
        return role_may_work_jobs(self.membership.role)

    @property
    def can_assign(self) -> bool:
        return role_may_assign(self.membership.role)

    @property
    def can_invite(self) -> bool:
        """Manages the team: invitations, roles, removals (a partner admin)."""
        return role_may_invite(self.membership.role)

    @property
    def technician_id(self):
        """The services' `technician_id`: the user for a technician, else None (as in the API)."""
        return self.viewer.technician_id

    @property
    def only_assigned(self) -> bool:
        return self.viewer.only_assigned


def partner_memberships(user: Any) -> list[Membership]:
    """The user's memberships of installer organizations (one query), by organization name."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        Membership.objects.filter(user=user, organization__is_installer=True)
        .select_related("organization", "user")
        .order_by("organization__name", "organization_id")
    )


def workspace_for(request: HttpRequest) -> Workspace | None:
    """The request's workspace: the membership named in the session, else the first one."""
    memberships = partner_memberships(request.user)
    if not memberships:
        return None
    chosen = request.session.get(SESSION_KEY)
    current = next((m for m in memberships if str(m.organization_id) == chosen), memberships[0])
    if chosen != str(current.organization_id):
        request.session[SESSION_KEY] = str(current.organization_id)
    return Workspace(membership=current, memberships=memberships)


def select_organization(request: HttpRequest, organization_id: str) -> Workspace:
    """Makes the organization the current one; Http404 when the user is not a member of it."""
    memberships = partner_memberships(request.user)
    chosen = next((m for m in memberships if str(m.organization_id) == organization_id), None)
    if chosen is None:
        raise Http404("No such organization.")
    request.session[SESSION_KEY] = str(chosen.organization_id)
    return Workspace(membership=chosen, memberships=memberships)


def no_access(request: HttpRequest) -> HttpResponse:
    """A signed-in user who is no installer organization's member: a 404 that shows nothing."""
    return render(request, "partners/no_access.html", status=404)


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    """A page the user's role may not use: 403 with the reason. (Another organization's data is
    a 404; a page every partner company has is no secret, so the person is told why.)"""
    ws = getattr(request, "workspace", None)
    return render(request, "partners/forbidden.html", {"ws": ws, "message": message}, status=403)


def partner_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Pages of the workspace: sign-in required (else to /partner/login/), a membership of an
    installer organization required (else 404), `request.workspace` set; private, never cached."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("partners:login"))
        workspace = workspace_for(request)
        if workspace is None:
            return no_access(request)
        request.workspace = workspace  # type: ignore[attr-defined]
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        return response

    return wrapper
