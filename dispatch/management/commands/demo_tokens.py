from django.core.management.base import BaseCommand

from accounts import services as account_services
from accounts.models import Membership, Role
from dispatch.demo import DEMO_INSTALLERS


class Command(BaseCommand):
    help = "Prints one fresh API token per demo installer organization (run seed_demo first)."

    def add_arguments(self, parser):
        parser.add_argument("--name", default="make-run", help="token name shown in the timeline")

    def handle(self, *args, name: str = "make-run", **options):
        for slug, org_name, *_ in DEMO_INSTALLERS:
            membership = (
                Membership.objects.filter(organization__slug=slug, role=Role.ADMIN)
                .select_related("organization")
                .order_by("created_at", "id")
                .first()
            )
            if membership is None:
                continue
            _, raw = account_services.api_token_create(membership=membership, name=f"{name} ({org_name})")
            self.stdout.write(f"  API token (installer {org_name}):  {raw}")
