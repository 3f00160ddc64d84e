"""How much memory one upload costs the worker.

Streams a multipart body of SIZE_MB (default 20) from a file on disk into POST /api/v1/file in
this process (the same path a gunicorn worker runs) and reports:
- the peak of Python allocations during the request (tracemalloc), and
- the growth of the process's peak resident set (VmHWM, reset through /proc/self/clear_refs
  where the kernel allows it, else measured against the RSS before the request).

Run:  DEBUG=1 .venv/bin/python bench/upload_memory.py [SIZE_MB]
Uses a throwaway SQLite database and media directory under bench/.data/.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data" / "upload_memory"
sys.path.insert(0, str(ROOT))
shutil.rmtree(DATA, ignore_errors=True)
DATA.mkdir(parents=True)
os.environ.setdefault("DEBUG", "1")
os.environ["DATABASE_URL"] = f"sqlite:///{DATA / 'db.sqlite3'}"
os.environ["MEDIA_ROOT"] = str(DATA / "media")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "installer.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from orders.models import File, Role  # noqa: E402
from orders.tests import filekit  # noqa: E402
from orders.tests.factories import MembershipFactory, OrganizationFactory, make_token  # noqa: E402


def status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    call_command("migrate", verbosity=0)
    org = OrganizationFactory(name="Bench", slug="bench")
    token = make_token(MembershipFactory(organization=org, role=Role.OPERATOR))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    body = DATA / "body"
    content_type, length = filekit.write_multipart(body, filename="big.jpg", size=size_mb * 1024 * 1024)

    # Warm up imports, connections and caches with a small upload first.
    small = DATA / "small"
    ct_small, len_small = filekit.write_multipart(small, filename="small.jpg", size=64 * 1024)
    assert filekit.post_streamed(client, small, ct_small, len_small).status_code == 201

    rss_before = status_kb("VmRSS")
    peak_reset = reset_peak_rss()
    hwm_before = status_kb("VmHWM")
    tracemalloc.start()
    started = time.perf_counter()
    response = filekit.post_streamed(client, body, content_type, length)
    elapsed = time.perf_counter() - started
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    hwm_after = status_kb("VmHWM")
    assert response.status_code == 201, response.content
    stored = File.objects.get(pk=response.json()["id"])
    rss_growth = hwm_after - (hwm_before if peak_reset else rss_before)
    print(f"upload size:                {size_mb} MB ({stored.size} bytes stored, sha256 {stored.sha256[:12]}…)")
    print(f"time:                       {elapsed:.2f} s (with tracemalloc on)")
    print(f"python allocations, peak:   {py_peak / 1024:.0f} KB")
    print(f"peak RSS growth (VmHWM):    {rss_growth} KB{'' if peak_reset else ' (peak not resettable)'}")
    shutil.rmtree(DATA, ignore_errors=True)


if __name__ == "__main__":
    main()
