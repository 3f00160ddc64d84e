"""Memberships and API tokens in the back office. Only an organization's admins change these
(`tenant_write_roles = (Role.ADMIN,)`). Tokens are made and revoked by the same services as the
API; a new token's key is shown once, on the page after the add form.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.utils.html import format_html

from accounts import services as account_services
from accounts.admin_base import TenantScopedAdmin, scope, writable_org_ids
from accounts.models import ApiToken, Invitation, Membership, Role, role_valid_for
from installer.errors import DomainError


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    tenant_write_roles = (Role.ADMIN,)
    list_display = ("user", "organization", "role", "created_at")
    list_select_related = ("user", "organization")
    list_filter = ("role", "organization")
    search_fields = ("user__username", "user__email", "organization__name")
    fields = ("user", "organization", "role")


@admin.action(description="Revoke selected tokens", permissions=["change"])
def revoke_tokens(modeladmin, request, queryset):
    count = 0
    for token in queryset.filter(revoked_at__isnull=True):
        account_services.api_token_revoke(token=token)
        count += 1
    modeladmin.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("membership", "name", "expires_at", "test")


NEW_TOKEN_SESSION_KEY = "backoffice:new-token"


@admin.register(ApiToken)
class ApiTokenAdmin(TenantScopedAdmin):
    tenant_field = "membership__organization"
    tenant_write_roles = (Role.ADMIN,)
    form = ApiTokenForm
    list_display = (
        "name",
        "prefix_display",
        "membership",
        "state",
        "test",
        "created_at",
        "last_used_at",
        "expires_at",
    )
    list_select_related = ("membership__user", "membership__organization")
    search_fields = ("name", "prefix", "membership__user__username")
    list_filter = ("revoked_at", "test")
    actions = [revoke_tokens]
    readonly_fields = ("prefix_display", "state", "created_at", "last_used_at", "revoked_at")

    @admin.display(description="Token")
    def prefix_display(self, obj):
        return f"{obj.prefix}…" if obj.prefix else "-"

    @admin.display(description="State")
    def state(self, obj):
        if obj.revoked_at:
            return "revoked"
        return "active" if obj.is_active else "expired"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("membership", "name", "expires_at", "test")
        return (
            "name",
            "membership",
            "prefix_display",
            "state",
            "test",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (
            "membership",
            "prefix_display",
            "state",
            "test",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "membership":
            qs = Membership.objects.select_related("user", "organization")
            kwargs["queryset"] = scope(qs, "organization", writable_org_ids(request, self.tenant_write_roles))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = account_services.api_token_create(
            membership=form.cleaned_data["membership"],
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data.get("expires_at"),
            test=bool(form.cleaned_data.get("test")),
        )
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = token.pk, token.prefix, token.key_hash, token.created_at
        # Kept server-side only until the next page shows it once (never in a cookie).
        request.session[NEW_TOKEN_SESSION_KEY] = {"id": str(token.pk), "raw": raw}

    def response_add(self, request, obj, post_url_continue=None):
        super().response_add(request, obj, post_url_continue)
        return redirect("admin:accounts_apitoken_change", obj.pk)  # where the text is shown once

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pending = request.session.get(NEW_TOKEN_SESSION_KEY)
        if pending and pending.get("id") == str(object_id):
            del request.session[NEW_TOKEN_SESSION_KEY]
            messages.warning(
                request,
                format_html(
                    "New API token: <code class='new-api-token'>{}</code> Copy it now: it is shown only this once.",
                    pending["raw"],
                ),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the timeline keeps pointing at the token


class InvitationForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ("organization", "email", "role")

    def clean(self):
        data = super().clean()
        organization, role = data.get("organization"), data.get("role")
        if organization is not None and role and not role_valid_for(role, organization):
            self.add_error("role", "The technician role exists only in an installer organization.")
        return data


@admin.action(description="Revoke selected invitations", permissions=["change"])
def revoke_invitations(modeladmin, request, queryset):
    count = 0
    for invitation in queryset.filter(accepted_at__isnull=True, revoked_at__isnull=True).select_related("organization"):
        account_services.invitation_revoke(
            invitation_id=invitation.pk, organization=invitation.organization, revoked_by=request.user
        )
        count += 1
    modeladmin.message_user(request, f"{count} invitation(s) revoked.", messages.SUCCESS)


@admin.register(Invitation)
class InvitationAdmin(TenantScopedAdmin):
    """Invitations: made (and emailed) by accounts.services.invitation_create, revoked by
    invitation_revoke. The link's token is never shown: it is only in the email."""

    tenant_write_roles = (Role.ADMIN,)
    form = InvitationForm
    list_display = ("email", "organization", "role", "state", "invited_by", "created_at", "expires_at")
    list_select_related = ("organization", "invited_by")
    list_filter = ("role", "organization")
    search_fields = ("email", "organization__name")
    actions = [revoke_invitations]

    @admin.display(description="State")
    def state(self, obj):
        return obj.state

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("organization", "email", "role")
        return ("organization", "email", "role", "state", "invited_by", "created_at", "expires_at", "accepted_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return  # an invitation is not edited: revoke it and invite again
        try:
            invitation, _ = account_services.invitation_create(
                organization=form.cleaned_data["organization"],
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            raise _Refused from None
        obj.pk = invitation.pk

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except _Refused:
            return redirect("admin:accounts_invitation_changelist")

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row records who invited whom


class _Refused(Exception):
    """The service refused the admin's invitation; its message is already shown."""
