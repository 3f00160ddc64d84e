from django.core.management.base import BaseCommand

from dispatch import services


class Command(BaseCommand):
    help = (
        "Safety sweep: expires every open offer past its deadline and offers the next candidate. "
        "The worker does this on time; run this from cron if tasks may have been lost."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500, help="at most this many offers per run")

    def handle(self, *args, limit: int = 500, **options):
        count = services.offers_expire_due(limit=limit)
        self.stdout.write(f"Expired {count} offer(s).")
