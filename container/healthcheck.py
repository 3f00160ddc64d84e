"""The image's HEALTHCHECK: GET /healthz of the web role, from inside the container.

It asks gunicorn on the port it binds (GUNICORN_BIND, else PORT) with a Host header that
ALLOWED_HOSTS accepts, so the check passes with the production settings of docs/deploying.md.
A container of another role (the worker: no HTTP server) is healthy while its process runs.
Exit 0: healthy, 1: unhealthy. Standard library only (no curl in the image).
"""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path


def runs_gunicorn() -> bool:
    """Whether gunicorn runs in this container (PID 1, or under an init such as `--init`)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"gunicorn" in cmdline.read_bytes():
                return True
        except OSError:  # the process ended meanwhile
            continue
    return False


def main() -> int:
    if not runs_gunicorn():
        return 0
    bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
    port = bind.rsplit(":", 1)[-1] if ":" in bind and not bind.startswith("unix:") else "8000"
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = next((h for h in hosts if h not in {"*"} and not h.startswith(".")), "localhost")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 (fixed http URL)
            return 0 if response.status == 200 else 1
    except Exception as exc:  # any failure is unhealthy
        print(f"/healthz: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
