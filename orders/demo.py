"""Demo data of orders (called by `manage.py seed_demo`, idempotent): the demo and other
organizations, their staff users, the installation workflow, tags and five orders."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from accounts import services as account_services
from accounts.models import Organization, Role
from orders import services
from orders.actors import Actor
from orders.models import CustomFieldDefinition, FieldType, Order, OrderStatus, Workflow, WorkflowStep

DEMO_PASSWORD = "installer-demo"
# The demo router and its installers work in Oslo: times shown to people are in this zone.
DEMO_TIME_ZONE = "Europe/Oslo"

INSTALLATION_STEPS = [
    ("received", "Order received", OrderStatus.CREATED),
    ("find-installer", "Find an installer", OrderStatus.DISPATCHING),
    ("appointment", "Appointment booked", OrderStatus.SCHEDULED),
    ("site-photos", "Upload site photos", OrderStatus.IN_PROGRESS),
    ("done", "Done", OrderStatus.COMPLETED),
    ("no-installer", "No installer found", OrderStatus.DECLINED),
    ("cancelled", "Cancelled", OrderStatus.CANCELLED),
]

CUSTOM_FIELDS = [
    ("charger_type", "Charger type", FieldType.SELECT, True, ["11 kW", "22 kW"]),
    ("cable_length_m", "Cable length (m)", FieldType.NUMBER, False, []),
    ("has_parking", "Private parking space", FieldType.BOOLEAN, False, []),
    ("preferred_date", "Preferred date", FieldType.DATE, False, []),
    ("extras", "Extras", FieldType.MULTISELECT, False, ["Load balancing", "Cable holder", "Wall mount"]),
    ("notes", "Notes for the installer", FieldType.TEXT, False, []),
]

DEMO_ORDERS = [
    ("Ola Nordmann", "Karl Johans gate 1", "Oslo", "0154", "+4722123456", 59.9127, 10.7461),
    ("Kari Hansen", "Storgata 10", "Oslo", "0184", "+4791234567", 59.9150, 10.7520),
    ("Per Olsen", "Bogstadveien 50", "Oslo", "0366", "+4741234567", 59.9270, 10.7160),
    ("Ingrid Berg", "Thorvald Meyers gate 20", "Oslo", "0555", "+4792345678", 59.9230, 10.7590),
    ("Lars Johansen", "Markveien 35", "Oslo", "0554", "+4793456789", 59.9225, 10.7560),
]


def _organization(slug: str, name: str, **fields) -> Organization:
    org = Organization.objects.filter(slug=slug).first()
    return org or services.organization_create(name=name, slug=slug, **fields)


def seed() -> tuple[Organization, Organization]:
    """Returns the demo organization and the other one."""
    User = get_user_model()
    demo = _organization("demo", "Demo Energy AS", display_id_prefix="DEMO", time_zone=DEMO_TIME_ZONE)
    if demo.time_zone == "UTC":  # seeded before the demo had its zone
        demo.time_zone = DEMO_TIME_ZONE
        demo.save(update_fields=["time_zone"])
    other = _organization("other", "Other Retail GmbH", display_id_prefix="OTH")
    for username, org, role, staff in [
        ("admin", demo, Role.ADMIN, True),
        ("operator", demo, Role.OPERATOR, True),
        ("viewer", demo, Role.VIEWER, True),
        ("other-admin", other, Role.ADMIN, True),
    ]:
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": staff, "email": f"{username}@example.com"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        account_services.membership_ensure(user=user, organization=org, role=role)

    workflow = Workflow.objects.filter(organization=demo, custom_id="installation").first()
    if workflow is None:
        workflow = services.workflow_create(
            organization=demo,
            custom_id="installation",
            name="EV charger installation",
            description="Home charger: site check, installation, photos of the result.",
            steps=INSTALLATION_STEPS,
        )
        WorkflowStep.objects.filter(workflow=workflow, key="site-photos").update(required=True, actor="installer")
        # The customer books the appointment on their order page (the portal) or through the client API.
        WorkflowStep.objects.filter(workflow=workflow, key="appointment").update(actor="customer")
        for position, (cid, label, kind, required, options) in enumerate(CUSTOM_FIELDS):
            CustomFieldDefinition.objects.create(
                workflow=workflow,
                custom_id=cid,
                label=label,
                type=kind,
                required=required,
                options=options,
                position=position,
            )
    tags = services.order_tags_create(organization=demo, names=["VIP", "Urgent", "EV charger"])
    services.order_tags_create(organization=other, names=["Internal"])

    actor = Actor.system("seed_demo")
    for index, (name, address, city, postal, phone, lat, lng) in enumerate(DEMO_ORDERS, start=1):
        key = f"demo-{index}"
        if Order.all_objects.filter(organization=demo, idempotency_key=key).exists():  # deleted ones too
            continue
        order = services.order_create(
            organization=demo,
            actor=actor,
            data={
                # An installer with an open offer reads the name: no customer data in it.
                "name": f"EV charger in {city}",
                "description": "Customer wants the charger next to the garage door.",
                "address": address,
                "city": city,
                "postal_code": postal,
                "country_code": "NO",
                "latitude": lat,
                "longitude": lng,
                "email": f"{name.split()[0].lower()}@example.com",
                "phone_number": phone,
                "contact_person_name": name,
                "workflow_custom_id": "installation",
                "custom_fields": [
                    {"customId": "charger_type", "value": "11 kW" if index % 2 else "22 kW"},
                    {"customId": "cable_length_m", "value": 5 + index},
                    {"customId": "has_parking", "value": True},
                ],
                "order_tag_ids": [str(tags[index % len(tags)].pk)],
                "idempotency_key": key,
                "metadata": {"erpId": f"ERP-{1000 + index}"},
            },
        )
        if index == 4:
            services.order_cancel(
                order_id=order.pk,
                organization=demo,
                actor=actor,
                reason="customer_not_responding",
                comment="No answer after 3 calls.",
            )
    return demo, other
