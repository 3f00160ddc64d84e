"""Demo data for webforms (called by `manage.py seed_demo`, idempotent): a public form for the
demo organization's `installation` workflow at /f/demo-ev-charger/."""

from __future__ import annotations

from accounts.models import Organization
from orders.models import OrderTag, Workflow
from webforms.models import Webform

DEMO_SLUG = "demo-ev-charger"


def seed(*, demo: Organization, other: Organization, stdout=None, quiet: bool = False) -> Webform | None:
    workflow = Workflow.objects.filter(organization=demo, custom_id="installation").first()
    if workflow is None:
        return None
    webform = Webform.objects.filter(slug=DEMO_SLUG).first()
    if webform is None:
        webform = Webform(
            organization=demo,
            workflow=workflow,
            slug=DEMO_SLUG,
            name="EV charger (website)",
            title="Get your EV charger installed",
            intro="Tell us where you want the charger and how to reach you. "
            "We find a certified installer near you, usually within two working days.",
            standard_fields={"countryCode": "required", "workplace": "hidden", "description": "optional"},
            default_country_code="NO",
            multiline_fields=["notes"],
            allow_photo=True,
            success_text="We will now find a certified installer near you. The installer calls you within "
            "two working days to agree a date for the installation.",
        )
        webform.full_clean()
        webform.save()
        tag = OrderTag.objects.filter(organization=demo, name__iexact="EV charger").first()
        if tag is not None:
            webform.default_tags.add(tag)
    if not quiet and stdout is not None:
        stdout.write(f"  Demo webform:   {webform.public_url}")
    return webform
