"""The CPU time one process spends per request on the hot API paths, without HTTP, gunicorn or
wrk: Django's test client against a seeded bench database, with production settings.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/installer_bench_10000 \\
        .venv/bin/python bench/inprocess.py [--rows me,get,list,create,cancel,dispatch] [--profile] [--sql]

It measures what the app's own code costs (PostgreSQL's share is not in it) and moves little
with the machine's load, so it compares a fast path with its ORM version on a busy machine,
where `make bench` cannot. Cancel and Dispatch take one created order of the demo organization
per request (those `make bench` tops up); Create makes orders named "Bench order".
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "installer.settings")
os.environ.update({"DEBUG": "0", "ALLOWED_HOSTS": "testserver", "API_RATE_LIMIT": "off"})
os.environ.setdefault("SECRET_KEY", "bench-inprocess")

ROWS = ("me", "get", "list", "create", "cancel", "dispatch")
BODY = {
    "name": "Bench order",
    "address": "Storgata 1",
    "city": "Oslo",
    "postalCode": "0155",
    "countryCode": "NO",
    "email": "b@example.com",
    "phoneNumber": "+4791234567",
    "contactPersonName": "Bench Customer",
    "workflowCustomId": "installation",
    "customFields": [{"customId": "charger_type", "value": "11 kW"}],
    "metadata": {"erpId": "x"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated: " + ", ".join(ROWS))
    parser.add_argument("--requests", type=int, default=200, help="measured requests per row (list: a fifth)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's 40 costliest functions per row")
    parser.add_argument("--sql", action="store_true", help="print the statements of one request per row")
    parser.add_argument(
        "--sort", default="cumulative", choices=["cumulative", "tottime"], help="--profile's order (default cumulative)"
    )
    parser.add_argument("--dump", metavar="PREFIX", help="--profile also writes each row's stats to PREFIX-<row>.prof")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Organization
    from orders.models import Order, OrderTag

    org = Organization.objects.get(slug="demo")
    out = io.StringIO()
    call_command("create_api_token", "demo", "--name", "inprocess", stdout=out)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip()}")
    ids = list(Order.objects.filter(organization=org).values_list("id", flat=True)[:500])
    tag = OrderTag.objects.filter(organization=org).order_by("name").first()
    created = iter(Order.objects.filter(organization=org, status=0).order_by("created_at").values_list("id", flat=True))
    list_params: dict[str, Any] = {"status": "dispatching", "pageSize": 50, **({"tagId": str(tag.pk)} if tag else {})}
    calls = {
        "me": lambda i: client.get("/api/v1/me"),
        "get": lambda i: client.get(f"/api/v1/order/{ids[i % len(ids)]}"),
        "list": lambda i: client.get("/api/v1/order", list_params),
        "create": lambda i: client.post(
            "/api/v1/order", {**BODY, "idempotencyKey": str(uuid.uuid4())}, content_type="application/json"
        ),
        "cancel": lambda i: client.post(f"/api/v1/order/{next(created)}/cancel", {}, content_type="application/json"),
        "dispatch": lambda i: client.post(
            f"/api/v1/order/{next(created)}/dispatch", {}, content_type="application/json"
        ),
    }
    for name in args.rows.split(","):
        call = calls[name]
        n = max(1, args.requests // 5) if name == "list" else args.requests
        for i in range(20):  # warm-up: caches, the pool, the first compilations
            response = call(i)
            assert response.status_code in (200, 201), (name, response.status_code, response.content[:300])
        captures = [CaptureQueriesContext(connections[alias]) for alias in connections]
        for capture in captures:
            capture.__enter__()
        call(0)
        for capture in captures:
            capture.__exit__(None, None, None)
        statements = [q["sql"] for capture in captures for q in capture.captured_queries]
        started = time.process_time()
        for i in range(n):
            call(i)
        cpu = (time.process_time() - started) / n * 1000
        print(f"{name:9} {cpu:6.2f} ms CPU per request, {len(statements)} statements")
        if args.sql:
            for sql in statements:
                print("    ", sql[:300])
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for i in range(n):
                call(i)
            profile.disable()
            text = io.StringIO()
            pstats.Stats(profile, stream=text).sort_stats(args.sort).print_stats(40)
            print(text.getvalue())
            if args.dump:
                profile.dump_stats(f"{args.dump}-{name}.prof")


if __name__ == "__main__":
    main()
