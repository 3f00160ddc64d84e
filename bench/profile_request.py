"""Profiles one API path in-process with cProfile against a seeded bench database (see bench/README.md):

python bench/profile_request.py "/api/v1/order/{id}" 300 cumulative|tottime
python bench/profile_request.py "/api/v1/order?pageSize=50&status=1&tagId={tag}" 300 tottime
python bench/profile_request.py "POST /api/v1/order" 300 tottime          # Create Order (bench's body)
python bench/profile_request.py "POST /api/v1/order/{created}/cancel" 300 tottime

Prints the time per request without the profiler first, then the profile.
"""

import cProfile
import io
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.update(
    {
        "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/installer_bench_10000"),
        "DEBUG": "0",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "testserver",
        "SECURE_COOKIES": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "installer.settings",
        "STATIC_MANIFEST": "0",
        "API_RATE_LIMIT": "",
    }
)
import django  # noqa: E402

django.setup()
from django.test import Client  # noqa: E402

from orders import services  # noqa: E402
from orders.models import Membership, Order, Organization, Role  # noqa: E402

org = Organization.objects.get(slug="demo")
m = Membership.objects.filter(organization=org, role=Role.ADMIN).first()
_, token = services.api_token_create(membership=m, name="prof")
ids = list(Order.objects.filter(organization=org).values_list("id", flat=True)[:300])
c = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
path = sys.argv[1]


from orders.models import OrderTag  # noqa: E402

tag = OrderTag.objects.filter(organization=org).order_by("name").first()


# Created orders without the List rows' tag, and not those of the benchmark's Create rows (dated
# now), as bench/run.py takes them: dispatched, they would join the status+tag list it reads.
created = list(
    Order.objects.filter(organization=org, status=0)
    .exclude(name="Bench order")
    .exclude(tagged_items__tag=tag)
    .values_list("id", flat=True)[:2000]
)
run = time.time_ns()


def req(i):
    p = path.replace("{id}", str(ids[i % len(ids)])).replace("{tag}", str(tag.pk if tag else ""))
    if p.startswith("POST "):
        p = p[5:].replace("{created}", str(created.pop()) if "{created}" in p else "")
        body = {}
        if p.rstrip("/").endswith("/api/v1/order"):
            body = {
                "name": "Bench order", "address": f"Storgata {i % 200 + 1}", "city": "Oslo", "postalCode": "0155",
                "countryCode": "NO", "email": f"b{i}@example.com", "phoneNumber": "+4791234567",
                "contactPersonName": "Bench Customer", "workflowCustomId": "installation",
                "customFields": [{"customId": "charger_type", "value": "11 kW"}], "metadata": {"erpId": "x"},
                "idempotencyKey": f"profile-{run}-{i}",
            }  # fmt: skip
        r = c.post(p, body, content_type="application/json")
        assert r.status_code in (200, 201), r.content[:300]
        return
    r = c.get(p)
    assert r.status_code == 200, r.content[:300]


for i in range(20):
    req(i)
n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
t, cpu = time.perf_counter(), time.process_time()
for i in range(1000, 1000 + n):
    req(i)
plain = (time.perf_counter() - t) * 1000 / n
cpu = (time.process_time() - cpu) * 1000 / n
print(
    f"{path}: {plain:.2f} ms per request without the profiler (in-process, one thread), "
    f"{cpu:.2f} ms of it this process's CPU (the rest: waiting for PostgreSQL)"
)
t = time.perf_counter()
pr = cProfile.Profile()
pr.enable()
for i in range(2000, 2000 + n):
    req(i)
pr.disable()
if os.environ.get("PROFILE_OUT"):
    pr.dump_stats(os.environ["PROFILE_OUT"])
el = time.perf_counter() - t
print(f"{path}: {n / el:.0f} req/s single thread (profiled)")
s = io.StringIO()
pstats.Stats(pr, stream=s).sort_stats(sys.argv[3] if len(sys.argv) > 3 else "cumulative").print_stats(60)
print(s.getvalue()[:7000])
