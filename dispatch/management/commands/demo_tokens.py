from django.core.management.base import BaseCommand

from dispatch.demo import DEMO_INSTALLERS
from orders import services
from orders.models import Membership, Role


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
            _, raw = services.api_token_create(membership=membership, name=f"{name} ({org_name})")
            self.stdout.write(f"  API token (installer {org_name}):  {raw}")
