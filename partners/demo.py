"""Demo data for the partner workspace (called by `manage.py seed_demo`, idempotent): each demo
installer company gets a partner admin (`oslo-admin`) and a technician (`oslo-tech`) with the
demo password."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from accounts import services as account_services
from accounts.models import Organization, Role
from orders.demo import DEMO_PASSWORD

# installer organization slug -> the prefix of its people's usernames
DEMO_PARTNERS = {"oslo-elektro": "oslo", "fjord-installasjon": "fjord", "nordic-charge": "nordic"}
# The technician's membership role: it may work on jobs but not administer the company.
TECHNICIAN_ROLE = Role.TECHNICIAN


def _user(username: str, name: str):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.com", "first_name": name, "is_staff": False}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def seed(*, stdout, quiet: bool, port: str = "8000") -> None:
    logins = []
    for org in Organization.objects.filter(slug__in=DEMO_PARTNERS).order_by("name"):
        prefix = DEMO_PARTNERS[org.slug]
        admin = _user(f"{prefix}-admin", f"{org.name} admin")
        account_services.membership_ensure(user=admin, organization=org, role=Role.ADMIN)
        tech = _user(f"{prefix}-tech", f"{org.name} technician")
        account_services.membership_ensure(user=tech, organization=org, role=TECHNICIAN_ROLE)
        logins.extend([admin.username, tech.username])
    if not quiet and logins:
        stdout.write(f"  Partner login:  http://127.0.0.1:{port}/partner/login/  {', '.join(logins)} / {DEMO_PASSWORD}")
