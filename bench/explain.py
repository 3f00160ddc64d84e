"""Prints PostgreSQL's plan for every filter List Orders offers, on a seeded bench database, and
fails if any of them can only read the orders table with a sequential scan (where the planner
picks one on a small table, the plan is shown again with sequential scans off, and must then
use an index).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/installer_bench_10000 python bench/explain.py

The queries are the ones the API runs (built by orders.filters.OrderFilter and the keyset
pagination), for a first page of 50 and a deep cursor page. bench/run.py runs it after seeding.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "installer.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.http import QueryDict  # noqa: E402

from installer.api.pagination import encode_cursor  # noqa: E402
from orders import selectors  # noqa: E402
from orders.filters import OrderFilter  # noqa: E402
from orders.models import Order, OrderTag, Organization, Role  # noqa: E402


def plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> int:
    if connection.vendor != "postgresql":
        sys.exit("bench/explain.py needs PostgreSQL")
    org = Organization.objects.get(slug="demo")
    viewer = selectors.Viewer(organization=org, role=Role.ADMIN)
    tag = OrderTag.objects.filter(organization=org).order_by("name").first()
    some = Order.objects.filter(organization=org).order_by("created_at")[Order.objects.count() // 2 :][:1].get()
    cursor = encode_cursor(some.created_at, some.pk)
    filters = {
        "none": "",
        "status": "status=1",
        "status list": "status=0&status=1",
        "status+tagId": f"status=1&tagId={tag.pk}",
        "tagId": f"tagId={tag.pk}",
        "workflowId": f"workflowId={some.workflow_id}",
        "installerId": f"installerId={org.pk}",
        "postalCode": "postalCode=0154",
        "createdAfter": urlencode({"createdAfter": some.created_at.isoformat()}),
        "createdBefore": urlencode({"createdBefore": some.created_at.isoformat()}),
        "updatedSince": urlencode({"updatedSince": some.updated_at.isoformat()}),
        "q (text)": urlencode({"q": "Customer 12345"}),
        "q (display id)": urlencode({"q": some.display_id}),
    }
    failures = []
    for name, query in filters.items():
        for page in ("first page", "deep cursor"):
            data = QueryDict(query, mutable=True)
            filterset = OrderFilter(data, queryset=selectors.orders_visible_to(viewer))
            assert filterset.is_valid(), filterset.errors
            qs = filterset.qs.order_by("-created_at", "-id")
            if page == "deep cursor":
                from django.db.models import Q

                qs = qs.filter(
                    Q(created_at__lte=some.created_at),
                    Q(created_at__lt=some.created_at) | Q(created_at=some.created_at, id__lt=some.pk),
                )
            text = plan(qs[:51])
            seq = "Seq Scan on orders_order" in text
            print(f"== {name} ({page}){'  <-- sequential scan chosen' if seq else ''}\n{text}\n")
            if seq:
                # On a small table a sequential scan is the cheaper plan; what matters is that
                # an index exists for the filter: with sequential scans off, the plan must use it.
                with connection.cursor() as cursor:
                    cursor.execute("SET enable_seqscan = off")
                    try:
                        forced = plan(qs[:51])
                    finally:
                        cursor.execute("RESET enable_seqscan")
                print(f"   with enable_seqscan off:\n{forced}\n")
                if "Seq Scan on orders_order" in forced:
                    failures.append(f"{name} ({page})")
    print(f"cursor used for deep pages: {cursor}")
    if failures:
        print("sequential scans of orders:", ", ".join(failures))
        return 1
    print("no filter of List Orders scans the orders table sequentially")
    return 0


if __name__ == "__main__":
    sys.exit(main())
