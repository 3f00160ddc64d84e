"""Prints PostgreSQL's plan of every query List Orders runs for each of its filters, on a seeded
bench database, and fails if any of them can only read the orders table with a sequential scan
(where the planner picks one on a small table, the plan is shown again with sequential scans
off, and must then use an index).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/installer_bench_10000 python bench/explain.py

The queries are the ones the API runs: each filter is requested from GET /api/v1/order in this
process (a first page of 50, then a page at a cursor halfway down the organization's orders)
and every query of that request that reads the orders table is explained. bench/run.py runs it
after seeding and keeps its output beside the results.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "installer.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "localhost")
os.environ.setdefault("API_RATE_LIMIT", "off")

ORDERS_TABLE = '"orders_order"'


def plan(cursor, sql: str) -> str:
    cursor.execute("EXPLAIN " + sql)
    return "\n".join(row[0] for row in cursor.fetchall())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--org", default="demo", help="slug of the organization whose orders are listed")
    args = parser.parse_args()

    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from installer.api.pagination import encode_cursor
    from orders.models import Order, OrderTag

    if connection.vendor != "postgresql":
        sys.exit("bench/explain.py needs PostgreSQL")
    out = io.StringIO()
    call_command("create_api_token", args.org, "--name", "bench-explain", stdout=out)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip()}", HTTP_HOST="localhost")

    tag = OrderTag.objects.filter(organization__slug=args.org).order_by("name").first()
    orders = Order.objects.filter(organization__slug=args.org).order_by("created_at", "id")
    some = orders[orders.count() // 2 :][:1].get()
    deep = encode_cursor(some.created_at, some.pk)
    filters: dict[str, dict[str, str | list[str]]] = {
        "none": {},
        "status": {"status": "1"},
        "status list": {"status": ["0", "1"]},
        "tagId": {"tagId": str(tag.pk)} if tag else {},
        "status+tagId": {"status": "1", "tagId": str(tag.pk)} if tag else {"status": "1"},
        "workflowId": {"workflowId": str(some.workflow_id)},
        "installerId": {"installerId": str(some.organization_id)},
        "postalCode": {"postalCode": "0154"},
        "createdAfter": {"createdAfter": some.created_at.isoformat()},
        "createdBefore": {"createdBefore": some.created_at.isoformat()},
        "updatedSince": {"updatedSince": some.updated_at.isoformat()},
        "q (text)": {"q": "Customer 12345"},
        "q (display id)": {"q": some.display_id},
    }
    failures = []
    with connection.cursor() as cursor:
        for name, params in filters.items():
            for page, extra in (("first page", {}), ("deep cursor", {"cursor": deep})):
                query = urlencode({"pageSize": 50, **params, **extra}, doseq=True)
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(f"/api/v1/order?{query}")
                if response.status_code != 200:
                    print(f"== {name} ({page}): HTTP {response.status_code} {response.content[:300]!r}")
                    failures.append(f"{name} ({page})")
                    continue
                statements = [
                    q["sql"]
                    for q in captured.captured_queries
                    if q["sql"].startswith("SELECT") and ORDERS_TABLE in q["sql"]
                ]
                for sql in statements:
                    text = plan(cursor, sql)
                    seq = "Seq Scan on orders_order" in text
                    print(f"== {name} ({page}){'  <-- sequential scan chosen' if seq else ''}\n{sql}\n{text}\n")
                    if not seq:
                        continue
                    # On a small table a sequential scan is the cheaper plan; what matters is that
                    # an index exists for the filter: with sequential scans off, the plan must use it.
                    cursor.execute("SET enable_seqscan = off")
                    try:
                        forced = plan(cursor, sql)
                    finally:
                        cursor.execute("RESET enable_seqscan")
                    print(f"   with enable_seqscan off:\n{forced}\n")
                    if "Seq Scan on orders_order" in forced:
                        failures.append(f"{name} ({page})")
    print(f"cursor used for deep pages: {deep}")
    if failures:
        print("sequential scans of orders (or failed requests):", ", ".join(failures))
        return 1
    print("no filter of List Orders scans the orders table sequentially")
    return 0


if __name__ == "__main__":
    sys.exit(main())
