from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import Membership, Organization, Role


class Command(BaseCommand):
    help = "Creates an API token for a member of an organization and prints it (and nothing else) on stdout."

    def add_arguments(self, parser):
        parser.add_argument("organization", help="organization slug")
        parser.add_argument("--user", help="username (default: the organization's first admin)")
        parser.add_argument("--role", choices=Role.values, help="set the membership's role (default: keep it)")
        parser.add_argument("--name", default="cli", help="token name shown in the timeline")
        parser.add_argument(
            "--test", action="store_true", help="test mode: the orders the token creates are test orders"
        )

    def handle(self, *args, organization, user=None, role=None, name="cli", test=False, **options):
        try:
            org = Organization.objects.get(slug=organization)
        except Organization.DoesNotExist:
            raise CommandError(f"No organization with slug '{organization}'.") from None
        if user:
            try:
                account = get_user_model().objects.get(username=user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user '{user}'.") from None
            membership = Membership.objects.filter(user=account, organization=org).first()
            if membership is None:
                membership = services.membership_ensure(user=account, organization=org, role=role or Role.OPERATOR)
        else:
            membership = (
                Membership.objects.filter(organization=org, role=Role.ADMIN).order_by("created_at", "id").first()
            )
            if membership is None:
                raise CommandError(f"Organization '{organization}' has no admin; pass --user.")
        if role and membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
        _, raw = services.api_token_create(membership=membership, name=name, test=test)
        self.stdout.write(raw)
