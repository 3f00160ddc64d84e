"""Roles (accounts.models.ROLE_RIGHTS): admin and operator may write; viewer may only read; a
technician may only call what a view opens to it in `technician_actions` (its jobs: the view
and the service limit them to the orders assigned to it), everything else is 403."""

from rest_framework import exceptions, permissions

from accounts.models import Role, role_may_write, role_sees_only_assigned


class OrganizationRolePermission(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        membership = getattr(request, "membership", None)
        if membership is None:
            raise exceptions.NotAuthenticated("Authentication required: send 'Authorization: Bearer <token>'.")
        if role_sees_only_assigned(membership.role):
            # Fails closed: a view (or an action) that does not name technicians refuses them.
            if getattr(view, "action", None) not in getattr(view, "technician_actions", ()):
                raise exceptions.PermissionDenied(f"The '{membership.role}' role cannot do this.")
            return True
        if request.method in permissions.SAFE_METHODS:
            return True
        if not role_may_write(membership.role):
            raise exceptions.PermissionDenied(f"The '{membership.role}' role cannot make changes.")
        return True


class AdminOnly(OrganizationRolePermission):
    def has_permission(self, request, view) -> bool:
        super().has_permission(request, view)
        if request.membership.role != Role.ADMIN:
            raise exceptions.PermissionDenied("Only an organization admin can do this.")
        return True
