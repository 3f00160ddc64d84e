"""Roles: admin and operator may write; viewer may only read (403 otherwise)."""

from rest_framework import exceptions, permissions

from accounts.models import Role, role_may_write


class OrganizationRolePermission(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        membership = getattr(request, "membership", None)
        if membership is None:
            raise exceptions.NotAuthenticated("Authentication required: send 'Authorization: Bearer <token>'.")
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
