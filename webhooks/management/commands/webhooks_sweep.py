"""`manage.py webhooks_sweep`: one sweep pass now (for cron), or `--schedule` to start the
self-rescheduling sweep task on the worker (idempotent: does nothing if one is waiting)."""

from django.core.management.base import BaseCommand

from webhooks import services


class Command(BaseCommand):
    help = "Re-enqueue webhook deliveries whose task was lost; --schedule starts the periodic sweep task."

    def add_arguments(self, parser):
        parser.add_argument("--schedule", action="store_true", help="Queue the self-rescheduling sweep task.")

    def handle(self, *args, schedule: bool = False, **options):
        if schedule:
            queued = services.sweep_schedule()
            self.stdout.write("sweep task queued" if queued else "a sweep task is already waiting")
            return
        result = services.deliveries_sweep()
        self.stdout.write(f"reclaimed {result['reclaimed']}, enqueued {result['enqueued']}")
