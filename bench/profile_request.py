"""Profiles one API path in-process with cProfile against a seeded bench database (see bench/README.md):

python bench/profile_request.py "/api/v1/order/{id}" 300 cumulative|tottime
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


def req(i):
    p = path.replace("{id}", str(ids[i % len(ids)]))
    r = c.get(p)
    assert r.status_code == 200, r.content[:300]


for i in range(20):
    req(i)
n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
t = time.perf_counter()
pr = cProfile.Profile()
pr.enable()
for i in range(n):
    req(i)
pr.disable()
el = time.perf_counter() - t
print(f"{path}: {n / el:.0f} req/s single thread (profiled)")
s = io.StringIO()
pstats.Stats(pr, stream=s).sort_stats(sys.argv[3] if len(sys.argv) > 3 else "cumulative").print_stats(60)
print(s.getvalue()[:7000])
