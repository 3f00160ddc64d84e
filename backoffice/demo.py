"""Demo: the demo staff users get the back-office group of their role (called by seed_demo)."""

from django.conf import settings
from django.contrib.auth import get_user_model

from accounts.groups import sync_user_groups

DEMO_STAFF = ("admin", "operator", "viewer", "other-admin")


def seed(*, demo, other, stdout, quiet):
    for user in get_user_model().objects.filter(username__in=DEMO_STAFF):
        sync_user_groups(user)
    if not quiet:
        stdout.write(f"  Back office:    {settings.PUBLIC_BASE_URL}/admin/dashboard/")
