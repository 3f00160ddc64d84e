"""The partner workspace's demo logins (printed by `manage.py seed_demo`). The people are made
in one place, dispatch.demo, with the demo installer companies: each gets a partner admin
(`oslo-admin`) and a technician (`oslo-tech`) with the demo password."""

from __future__ import annotations

from dispatch import demo as dispatch_demo
from orders.demo import DEMO_PASSWORD


def seed(*, stdout, quiet: bool, port: str = "8000") -> None:
    logins = dispatch_demo.partner_logins()
    if not quiet and logins:
        stdout.write(f"  Partner login:  http://127.0.0.1:{port}/partner/login/  {', '.join(logins)} / {DEMO_PASSWORD}")
