"""Seeds N orders fast with PostgreSQL COPY: orders with tags, custom field values and timeline
events, spread over the last year, in every status. Run through bench/run.py, or:

    DATABASE_URL=postgres://... python bench/seed.py --orders 1000000

Columns are taken from the models, so a new field with a default does not break the seeder.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "installer.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Model  # noqa: E402

from orders.models import Order, OrderEvent, OrderStatus, OrderTag, TaggedOrder, Workflow  # noqa: E402

Organization = Order._meta.get_field("organization").related_model

POSTAL = ["0154", "0184", "0366", "0555", "0554", "0250", "0460", "0171", "0358", "0480"]
CITIES = ["Oslo"]
STATUS_WEIGHTS = [
    (OrderStatus.CREATED, 20),
    (OrderStatus.DISPATCHING, 15),
    (OrderStatus.SCHEDULED, 15),
    (OrderStatus.IN_PROGRESS, 5),
    (OrderStatus.COMPLETED, 35),
    (OrderStatus.DECLINED, 3),
    (OrderStatus.CANCELLED, 7),
]


def _fields(model: type[Model]) -> list:
    """Concrete fields without auto-increment keys (the database numbers those)."""
    return [f for f in model._meta.concrete_fields if f.get_internal_type() not in ("AutoField", "BigAutoField")]


def _prep(model: type[Model], values: dict) -> list:
    row = []
    for field in _fields(model):
        if field.attname in values:
            value = values[field.attname]
        elif field.has_default():
            value = field.get_default()
        elif field.null:
            value = None
        else:
            value = "" if field.get_internal_type() in ("CharField", "TextField", "SlugField", "EmailField") else None
        value = field.get_db_prep_value(value, connection, prepared=False)
        if hasattr(value, "dumps"):  # psycopg Jsonb adapter from JSONField
            value = value.dumps(value.obj)
        elif isinstance(value, (dict, list)):
            value = json.dumps(value)
        row.append(value)
    return row


def _columns(model: type[Model]) -> str:
    return ", ".join(f'"{f.column}"' for f in _fields(model))


def seed(n: int, organization_slug: str = "demo", batch: int = 50_000, status: int | None = None) -> None:
    org: Any = Organization._default_manager.get(slug=organization_slug)
    workflow = Workflow.objects.get(organization=org, custom_id="installation")
    defs = {d.custom_id: str(d.id) for d in workflow.custom_fields.all()}
    tags = list(OrderTag.objects.filter(organization=org))
    start_number = org.order_counter
    rng = random.Random(42)
    statuses = [s for s, w in STATUS_WEIGHTS for _ in range(w)] if status is None else [status]
    # Fresh orders for Dispatch and Cancel (--status) carry no tag: the filtered list the
    # benchmark reads (status + tag) stays the seeded one.
    fresh = status is not None
    # ...and they are dated in the year before the seeded one: once Dispatch has moved them to
    # status 1, they sit behind every seeded order of the status+tag list (newest first), so
    # every run's List rows read the same pages, whatever the runs before it wrote.
    fresh_offset_days = 366 if fresh else 0
    now = datetime.datetime.now(datetime.UTC)
    started = time.monotonic()
    raw = connection.cursor().connection  # psycopg connection
    order_sql = f'COPY "{Order._meta.db_table}" ({_columns(Order)}) FROM STDIN'
    tag_sql = f'COPY "{TaggedOrder._meta.db_table}" ({_columns(TaggedOrder)}) FROM STDIN'
    event_sql = f'COPY "{OrderEvent._meta.db_table}" ({_columns(OrderEvent)}) FROM STDIN'
    done = 0
    with transaction.atomic():
        while done < n:
            size = min(batch, n - done)
            orders, tagged, events = [], [], []
            for i in range(size):
                number = start_number + done + i + 1
                created = now - datetime.timedelta(
                    days=fresh_offset_days,
                    seconds=rng.randint(0, 365 * 24 * 3600),
                    microseconds=rng.randint(0, 999_999),
                )
                status = rng.choice(statuses)
                oid = uuid.uuid4()
                orders.append(
                    _prep(
                        Order,
                        {
                            "id": oid,
                            "organization_id": org.pk,
                            "number": number,
                            "display_id": f"{org.display_id_prefix}-{number}",
                            "workflow_id": workflow.pk,
                            "status": int(status),
                            "name": f"EV charger #{number}",
                            "description": "Bench order",
                            "address": f"Benchgata {number % 300 + 1}",
                            "city": rng.choice(CITIES),
                            "postal_code": rng.choice(POSTAL),
                            "country_code": "NO",
                            "latitude": 59.9 + rng.random() / 20,
                            "longitude": 10.7 + rng.random() / 10,
                            "email": f"customer{number}@example.com",
                            "phone_number": f"+479{number % 10_000_000:07d}",
                            "contact_person_name": f"Customer {number}",
                            "custom_fields": {
                                defs["charger_type"]: rng.choice(["11 kW", "22 kW"]),
                                defs["cable_length_m"]: rng.randint(1, 30),
                            }
                            if defs
                            else {},
                            "metadata": {"erpId": f"B-{number}"},
                            "client_token": uuid.uuid4().hex,
                            "event_seq": 2,
                            "created_at": created,
                            "updated_at": created,
                            "source": "api",
                        },
                    )
                )
                if tags and not fresh:
                    tagged.append(_prep(TaggedOrder, {"content_object_id": oid, "tag_id": rng.choice(tags).pk}))
                events.append(
                    _prep(
                        OrderEvent,
                        {
                            "id": uuid.uuid4(),
                            "order_id": oid,
                            "organization_id": org.pk,
                            "sequence": 1,
                            "type": "order.created",
                            "to_status": 0,
                            "actor_type": "system",
                            "actor_label": "bench",
                            "data": {"source": "api"},
                            "created_at": created,
                        },
                    )
                )
                events.append(
                    _prep(
                        OrderEvent,
                        {
                            "id": uuid.uuid4(),
                            "order_id": oid,
                            "organization_id": org.pk,
                            "sequence": 2,
                            "type": "order.updated" if status == 0 else "order.dispatched",
                            "from_status": 0,
                            "to_status": int(status),
                            "actor_type": "system",
                            "actor_label": "bench",
                            "data": {},
                            "created_at": created,
                        },
                    )
                )
            with raw.cursor() as cur:
                for sql, rows in ((order_sql, orders), (tag_sql, tagged), (event_sql, events)):
                    if not rows:
                        continue
                    with cur.copy(sql) as copy:
                        for row in rows:
                            copy.write_row(row)
            done += size
            rate = done / (time.monotonic() - started)
            print(f"  seeded {done:>9,} orders ({rate:,.0f}/s)", flush=True)
        Organization._default_manager.filter(pk=org.pk).update(order_counter=start_number + n)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")  # the visibility map of a settled table: index-only scans
    print(f"  seeding took {time.monotonic() - started:.1f}s", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--org", default="demo")
    parser.add_argument("--status", type=int, default=None, help="only this status (fresh orders for Dispatch/Cancel)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/seed.py needs PostgreSQL (DATABASE_URL=postgres://...)")
    seed(args.orders, args.org, status=args.status)
