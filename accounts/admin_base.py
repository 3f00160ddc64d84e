"""Tenancy for the back office: a staff user sees and edits only the organizations they belong to.

Every ModelAdmin of a model that belongs to an organization inherits `TenantScopedAdmin` (inlines:
`TenantScopedInline`) and names the lookup path to the owning organization in `tenant_field`
(`"organization"`, `"workflow__organization"`, `"pk"` for Organization itself). The mixin then
restricts, for users who are not superusers:

- the changelist, change, delete and history pages (`get_queryset`; others' objects are a 404),
- autocomplete results (Django's AutocompleteJsonView reads the remote admin's `get_queryset`),
- the choices of foreign keys and many-to-many fields, and of related list filters,
- actions (the selection is narrowed to organizations the user may write to),
- writes by membership role: `tenant_write_roles` (admin and operator by default); a viewer
  membership is read-only whatever the Django permissions say.

Django's model permissions (given through the back-office groups, see `accounts.groups`)
still apply on top: both must allow an action.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.contrib import admin
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth import get_user_model
from django.db import models
from django.http import Http404

from accounts.models import Membership, Organization, Role

WRITE_ROLES = (Role.ADMIN, Role.OPERATOR)


# --------------------------------------------------------------------------------------------
# Who may see and write what
# --------------------------------------------------------------------------------------------


def memberships_of(request) -> dict[uuid.UUID, str]:
    """{organization id: role} for the request's user, read once per request."""
    cached = getattr(request, "_tenant_roles", None)
    if cached is None:
        user = request.user
        cached = {}
        if user.is_authenticated and user.is_active:
            # A technician works in the partner workspace only: its membership opens nothing here.
            memberships = Membership.objects.filter(user=user).exclude(role=Role.TECHNICIAN)
            cached = dict(memberships.values_list("organization_id", "role"))
        request._tenant_roles = cached
    return cached


def is_unrestricted(request) -> bool:
    return bool(request.user.is_active and request.user.is_superuser)


def readable_org_ids(request) -> list[uuid.UUID] | None:
    """Organizations the user may see; None means all (superuser)."""
    if is_unrestricted(request):
        return None
    return list(memberships_of(request))


def writable_org_ids(request, roles: Iterable[str] = WRITE_ROLES) -> list[uuid.UUID] | None:
    """Organizations where the user's role allows writes; None means all (superuser)."""
    if is_unrestricted(request):
        return None
    roles = set(roles)
    return [org_id for org_id, role in memberships_of(request).items() if role in roles]


def role_in(request, organization_id) -> str | None:
    """The user's role in one organization (`admin` for superusers), None if not a member."""
    if is_unrestricted(request):
        return Role.ADMIN
    return memberships_of(request).get(organization_id)


def scope(qs: models.QuerySet, path: str, org_ids: list | None) -> models.QuerySet:
    if org_ids is None:
        return qs
    return qs.filter(**{f"{path}__in": org_ids})


def tenant_id_of(obj, path: str):
    """The organization id an object belongs to, following `path` (`a__b__organization`)."""
    if path == "pk":
        return obj.pk
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop, None)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id", None) or getattr(getattr(obj, last, None), "pk", None)


def scoped_choices(request, model, qs: models.QuerySet) -> models.QuerySet:
    """Choices of a related field for this user: only what belongs to their organizations."""
    org_ids = readable_org_ids(request)
    if org_ids is None:
        return qs
    if model is Organization:
        return qs.filter(pk__in=org_ids)
    if model is get_user_model():
        return qs.filter(memberships__organization__in=org_ids).distinct()
    try:
        model_admin = admin.site.get_model_admin(model)
    except NotRegistered:
        model_admin = None
    if isinstance(model_admin, TenantScopedAdmin):
        return scope(qs, model_admin.tenant_field, org_ids)
    if any(f.name == "organization" for f in model._meta.get_fields()):
        return qs.filter(organization__in=org_ids)
    return qs


class TenantRelatedFilter(admin.RelatedFieldListFilter):
    """A related-field list filter that offers only the user's organizations' objects."""

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        qs = scoped_choices(request, field.related_model, field.related_model._default_manager.all())
        if ordering:
            qs = qs.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in qs[:200]]


# --------------------------------------------------------------------------------------------
# The mixins
# --------------------------------------------------------------------------------------------


class _TenantFormfields:
    tenant_field = "organization"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            remote = db_field.related_model
            qs = remote._default_manager.all()
            if db_field.name == self.tenant_field and remote is Organization:
                org_ids = writable_org_ids(request, self.tenant_write_roles)
                qs = qs if org_ids is None else qs.filter(pk__in=org_ids)
                if org_ids is not None and len(org_ids) == 1:
                    kwargs.setdefault("initial", org_ids[0])
            else:
                qs = scoped_choices(request, remote, qs)
            kwargs["queryset"] = qs
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            remote = db_field.related_model
            kwargs["queryset"] = scoped_choices(request, remote, remote._default_manager.all())
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class TenantScopedAdmin(_TenantFormfields, admin.ModelAdmin):
    """ModelAdmin restricted to the organizations the staff user belongs to (see module doc)."""

    tenant_field = "organization"
    tenant_write_roles: tuple[str, ...] = WRITE_ROLES

    # -- reading
    def get_queryset(self, request):
        return scope(super().get_queryset(request), self.tenant_field, readable_org_ids(request))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:  # absent or another organization's: the same 404
            raise Http404("Not found.")
        return obj

    def get_list_filter(self, request):
        """Plain foreign-key filters become tenant-scoped ones, so no other tenant's names leak."""
        result = []
        for item in super().get_list_filter(request):
            if isinstance(item, str) and "__" not in item:
                try:
                    field = self.model._meta.get_field(item)
                except Exception:  # noqa: BLE001 - not a model field: keep as is
                    field = None
                if field is not None and field.is_relation and field.many_to_one:
                    item = (item, TenantRelatedFilter)
            result.append(item)
        return result

    # -- permissions: Django's model permission AND the membership role
    def _member(self, request) -> bool:
        return is_unrestricted(request) or bool(memberships_of(request))

    def _may_write(self, request, obj=None) -> bool:
        org_ids = writable_org_ids(request, self.tenant_write_roles)
        if org_ids is None:
            return True
        if obj is None:
            return bool(org_ids)
        return tenant_id_of(obj, self.tenant_field) in org_ids

    def has_module_permission(self, request):
        return self._member(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._member(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self._may_write(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._may_write(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_write(request, obj) and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # An object never moves to another organization.
        direct = "__" not in self.tenant_field and self.tenant_field != "pk"
        if obj is not None and direct and self.tenant_field not in fields:
            fields.append(self.tenant_field)
        return fields

    # -- actions: a writing action only touches organizations the user may write to
    def response_action(self, request, queryset):
        name = request.POST.get("action")
        action = self.get_actions(request).get(name) if name else None
        if action is not None:
            needs = set(getattr(action[0], "allowed_permissions", ()) or ("change",))
            if needs - {"view"}:
                queryset = scope(queryset, self.tenant_field, writable_org_ids(request, self.tenant_write_roles))
        return super().response_action(request, queryset)


class TenantScopedInline(_TenantFormfields):
    """Inline of a tenant-scoped parent: writable only where the parent is writable."""

    tenant_write_roles: tuple[str, ...] = WRITE_ROLES
    parent_tenant_field = "organization"

    def _may_write(self, request, obj=None) -> bool:
        org_ids = writable_org_ids(request, self.tenant_write_roles)
        if org_ids is None:
            return True
        if obj is None:
            return bool(org_ids)
        return tenant_id_of(obj, self.parent_tenant_field) in org_ids

    def has_add_permission(self, request, obj=None):
        return self._may_write(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may_write(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_write(request, obj) and super().has_delete_permission(request, obj)
