from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.exceptions import InvalidRole
from accounts.models import Membership, Organization, Role


class Command(BaseCommand):
    help = (
        "Creates an API token for a member of an organization and prints it (and nothing else) on stdout. "
        "A token acts with its membership's role; minting one never changes an existing membership."
    )

    def add_arguments(self, parser):
        parser.add_argument("organization", help="organization slug")
        parser.add_argument("--user", help="username (default: the organization's first admin)")
        parser.add_argument(
            "--role",
            choices=Role.values,
            help=(
                "the role the token must act with: it must be the member's role (else an error, nothing "
                "changes); for a --user who is not a member yet, the new membership's role (default operator)"
            ),
        )
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
                try:
                    membership = services.membership_ensure(user=account, organization=org, role=role or Role.OPERATOR)
                except InvalidRole as exc:
                    raise CommandError(exc.message) from None
        else:
            membership = (
                Membership.objects.filter(organization=org, role=Role.ADMIN)
                .select_related("user")
                .order_by("created_at", "id")
                .first()
            )
            if membership is None:
                raise CommandError(f"Organization '{organization}' has no admin; pass --user.")
        if role and membership.role != role:
            raise CommandError(self._role_mismatch(org, membership, role, default_user=not user))
        _, raw = services.api_token_create(membership=membership, name=name, test=test)
        self.stdout.write(raw)

    @staticmethod
    def _role_mismatch(org: Organization, membership: Membership, role: str, *, default_user: bool) -> str:
        username = membership.user.get_username()
        who = (
            f"'{username}' (the first admin of '{org.slug}', used without --user)" if default_user else f"'{username}'"
        )
        members = list(
            Membership.objects.filter(organization=org, role=role)
            .order_by("created_at", "id")
            .values_list("user__username", flat=True)[:3]
        )
        if members:
            choice = f"pass --user with a {role} of '{org.slug}' ({', '.join(members)})"
        else:
            choice = f"pass --user with a user who is not yet a member of '{org.slug}' (it joins as {role})"
        return (
            f"{who} is {membership.role} in '{org.slug}', not {role}; a token acts with its membership's role "
            f"and minting one never changes it. For a {role} token, {choice}, or change the membership's role "
            "in the admin first. Nothing was changed."
        )
