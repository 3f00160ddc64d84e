"""`manage.py seed_demo`: the demo data of every app, idempotent (run it as often as you like;
existing rows are kept). It lives in the back office, the app that may import all the others."""

from __future__ import annotations

import io
import os

from django.core.management.base import BaseCommand, OutputWrapper
from django.db import transaction

from backoffice import demo as backoffice_demo
from dispatch import demo as dispatch_demo
from notifications import demo as notifications_demo
from orders import demo as orders_demo
from partners import demo as partners_demo
from pricing import demo as pricing_demo
from webforms import demo as webforms_demo


class Command(BaseCommand):
    help = "Loads demo organizations, users, a workflow, tags, orders, installers and a webform (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true")

    @transaction.atomic
    def handle(self, *args, quiet=False, **options):
        demo, other = orders_demo.seed()
        # What the other apps print comes after the summary line.
        printed = io.StringIO()
        extra = OutputWrapper(printed)
        dispatch_demo.seed(demo=demo, other=other, stdout=extra, quiet=quiet)
        webforms_demo.seed(demo=demo, other=other, stdout=extra, quiet=quiet)
        backoffice_demo.seed(demo=demo, other=other, stdout=extra, quiet=quiet)
        notifications_demo.seed(demo=demo, stdout=extra, quiet=quiet)
        pricing_demo.seed(demo=demo, stdout=extra, quiet=quiet)
        port = os.environ.get("PORT") or "8000"  # `make run` passes its PORT
        partners_demo.seed(stdout=extra, quiet=quiet, port=port)
        if not quiet:
            password = orders_demo.DEMO_PASSWORD
            self.stdout.write(self.style.SUCCESS("Demo data ready."))
            self.stdout.write(f"  Admin login:    http://127.0.0.1:{port}/admin/  admin / {password}")
            self.stdout.write(f"  Operator login: operator / {password}   (other org: other-admin / {password})")
            self.stdout.write(printed.getvalue(), ending="")
