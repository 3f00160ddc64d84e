"""Demo data for dispatch (called by `manage.py seed_demo`, idempotent).

Three installer companies partner with the demo router and cover the demo postal codes (Oslo
0150-0599 by range, 0* by prefix, and a 15 km radius); each gets an admin user
(`installer-<city>`, whose tokens `make tokens` prints), a partner admin for the partner
workspace (`<city>-admin`) and a technician (`<city>-tech`): every demo installer person is
made here, and partners.demo prints the workspace logins from `partner_logins`. Demo orders
are walked through the lifecycle so that every status shows: dispatching, scheduled,
in_progress, completed, declined, plus the created and cancelled ones of orders.demo; each
installer's first scheduled job is assigned to its technician.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Organization, Role
from accounts.zones import zone_of
from dispatch import services
from dispatch.models import CoverageArea, CoverageKind, Offer, Partnership
from orders import services as order_services
from orders.actors import Actor
from orders.demo import DEMO_PASSWORD
from orders.models import Order, OrderStatus

# kind, country code, value, value to, radius (km)
CoverageRule = tuple[str, str, str, str, float | None]
# slug, name, username, base (lat, lng), priority, capacity, coverage rules
DEMO_INSTALLERS: list[tuple[str, str, str, tuple[float, float], int, int | None, list[CoverageRule]]] = [
    (
        "oslo-elektro",
        "Oslo Elektro AS",
        "installer-oslo",
        (59.9139, 10.7522),
        10,
        10,
        [(CoverageKind.RANGE, "NO", "0150", "0599", None)],
    ),
    (
        "fjord-installasjon",
        "Fjord Installasjon AS",
        "installer-fjord",
        (59.9300, 10.7100),
        20,
        5,
        [(CoverageKind.PREFIX, "NO", "0", "", None)],
    ),
    (
        "nordic-charge",
        "Nordic Charge AS",
        "installer-nordic",
        (59.9500, 10.7800),
        30,
        None,
        [(CoverageKind.RADIUS, "", "", "", 15.0)],
    ),
]

EXTRA_ORDERS = [
    # key, name, address, postal, phone, lat, lng
    ("demo-6", "Nora Lie", "Grünerløkka 3", "0552", "+4794567890", 59.9240, 10.7580),
    ("demo-7", "Jonas Dahl", "Frognerveien 12", "0263", "+4795678901", 59.9190, 10.7100),
]


def technician_username(admin_username: str) -> str:
    """`installer-oslo` -> `oslo-tech`."""
    return f"{admin_username.removeprefix('installer-')}-tech"


def partner_admin_username(admin_username: str) -> str:
    """`installer-oslo` -> `oslo-admin`: the partner admin who signs in at /partner/."""
    return f"{admin_username.removeprefix('installer-')}-admin"


def partner_logins() -> list[str]:
    """The partner workspace's demo logins: each installer's partner admin and technician."""
    return sorted(
        name
        for _, _, username, *_ in DEMO_INSTALLERS
        for name in (partner_admin_username(username), technician_username(username))
    )


def _user(username: str, name: str = ""):
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": f"{username}@example.com", "first_name": name, "is_staff": False}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


def _installers(stdout, quiet) -> list[Organization]:
    out = []
    for slug, name, username, (lat, lng), _, _, _ in DEMO_INSTALLERS:
        org = Organization.objects.filter(slug=slug).first() or order_services.organization_create(
            name=name,
            slug=slug,
            is_installer=True,
            base_latitude=lat,
            base_longitude=lng,
            email=f"jobs@{slug}.example",
            phone_number="+4722000000",
            time_zone="Europe/Oslo",
        )
        account_services.membership_ensure(user=_user(username), organization=org, role=Role.ADMIN)
        partner_admin = _user(partner_admin_username(username), f"{name} admin")
        account_services.membership_ensure(user=partner_admin, organization=org, role=Role.ADMIN)
        technician = _user(technician_username(username), f"{name} technician")
        account_services.membership_ensure(user=technician, organization=org, role=Role.TECHNICIAN)
        out.append(org)
    return out


def _partnerships(demo: Organization, installers: list[Organization]) -> None:
    for org, (_, _, _, _, priority, capacity, rules) in zip(installers, DEMO_INSTALLERS, strict=True):
        partnership, created = Partnership.objects.get_or_create(
            router=demo, installer=org, defaults={"priority": priority, "capacity": capacity, "skills": ["ev-charger"]}
        )
        if created:
            for kind, country, value, value_to, radius in rules:
                CoverageArea.objects.create(
                    partnership=partnership,
                    kind=kind,
                    country_code=country,
                    value=value,
                    value_to=value_to,
                    radius_km=radius,
                )


def _extra_orders(demo: Organization, actor: Actor) -> None:
    for key, name, address, postal, phone, lat, lng in EXTRA_ORDERS:
        if Order.all_objects.filter(organization=demo, idempotency_key=key).exists():  # deleted ones too
            continue
        order_services.order_create(
            organization=demo,
            actor=actor,
            data={
                # An installer with an open offer reads the name: no customer data in it.
                "name": "EV charger in Oslo",
                "address": address,
                "city": "Oslo",
                "postal_code": postal,
                "country_code": "NO",
                "latitude": lat,
                "longitude": lng,
                "email": f"{name.split()[0].lower()}@example.com",
                "phone_number": phone,
                "contact_person_name": name,
                "workflow_custom_id": "installation",
                "custom_fields": [{"customId": "charger_type", "value": "11 kW"}],
                "idempotency_key": key,
            },
        )


def _walk(order: Order, target: str, demo: Organization, installers: list[Organization], day: int) -> None:
    """Moves a fresh demo order to `target` through the same services the API uses."""
    operator = Actor.system("seed_demo")
    if target == "declined":
        services.order_dispatch(order_id=order.pk, organization=demo, actor=operator, installer_id=installers[2].pk)
    else:
        services.order_dispatch(order_id=order.pk, organization=demo, actor=operator)
    offer = Offer.objects.select_related("installer").filter(order=order, status="sent").order_by("rank").first()
    if offer is None:
        return
    installer = offer.installer
    membership = installer.memberships.filter(role=Role.ADMIN).select_related("user").order_by("pk").first()
    if membership is None:
        return
    user = membership.user
    as_installer = Actor.for_user(user)
    if target == "dispatching":
        return
    if target == "declined":
        services.offer_decline(offer_id=offer.pk, installer=installer, actor=as_installer, reason="Fully booked.")
        return
    services.offer_accept(offer_id=offer.pk, installer=installer, actor=as_installer)
    local = timezone.now().astimezone(zone_of(demo)).replace(hour=8, minute=0, second=0, microsecond=0)
    start = local + datetime.timedelta(days=day)
    services.order_book(
        order_id=order.pk,
        organization=installer,
        actor=as_installer,
        start_at=start,
        end_at=start + datetime.timedelta(hours=3),
    )
    if target == "scheduled":
        return
    services.order_start(order_id=order.pk, organization=installer, actor=as_installer)
    if target == "in_progress":
        return
    order.refresh_from_db()
    for step in ("site-photos",):
        if order.current_step and order.current_step.key == step:
            order_services.workflow_step_complete(
                order_id=order.pk, organization=None, step_key=step, actor=as_installer
            )
    services.order_complete(
        order_id=order.pk, organization=installer, actor=as_installer, comment="Charger installed and tested."
    )


# demo order key -> status it is walked to (keys from orders.demo; demo-4 is cancelled there)
WALKS = {
    "demo-1": ("completed", -2),
    "demo-2": ("in_progress", 0),
    "demo-3": ("scheduled", 2),
    "demo-5": ("dispatching", 0),
    "demo-7": ("declined", 0),
    # demo-6 stays created
}


def _assign_technicians(demo: Organization, installers: list[Organization]) -> None:
    """Each installer's first scheduled demo job goes to its technician (by its admin), unless
    a job of the installer already has an assignee."""
    for installer in installers:
        if Order.objects.filter(organization=demo, installer=installer, assignee__isnull=False).exists():
            continue
        job = (
            Order.objects.filter(organization=demo, installer=installer, status=OrderStatus.SCHEDULED)
            .order_by("created_at", "id")
            .first()
        )
        admin = installer.memberships.filter(role=Role.ADMIN).select_related("user").order_by("pk").first()
        technician = installer.memberships.filter(role=Role.TECHNICIAN).select_related("user").order_by("pk").first()
        if job is None or admin is None or technician is None:
            continue
        services.order_assign(
            order_id=job.pk,
            organization=installer,
            actor=Actor.for_user(admin.user),
            role=admin.role,
            assignee=technician.user,
        )


def seed(*, demo: Organization, other: Organization, stdout, quiet: bool) -> None:
    installers = _installers(stdout, quiet)
    _partnerships(demo, installers)
    if demo.offer_deadline_hours == 24 and not demo.deadline_skips_weekends:
        demo.offer_deadline_hours = 48
        demo.deadline_skips_weekends = True
        demo.save(update_fields=["offer_deadline_hours", "deadline_skips_weekends"])
    _extra_orders(demo, Actor.system("seed_demo"))
    for key, (target, day) in WALKS.items():
        order = Order.objects.filter(organization=demo, idempotency_key=key).first()
        if order is None or order.status != OrderStatus.CREATED or order.dispatch_runs.exists():
            continue
        _walk(order, target, demo, installers, day)
    _assign_technicians(demo, installers)
    if not quiet:
        stdout.write(
            "  Installer API logins: installer-oslo, installer-fjord, installer-nordic (admins) / "
            f"{DEMO_PASSWORD}  (tokens: make tokens)"
        )
