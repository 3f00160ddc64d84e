"""The client address that django-axes records for an admin login attempt."""

from __future__ import annotations

import ipaddress

from installer.throttling import client_ip


def login_client_ip(request) -> str | None:
    """`installer.throttling.client_ip` (so `TRUSTED_PROXY_COUNT` applies as for every limit),
    or None when the request carries no valid address (a login made in code, such as
    `Client.force_login`): axes stores the address in an `inet` column, which takes nothing else."""
    address = client_ip(request)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address
