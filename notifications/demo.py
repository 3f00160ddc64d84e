"""Demo notifications (`seed_demo`): the demo organization speaks Norwegian (its language is
nb) and each of its workflows gets the default rules, in nb and en. Idempotent: a rule whose
name exists on the workflow is left as it is."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from accounts.models import Organization
from notifications import services
from notifications.models import Channel, Notification, Timing
from orders.models import Workflow

SIGNATURE_NB = "\n\nVennlig hilsen\n{{organization.name}}"
SIGNATURE_EN = "\n\nKind regards\n{{organization.name}}"


def _rules(offer_hours: int) -> list[dict[str, Any]]:
    about_to_expire = max(offer_hours - 4, 1)
    return [
        {
            "name": "Forespørsel mottatt",
            "trigger_event": "order.created",
            "channel": Channel.CUSTOMER_EMAIL,
            "templates": {
                "nb": {
                    "subject": "Vi har mottatt forespørselen din ({{order.displayId}})",
                    "body": "Hei {{customer.name}},\n\nTakk! Vi har mottatt forespørselen din om installasjon på "
                    "{{order.address}}, {{order.postalCode}} {{order.city}}.\n\nFølg bestillingen her: {{trackingUrl}}"
                    + SIGNATURE_NB,
                },
                "en": {
                    "subject": "We have received your request ({{order.displayId}})",
                    "body": "Hello {{customer.name}},\n\nThank you! We have received your installation request for "
                    "{{order.address}}, {{order.postalCode}} {{order.city}}.\n\nFollow your order here: {{trackingUrl}}"
                    + SIGNATURE_EN,
                },
            },
        },
        {
            "name": "Installatør tildelt",
            "trigger_event": "order.assigned",
            "channel": Channel.CUSTOMER_EMAIL,
            "templates": {
                "nb": {
                    "subject": "{{installer.name}} skal utføre installasjonen ({{order.displayId}})",
                    "body": "Hei {{customer.name}},\n\n{{installer.name}} tar jobben og kontakter deg for å avtale tid."
                    "{{#if installer.phone}} Telefon: {{installer.phone}}.{{/if}}\n\nBestillingen din: {{trackingUrl}}"
                    + SIGNATURE_NB,
                },
                "en": {
                    "subject": "{{installer.name}} will do your installation ({{order.displayId}})",
                    "body": "Hello {{customer.name}},\n\n{{installer.name}} takes the job and will contact you to agree "
                    "on a time.{{#if installer.phone}} Phone: {{installer.phone}}.{{/if}}\n\nYour order: {{trackingUrl}}"
                    + SIGNATURE_EN,
                },
            },
        },
        *[
            {
                "name": name,
                "trigger_event": event,
                "channel": Channel.CUSTOMER_EMAIL,
                "attach_ics": True,
                "templates": {
                    "nb": {
                        "subject": f"{verb_nb}: {{{{booking.date}}}} kl. {{{{booking.time}}}} ({{{{order.displayId}}}})",
                        "body": "Hei {{customer.name}},\n\n"
                        f"{verb_nb}: {{{{booking.date}}}} kl. {{{{booking.time}}}}–{{{{booking.endTime}}}} "
                        "({{booking.zone}}) med {{installer.name}}. Kalenderfilen er vedlagt.\n\n"
                        "Bestillingen din: {{trackingUrl}}" + SIGNATURE_NB,
                    },
                    "en": {
                        "subject": f"{verb_en}: {{{{booking.date}}}} at {{{{booking.time}}}} ({{{{order.displayId}}}})",
                        "body": "Hello {{customer.name}},\n\n"
                        f"{verb_en}: {{{{booking.start}}}} to {{{{booking.endTime}}}} with {{{{installer.name}}}}. "
                        "The calendar file is attached.\n\nYour order: {{trackingUrl}}" + SIGNATURE_EN,
                    },
                },
            }
            for name, event, verb_nb, verb_en in (
                ("Time bestilt", "booking.created", "Timen din er bestilt", "Your appointment is booked"),
                ("Time flyttet", "booking.updated", "Timen din er flyttet", "Your appointment has moved"),
            )
        ],
        {
            "name": "Påminnelse dagen før",
            "trigger_event": "booking.created",
            "timing": Timing.BEFORE_BOOKING,
            "offset_value": 1,
            "offset_unit": "days",
            "channel": Channel.CUSTOMER_EMAIL,
            "templates": {
                "nb": {
                    "subject": "Påminnelse: installasjon i morgen kl. {{booking.time}}",
                    "body": "Hei {{customer.name}},\n\nPåminnelse: {{installer.name}} kommer {{booking.date}} kl. "
                    "{{booking.time}} ({{booking.zone}}) til {{order.address}}.\n\nMå du endre tiden? {{trackingUrl}}"
                    + SIGNATURE_NB,
                },
                "en": {
                    "subject": "Reminder: installation tomorrow at {{booking.time}}",
                    "body": "Hello {{customer.name}},\n\nA reminder: {{installer.name}} comes on {{booking.start}} to "
                    "{{order.address}}.\n\nNeed another time? {{trackingUrl}}" + SIGNATURE_EN,
                },
            },
        },
        {
            "name": "Påminnelse dagen før (SMS)",
            "trigger_event": "booking.created",
            "timing": Timing.BEFORE_BOOKING,
            "offset_value": 1,
            "offset_unit": "days",
            "channel": Channel.CUSTOMER_SMS,
            "templates": {
                "nb": {
                    "subject": "",
                    "body": "Påminnelse: {{installer.name}} kommer {{booking.date}} kl. {{booking.time}}. {{trackingUrl}}",
                },
                "en": {"subject": "", "body": "Reminder: {{installer.name}} comes {{booking.start}}. {{trackingUrl}}"},
            },
        },
        {
            "name": "Jobben er fullført",
            "trigger_event": "order.completed",
            "channel": Channel.CUSTOMER_EMAIL,
            "templates": {
                "nb": {
                    "subject": "Installasjonen er fullført ({{order.displayId}})",
                    "body": "Hei {{customer.name}},\n\n{{installer.name}} har fullført installasjonen. Takk for at du "
                    "valgte oss!\n\nBestillingen din: {{trackingUrl}}" + SIGNATURE_NB,
                },
                "en": {
                    "subject": "Your installation is complete ({{order.displayId}})",
                    "body": "Hello {{customer.name}},\n\n{{installer.name}} has completed the installation. Thank you!"
                    "\n\nYour order: {{trackingUrl}}" + SIGNATURE_EN,
                },
            },
        },
        {
            "name": "Tilbud sendt",
            "trigger_event": "quote.sent",
            "channel": Channel.CUSTOMER_EMAIL,
            "templates": {
                "nb": {
                    "subject": "Du har fått et tilbud ({{order.displayId}})",
                    "body": "Hei {{customer.name}},\n\nVi har sendt deg et tilbud på jobben. Se det, velg eventuelle "
                    "tillegg og godta eller avslå det på bestillingssiden din: {{trackingUrl}}" + SIGNATURE_NB,
                },
                "en": {
                    "subject": "You have a quote ({{order.displayId}})",
                    "body": "Hello {{customer.name}},\n\nWe have sent you a quote for the job. See it, pick any "
                    "extras and accept or reject it on your order page: {{trackingUrl}}" + SIGNATURE_EN,
                },
            },
        },
        {
            "name": "Ny jobbforespørsel (partner)",
            "trigger_event": "offer.sent",
            "channel": Channel.PARTNER_EMAIL,
            "templates": {
                "nb": {
                    "subject": "Ny jobbforespørsel {{order.displayId}} i {{order.city}}",
                    "body": "Hei {{installer.name}},\n\n{{organization.name}} tilbyr dere jobben {{order.displayId}} "
                    "i {{order.postalCode}} {{order.city}}. Svar innen {{offer.expiresAt}} i partnerportalen."
                    + SIGNATURE_NB,
                },
                "en": {
                    "subject": "New job offer {{order.displayId}} in {{order.city}}",
                    "body": "Hello {{installer.name}},\n\n{{organization.name}} offers you the job {{order.displayId}} "
                    "in {{order.postalCode}} {{order.city}}. Answer by {{offer.expiresAt}} in the partner workspace."
                    + SIGNATURE_EN,
                },
            },
        },
        {
            "name": "Jobbforespørsel utløper snart (partner)",
            "trigger_event": "offer.sent",
            "timing": Timing.AFTER,
            "offset_value": about_to_expire,
            "offset_unit": "hours",
            "channel": Channel.PARTNER_EMAIL,
            "templates": {
                "nb": {
                    "subject": "Jobbforespørselen {{order.displayId}} utløper snart",
                    "body": "Hei {{installer.name}},\n\nForespørselen om jobben {{order.displayId}} utløper "
                    "{{offer.expiresAt}}. Svar i partnerportalen før den går videre til neste installatør."
                    + SIGNATURE_NB,
                },
                "en": {
                    "subject": "The job offer {{order.displayId}} expires soon",
                    "body": "Hello {{installer.name}},\n\nThe offer of job {{order.displayId}} expires "
                    "{{offer.expiresAt}}. Answer in the partner workspace before it goes to the next installer."
                    + SIGNATURE_EN,
                },
            },
        },
        *(
            {
                "name": name,
                "trigger_event": event,
                "timing": Timing.ON_CHANGE,
                "channel": channel,
                "templates": {
                    "nb": {
                        "subject": f"{subject_nb} {{{{order.displayId}}}}",
                        "body": f"Kunden ba om {what_nb} for {{{{order.displayId}}}} ({{{{order.address}}}}, "
                        "{{order.city}}). Se ordren og ta kontakt med kunden." + SIGNATURE_NB,
                    },
                    "en": {
                        "subject": f"{subject_en} {{{{order.displayId}}}}",
                        "body": f"The customer asked {what_en} for {{{{order.displayId}}}} ({{{{order.address}}}}, "
                        "{{order.city}}). See the order and get in touch with the customer." + SIGNATURE_EN,
                    },
                },
            }
            for event, subject_nb, subject_en, what_nb, what_en in (
                (
                    "customer.reschedule_requested",
                    "Kunden vil flytte",
                    "The customer wants to reschedule",
                    "en ny tid",
                    "for a new time",
                ),
                (
                    "customer.cancel_requested",
                    "Kunden vil avbestille",
                    "The customer wants to cancel",
                    "å avbestille",
                    "to cancel",
                ),
            )
            for name, channel in (
                (f"{subject_nb} (partner)", Channel.PARTNER_EMAIL),
                (f"{subject_nb} (kundeservice)", Channel.ROUTER_EMAIL),
            )
        ),
    ]


def seed(*, demo: Organization, stdout: Any, quiet: bool = False) -> int:
    """Sets the demo's language to nb and its workflows' default rules. Returns how many rules
    it created."""
    if demo.language != "nb" or not demo.email:
        demo.language = "nb"
        demo.email = demo.email or "kundeservice@demo.example"  # where the customer's requests go
        demo.save(update_fields=["language", "email"])
    created = 0
    for workflow in Workflow.objects.filter(organization=demo):
        existing = set(Notification.objects.filter(workflow=workflow).values_list("name", flat=True))
        for spec in _rules(int(workflow.routing("offer_deadline_hours") or 24)):
            if spec["name"] in existing:
                continue
            services.notification_create(organization=demo, workflow=workflow, **spec)
            created += 1
    if not quiet:
        backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2]
        where = settings.EMAIL_FILE_PATH if backend == "filebased" else backend
        stdout.write(f"  Mail (EMAIL_URL):  {where}   SMS: {settings.SMS_BACKEND.rsplit('.', 1)[-1]}\n")
    return created
