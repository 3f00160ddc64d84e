"""Staff groups with the model permissions the back office needs, one per membership role.

The membership role still decides per organization (a viewer membership is read-only whatever
the group allows); the group only opens the admin pages. Groups are (re)built after every
`migrate`, so a new app's models are picked up without a data migration.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from accounts.models import Membership, Role

# Apps whose models operators work with in the admin (apps not installed are simply absent).
BACKOFFICE_APP_LABELS = (
    "accounts",
    "orders",
    "dispatch",
    "webforms",
    "webhooks",
    "backoffice",
    "notifications",
    "portal",
    "scorecards",
    "invoicing",
    "pricing",
)
EXCLUDED_MODELS = {"idempotencyrecord", "taggedorder", "taggedproduct"}

GROUP_NAMES = {
    Role.ADMIN: "Back office admins",
    Role.OPERATOR: "Back office operators",
    Role.VIEWER: "Back office viewers",
}
ACTIONS_BY_ROLE = {
    Role.ADMIN: ("view", "add", "change", "delete"),
    Role.OPERATOR: ("view", "add", "change"),
    Role.VIEWER: ("view",),
}


def ensure_groups() -> dict[str, Group]:
    """Creates or updates the three groups. Idempotent."""
    perms = Permission.objects.filter(content_type__app_label__in=BACKOFFICE_APP_LABELS).exclude(
        content_type__model__in=EXCLUDED_MODELS
    )
    result: dict[str, Group] = {}
    for role, name in GROUP_NAMES.items():
        group, _ = Group.objects.get_or_create(name=name)
        condition = Q()
        for action in ACTIONS_BY_ROLE[role]:
            condition |= Q(codename__startswith=f"{action}_")
        group.permissions.set(perms.filter(condition))
        result[role] = group
    return result


def ensure_groups_after_migrate(sender, app_config=None, using="default", **kwargs):
    if getattr(sender, "label", None) in BACKOFFICE_APP_LABELS:
        ensure_groups()


def sync_user_groups(user) -> None:
    """Puts a staff user into the group of their highest membership role (and out of the others)."""
    roles = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    groups = ensure_groups()
    best = next((r for r in (Role.ADMIN, Role.OPERATOR, Role.VIEWER) if r in roles), None)
    user.groups.remove(*[g for r, g in groups.items() if r != best])
    if best is not None:
        user.groups.add(groups[best])
